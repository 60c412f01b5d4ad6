"""Pose conventions, rigid inversion, rotation checks and quaternions; includes the real 7-Scenes poses."""

from __future__ import annotations

import numpy as np
import pytest

from tests.realdata import REALDATA
from wai.camera import conventions as cv
from wai.errors import WaiCameraError

REDKITCHEN = REALDATA / "redkitchen_rgbd"


def _random_rotations(n: int, seed: int = 0) -> np.ndarray:
    q = np.random.default_rng(seed).normal(size=(n, 4))
    return cv.quaternion_to_rotation(q)


def _random_poses(n: int, seed: int = 0) -> np.ndarray:
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, :3, :3] = _random_rotations(n, seed)
    T[:, :3, 3] = np.random.default_rng(seed + 1).normal(size=(n, 3)) * 5
    return T


def test_gl_cv_flips_y_and_z_and_twice_is_identity():
    T = _random_poses(8)
    gl = cv.opencv_to_opengl(T)
    np.testing.assert_array_equal(gl[:, :3, 0], T[:, :3, 0])
    np.testing.assert_array_equal(gl[:, :3, 1:3], -T[:, :3, 1:3])
    np.testing.assert_array_equal(gl[:, :3, 3], T[:, :3, 3])
    np.testing.assert_array_equal(cv.opengl_to_opencv(gl), T)
    np.testing.assert_array_equal(cv.opengl_to_opencv(cv.opencv_to_opengl(T[0])), T[0])
    np.testing.assert_array_equal(gl, T @ cv.CONVENTION_TRANSFORMS["opencv2opengl"])


def test_apply_transform_returns_what_to_record():
    T = _random_poses(3)
    out, (name, matrix) = cv.apply_transform(T, "opengl2opencv")
    np.testing.assert_array_equal(matrix, np.diag([1.0, -1.0, -1.0, 1.0]))
    assert name == "opengl2opencv"
    np.testing.assert_array_equal(out, cv.opengl_to_opencv(T))
    with pytest.raises(WaiCameraError, match="unknown transform 'gl2cv'.*opengl2opencv"):
        cv.apply_transform(T, "gl2cv")


def test_invert_rigid_matches_general_inverse_single_and_batched():
    T = _random_poses(16)
    inv = cv.invert_rigid(T)
    np.testing.assert_allclose(inv, np.linalg.inv(T), atol=1e-12)
    np.testing.assert_allclose(cv.invert_rigid(T[3]), np.linalg.inv(T[3]), atol=1e-12)
    np.testing.assert_allclose(inv @ T, np.broadcast_to(np.eye(4), T.shape), atol=1e-12)
    np.testing.assert_allclose(cv.world2cam_to_cam2world(cv.cam2world_to_world2cam(T)), T, atol=1e-12)
    assert cv.invert_rigid(T[:, :3, :]).shape == (16, 3, 4)
    with pytest.raises(WaiCameraError, match="expected shape"):
        cv.invert_rigid(np.eye(3))


def test_quaternion_round_trip_batched_and_single():
    R = _random_rotations(100, seed=3)
    q = cv.rotation_to_quaternion(R)
    assert q.shape == (100, 4) and np.all(q[:, 0] >= 0)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0)
    np.testing.assert_allclose(cv.quaternion_to_rotation(q), R, atol=1e-12)
    # Rotations by 180 degrees (trace -1) take the non-trace branches.
    flips = np.array([np.diag([1.0, -1.0, -1.0]), np.diag([-1.0, 1.0, -1.0]), np.diag([-1.0, -1.0, 1.0])])
    np.testing.assert_allclose(cv.quaternion_to_rotation(cv.rotation_to_quaternion(flips)), flips, atol=1e-12)
    assert cv.rotation_to_quaternion(np.eye(3)).tolist() == [1.0, 0.0, 0.0, 0.0]
    # COLMAP order: w first. A 90 degree turn about z.
    Rz = cv.quaternion_to_rotation(np.array([np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]))
    np.testing.assert_allclose(Rz, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-15)
    with pytest.raises(WaiCameraError, match="zero"):
        cv.quaternion_to_rotation(np.zeros(4))


def test_is_rotation_and_orthonormality_error():
    R = _random_rotations(5)
    assert cv.is_rotation(R[0]) is True
    assert cv.is_rotation(R).tolist() == [True] * 5
    assert cv.orthonormality_error(R[0]) < 1e-14
    assert cv.is_rotation(R[0] * 1.01) is False
    assert cv.is_rotation(-R[0]) is False, "a reflection is not a rotation"
    assert cv.is_rotation(np.full((3, 3), np.nan)) is False
    assert cv.is_rotation(_random_poses(2)).shape == (2,)
    nearly = R[0] + 1e-4
    fixed = cv.orthonormalize(nearly)
    assert cv.orthonormality_error(fixed) < 1e-14
    assert np.abs(fixed - R[0]).max() < 1e-3


def _redkitchen_poses() -> np.ndarray:
    files = sorted(REDKITCHEN.glob("frame-*.pose.txt"))
    return np.stack([np.loadtxt(f) for f in files])


@pytest.mark.skipif(not REDKITCHEN.is_dir(), reason="shared real data not present")
def test_real_rgbd_poses_pass_the_default_tolerance():
    # README: the 7-Scenes poses are orthonormal only to 1.1e-4 .. 3.8e-4, det 0.99947 .. 0.99986.
    poses = _redkitchen_poses()
    assert len(poses) == 40
    err = cv.orthonormality_error(poses)
    assert 1e-4 < err.max() < 4e-4
    assert cv.is_rotation(poses).all()
    assert not cv.is_rotation(poses, atol=1e-5).all(), "a strict check would reject them"
    # Their rigid inverse is as good as their orthonormality allows.
    inv = cv.invert_rigid(poses)
    assert np.abs(inv @ poses - np.eye(4)).max() < 1e-3


def test_rotate_cam2world_90_is_a_quarter_turn_about_the_optical_axis():
    T = _random_poses(1)[0]
    turned = cv.rotate_cam2world_90(T, 1)
    np.testing.assert_array_equal(turned[:3, 3], T[:3, 3])
    np.testing.assert_allclose(turned[:3, 2], T[:3, 2])  # still looks the same way
    np.testing.assert_allclose(cv.rotate_cam2world_90(turned, 3), T, atol=1e-15)
