"""project_points and reproject_depth: identity into itself, analytic plane depth in a second camera."""

from __future__ import annotations

import numpy as np
import pytest

from wai.camera import Camera, CameraModel, conventions
from wai.geometry import depth_to_world_points, pixel_rays, project_points, reproject_depth

CAM = Camera(CameraModel.PINHOLE, 320, 240, {"fl_x": 300.0, "fl_y": 300.0, "cx": 159.5, "cy": 119.5})


def _look_at(eye, target, up=(0.0, -1.0, 0.0)) -> np.ndarray:
    z = np.asarray(target, float) - eye
    z /= np.linalg.norm(z)
    x = np.cross(up, z)
    x /= np.linalg.norm(x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, np.cross(z, x), z], axis=1)
    T[:3, 3] = eye
    return T


def _plane_zdepth(camera: Camera, c2w: np.ndarray, plane_z: float) -> np.ndarray:
    """z-depth of the world plane Z = plane_z seen from a camera (0 where the ray misses it)."""
    rays = pixel_rays(camera) @ c2w[:3, :3].T  # world directions with camera z = 1
    with np.errstate(divide="ignore"):
        s = (plane_z - c2w[2, 3]) / rays[..., 2]
    return np.where(s > 0, s, 0.0)


def test_project_points_world_and_camera_frame():
    c2w = _look_at(np.array([0.0, 0.0, -5.0]), np.zeros(3))
    uv, z, valid = project_points(np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -10.0]]), CAM, c2w)
    np.testing.assert_allclose(uv[0], [159.5, 119.5])
    assert z[0] == pytest.approx(5.0) and valid.tolist() == [True, False]
    uv_k, _, _ = project_points(np.array([[1.0, 0.5, 2.0]]), CAM.K)
    np.testing.assert_allclose(uv_k[0], [159.5 + 150, 119.5 + 75])


def test_reproject_into_itself_is_identity():
    c2w = _look_at(np.array([0.3, -1.0, -4.0]), np.array([0.0, 0.0, 2.0]))
    depth = _plane_zdepth(CAM, c2w, plane_z=2.0)
    depth[:10] = 0.0  # some invalid pixels stay empty
    out = reproject_depth(depth, CAM, c2w, CAM, c2w)
    np.testing.assert_allclose(out, depth, rtol=1e-9, atol=0)


def test_reproject_into_a_second_camera_matches_the_analytic_plane():
    c2w_a = _look_at(np.array([0.0, -0.5, -4.0]), np.array([0.0, 0.0, 2.0]))
    c2w_b = _look_at(np.array([1.2, -1.0, -3.0]), np.array([0.3, 0.2, 2.0]))
    depth_a = _plane_zdepth(CAM, c2w_a, 2.0)
    expected = _plane_zdepth(CAM, c2w_b, 2.0)
    out = reproject_depth(depth_a, CAM, c2w_a, CAM, c2w_b)
    hit = out > 0
    assert hit.mean() > 0.5
    # Nearest-pixel splatting: a point lands up to half a pixel from the pixel centre it is written to.
    rel = np.abs(out[hit] - expected[hit]) / expected[hit]
    assert np.median(rel) < 2e-3 and rel.max() < 1e-2
    # Every world point of A that B sees inside its image is accounted for.
    world, valid = depth_to_world_points(depth_a, CAM, c2w_a)
    uv, _, ok = project_points(world[valid], CAM, c2w_b)
    inside = ok & CAM.in_image(uv)
    assert hit.sum() <= inside.sum()


def test_z_buffer_keeps_the_nearest_surface_and_k_input():
    c2w_a = np.eye(4)
    depth = np.full((240, 320), 5.0)
    depth[:, 100:140] = 2.0  # a near strip in front of a far wall
    c2w_b = np.eye(4)
    c2w_b[:3, 3] = [-0.5, 0.0, 0.0]  # from B the strip (shifted 75 px) covers wall pixels (shifted 30 px)
    out = reproject_depth(depth, CAM, c2w_a, CAM.K, c2w_b, dst_shape=(240, 320))
    assert out.shape == (240, 320)
    assert (out[:, 178:213] == 2.0).all(), "the near strip wins where both land"
    assert (out[:, 35:125] == 5.0).all() and (out[:, 216:315] == 5.0).all()
    assert (out[:, 135:165] == 0.0).all(), "the wall behind the strip, unseen by A, stays empty"
    assert (out[:, :25] == 0.0).all(), "nothing lands on the left edge"
    same = reproject_depth(depth, CAM, c2w_a, CAM, conventions.invert_rigid(np.eye(4)))
    np.testing.assert_allclose(same, depth)
