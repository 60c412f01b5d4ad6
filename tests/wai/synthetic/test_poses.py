"""look_at, orbits and walks: proper rotations, OpenCV axes, world up = -Y, seeded jitter."""

from __future__ import annotations

import numpy as np
import pytest

from wai.errors import WaiCameraError
from wai.synthetic import WORLD_UP, look_at, orbit_poses, trajectory_poses


def assert_proper(poses: np.ndarray) -> None:
    for pose in poses.reshape(-1, 4, 4):
        rot = pose[:3, :3]
        np.testing.assert_allclose(rot.T @ rot, np.eye(3), atol=1e-12)
        assert np.linalg.det(rot) == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_array_equal(pose[3], [0, 0, 0, 1])


@pytest.mark.parametrize(
    ("eye", "target"),
    [
        ((0, 0, 0), (0, 0, 5)),
        ((1, -2, 3), (-1, 0.5, 0)),
        ((4, -1.5, 0), (0, 0, 0)),
        ((0, -1, 0), (3, -1, -3)),
    ],
)
def test_look_at_is_a_proper_rotation_pointing_at_the_target(eye, target) -> None:
    pose = look_at(np.array(eye, float), np.array(target, float))
    assert_proper(pose)
    np.testing.assert_allclose(pose[:3, 3], eye)
    direction = np.subtract(target, eye) / np.linalg.norm(np.subtract(target, eye))
    np.testing.assert_allclose(pose[:3, 2], direction, atol=1e-12)
    # The target projects onto the optical axis: camera-frame coordinates (0, 0, distance).
    target_cam = pose[:3, :3].T @ (np.asarray(target, float) - pose[:3, 3])
    np.testing.assert_allclose(target_cam[:2], 0.0, atol=1e-12)
    assert target_cam[2] > 0
    # No roll: the camera's x axis is horizontal and its image "up" (-y) has a positive world-up component.
    assert pose[:3, 0] @ WORLD_UP == pytest.approx(0.0, abs=1e-12)
    assert -pose[:3, 1] @ WORLD_UP > 0


def test_identity_is_a_level_camera_looking_along_plus_z() -> None:
    np.testing.assert_allclose(look_at(np.zeros(3), np.array([0.0, 0.0, 1.0])), np.eye(4), atol=1e-12)


def test_look_at_rejects_degenerate_directions() -> None:
    with pytest.raises(WaiCameraError, match="parallel to up"):
        look_at(np.zeros(3), np.array([0.0, -3.0, 0.0]))
    with pytest.raises(WaiCameraError, match="same point"):
        look_at(np.ones(3), np.ones(3))


def test_orbit_poses_circle_the_centre_and_look_at_the_target() -> None:
    center = np.array([1.0, 0.0, -2.0])
    poses = orbit_poses(12, center, radius=3.0, height=1.5)
    assert poses.shape == (12, 4, 4)
    assert_proper(poses)
    eyes = poses[:, :3, 3]
    offsets = eyes - center
    np.testing.assert_allclose(np.hypot(offsets[:, 0], offsets[:, 2]), 3.0)
    np.testing.assert_allclose(offsets[:, 1], -1.5)  # 1.5 m above: up is -Y
    to_center = center - eyes
    np.testing.assert_allclose(poses[:, :3, 2], to_center / np.linalg.norm(to_center, axis=1, keepdims=True))
    target = np.array([0.0, -0.5, 0.0])
    aimed = orbit_poses(5, center, 3.0, 1.5, look_at_target=target)
    for pose in aimed:
        cam = pose[:3, :3].T @ (target - pose[:3, 3])
        np.testing.assert_allclose(cam[:2], 0.0, atol=1e-12)


def test_orbit_jitter_is_seeded() -> None:
    a = orbit_poses(6, np.zeros(3), 4.0, 1.0, jitter=0.05, seed=3)
    b = orbit_poses(6, np.zeros(3), 4.0, 1.0, jitter=0.05, seed=3)
    c = orbit_poses(6, np.zeros(3), 4.0, 1.0, jitter=0.05, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert_proper(a)


def test_trajectory_walks_and_turns() -> None:
    start, end = np.array([-2.0, -1.5, -1.0]), np.array([2.0, -1.5, -1.0])
    poses = trajectory_poses(9, start, end, yaw_start=0.5, yaw_end=-0.5)
    assert_proper(poses)
    np.testing.assert_allclose(poses[0, :3, 3], start)
    np.testing.assert_allclose(poses[-1, :3, 3], end)
    np.testing.assert_allclose(poses[4, :3, 3], (start + end) / 2)
    forward = poses[:, :3, 2]
    yaw = np.arctan2(forward[:, 0], forward[:, 2])
    np.testing.assert_allclose(yaw, np.linspace(0.5, -0.5, 9), atol=1e-12)
    np.testing.assert_allclose(forward[:, 1], 0.0, atol=1e-12)  # zero pitch: level cameras


def test_pose_counts_must_be_positive() -> None:
    with pytest.raises(WaiCameraError, match="n >= 1"):
        orbit_poses(0, np.zeros(3), 1.0, 1.0)
    with pytest.raises(WaiCameraError, match="n >= 1"):
        trajectory_poses(0, np.zeros(3), np.ones(3))
