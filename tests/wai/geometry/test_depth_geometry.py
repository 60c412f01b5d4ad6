"""Depth to points, pixel rays and z-depth <-> ray depth, checked on analytic planes and spheres."""

from __future__ import annotations

import numpy as np
import pytest

from wai.camera import Camera, CameraModel
from wai.errors import WaiCameraError
from wai.geometry import (
    depth_to_points,
    depth_to_world_points,
    pixel_rays,
    raydepth_to_zdepth,
    zdepth_to_raydepth,
)

from ..camera.camera_fixtures import CAMERAS

K = np.array([[300.0, 0.0, 159.5], [0.0, 310.0, 119.5], [0.0, 0.0, 1.0]])
H, W = 240, 320

# A tilted plane n . X = d in the camera frame.
NORMAL = np.array([0.2, -0.3, 1.0]) / np.linalg.norm([0.2, -0.3, 1.0])
OFFSET = 3.0


def _plane_depth(camera) -> np.ndarray:
    rays = pixel_rays(camera, H, W) if isinstance(camera, np.ndarray) else pixel_rays(camera)
    return (OFFSET / (rays @ NORMAL)).astype(np.float32)


@pytest.mark.parametrize("cam", [K, CAMERAS[CameraModel.OPENCV]], ids=["K", "OPENCV"])
def test_depth_to_points_recovers_a_plane(cam):
    depth = _plane_depth(cam)
    points, valid = depth_to_points(depth, cam)
    assert points.shape == (*depth.shape, 3) and valid.all()
    np.testing.assert_allclose(points @ NORMAL, OFFSET, rtol=1e-6)  # float32 depth
    np.testing.assert_array_equal(points[..., 2], depth.astype(np.float64))
    camera = (
        cam
        if isinstance(cam, Camera)
        else Camera(CameraModel.PINHOLE, W, H, {"fl_x": 300, "fl_y": 310, "cx": 159.5, "cy": 119.5})
    )
    uv, ok = camera.project(points.reshape(-1, 3))
    assert ok.all()
    np.testing.assert_allclose(uv, camera.pixel_grid().reshape(-1, 2), atol=1e-6)


def test_invalid_depth_is_nan_and_false():
    depth = np.full((H, W), 2.0, np.float32)
    depth[0, 0], depth[0, 1], depth[0, 2], depth[0, 3] = 0.0, -1.0, np.nan, np.inf
    points, valid = depth_to_points(depth, K)
    assert valid[0, :4].tolist() == [False] * 4 and valid[0, 4]
    assert np.isnan(points[0, :4]).all() and np.isfinite(points[0, 4]).all()


def test_depth_to_world_points_applies_the_pose():
    c2w = np.eye(4)
    c2w[:3, :3] = [[0, 0, 1], [0, 1, 0], [-1, 0, 0]]
    c2w[:3, 3] = [1.0, 2.0, 3.0]
    depth = np.full((H, W), 2.0)
    world, valid = depth_to_world_points(depth, K, c2w)
    cam_pts, _ = depth_to_points(depth, K)
    np.testing.assert_allclose(world, cam_pts @ c2w[:3, :3].T + c2w[:3, 3])
    np.testing.assert_allclose(
        world[119, 159], [3.0, 2.0 - 2.0 * 0.5 / 310, 3.0 + 2.0 * 0.5 / 300], atol=1e-12
    )


def test_pixel_rays():
    rays = pixel_rays(K, H, W)
    np.testing.assert_allclose(rays[119, 159], [-0.5 / 300, -0.5 / 310, 1.0])
    unit = pixel_rays(K, H, W, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=-1), 1.0)
    with pytest.raises(WaiCameraError, match="needs the image height and width"):
        pixel_rays(K)
    with pytest.raises(WaiCameraError, match="no skew"):
        pixel_rays(np.array([[300.0, 1.0, 0], [0, 300, 0], [0, 0, 1]]), H, W)
    with pytest.raises(WaiCameraError, match="does not match"):
        depth_to_points(np.ones((10, 10)), CAMERAS[CameraModel.OPENCV])


@pytest.mark.parametrize(
    "model", [CameraModel.PINHOLE, CameraModel.OPENCV, CameraModel.OPENCV_FISHEYE], ids=lambda m: m.value
)
def test_z_and_ray_depth_of_a_sphere(model):
    cam = CAMERAS[model]
    radius = 4.0
    unit = pixel_rays(cam, normalize=True)
    zdepth = radius * unit[..., 2]  # a sphere around the camera: ray depth is the radius everywhere
    ray = zdepth_to_raydepth(zdepth, cam)
    np.testing.assert_allclose(ray, radius, rtol=1e-12)
    np.testing.assert_allclose(raydepth_to_zdepth(ray, cam), zdepth, rtol=1e-12)


def test_depth_kinds_keep_dtype_and_invalid():
    depth = np.full((H, W), 2.0, np.float32)
    depth[5, 5] = 0.0
    ray = zdepth_to_raydepth(depth, K)
    assert ray.dtype == np.float32 and ray[5, 5] == 0.0
    np.testing.assert_allclose(raydepth_to_zdepth(ray, K), depth, rtol=1e-6)


def test_fisheye_pixels_past_ninety_degrees_have_no_z_depth():
    cam = Camera(CameraModel.OPENCV_FISHEYE, 200, 200, {"fl_x": 40, "fl_y": 40, "cx": 99.5, "cy": 99.5})
    _, valid = depth_to_points(np.ones((200, 200)), cam)
    theta = np.hypot(*(cam.pixel_grid() - 99.5).transpose(2, 0, 1)) / 40
    assert not valid[theta > np.pi / 2 + 0.01].any()
    assert valid[theta < np.pi / 2 - 0.01].all()
