"""Intrinsics bookkeeping for resize, crop and 90-degree rotation, checked by projecting points."""

from __future__ import annotations

import numpy as np
import pytest

from wai.camera import Camera, CameraModel, conventions
from wai.errors import WaiCameraError

from .camera_fixtures import CAMERAS

PLANAR = [m for m in CameraModel if m is not CameraModel.EQUIRECTANGULAR]


def _points(cam: Camera) -> np.ndarray:
    rng = np.random.default_rng(1)
    uv = rng.uniform([0, 0], [cam.width - 1, cam.height - 1], size=(200, 2))
    return cam.unproject(uv, normalize=True) * rng.uniform(1, 5, size=(200, 1))


@pytest.mark.parametrize("model", list(CameraModel), ids=lambda m: m.value)
def test_scaled_keeps_the_image_edges(model):
    cam = CAMERAS[model]
    pts = _points(cam)
    uv, _ = cam.project(pts)
    small = cam.scaled(0.5, 0.25)
    assert (small.width, small.height) == (cam.width // 2, cam.height // 4)
    uv_small, valid = small.project(pts)
    assert valid.all()
    np.testing.assert_allclose(uv_small, (uv + 0.5) * [0.5, 0.25] - 0.5, atol=1e-9)


def test_scaled_single_focal_unevenly_changes_model():
    assert CAMERAS[CameraModel.SIMPLE_PINHOLE].scaled(0.5, 0.25).model is CameraModel.PINHOLE
    radial = CAMERAS[CameraModel.RADIAL].scaled(2.0, 1.0)
    assert radial.model is CameraModel.OPENCV and radial.params["k2"] == 0.07
    assert CAMERAS[CameraModel.RADIAL].scaled(2.0).model is CameraModel.RADIAL


def test_resized_uses_exact_sizes():
    cam = CAMERAS[CameraModel.PINHOLE].resized(333, 250)
    assert (cam.width, cam.height) == (333, 250)
    assert cam.params["cx"] == pytest.approx((322.5 + 0.5) * 333 / 640 - 0.5)


@pytest.mark.parametrize("model", PLANAR, ids=lambda m: m.value)
def test_cropped_shifts_the_principal_point(model):
    cam = CAMERAS[model]
    crop = cam.cropped(40, 30, 200, 100)
    assert (crop.width, crop.height) == (200, 100)
    pts = _points(cam)
    np.testing.assert_allclose(crop.project(pts)[0], cam.project(pts)[0] - [40, 30], atol=1e-9)


def test_crop_outside_the_image_is_an_error():
    with pytest.raises(WaiCameraError, match="leaves the 640x480 image"):
        CAMERAS[CameraModel.PINHOLE].cropped(600, 0, 100, 10)
    with pytest.raises(WaiCameraError, match="EQUIRECTANGULAR"):
        CAMERAS[CameraModel.EQUIRECTANGULAR].cropped(0, 0, 10, 10)


def _rot90_pixel(uv: np.ndarray, width: int, height: int, k: int) -> np.ndarray:
    """Where np.rot90(image, k) moves pixel centre uv, found by rotating an image of pixel indices."""
    index = np.arange(width * height).reshape(height, width)
    turned = np.rot90(index, k)
    where = np.empty((width * height, 2))
    rows, cols = np.mgrid[0 : turned.shape[0], 0 : turned.shape[1]]
    where[turned.ravel()] = np.stack([cols.ravel(), rows.ravel()], axis=-1)
    u, v = uv[:, 0].astype(int), uv[:, 1].astype(int)
    return where[v * width + u]


@pytest.mark.parametrize("k", [1, 2, 3, -1])
@pytest.mark.parametrize("model", PLANAR, ids=lambda m: m.value)
def test_rotated_90_matches_np_rot90(model, k):
    cam = CAMERAS[model]
    c2w = np.eye(4)
    c2w[:3, 3] = [0.3, -0.2, 1.0]
    rng = np.random.default_rng(2)
    uv = rng.integers([0, 0], [cam.width, cam.height], size=(100, 2)).astype(np.float64)
    world = cam.unproject(uv, normalize=True) * rng.uniform(1, 5, size=(100, 1)) + c2w[:3, 3]

    turned_cam = cam.rotated_90(k)
    turned_pose = conventions.rotate_cam2world_90(c2w, k)
    local = (world - turned_pose[:3, 3]) @ turned_pose[:3, :3]
    uv_turned, valid = turned_cam.project(local)
    assert valid.all()
    np.testing.assert_allclose(uv_turned, _rot90_pixel(uv, cam.width, cam.height, k), atol=1e-6)
    assert (turned_cam.width, turned_cam.height) == (
        (cam.height, cam.width) if k % 2 else (cam.width, cam.height)
    )


def test_four_quarter_turns_are_the_identity():
    cam = CAMERAS[CameraModel.RAD_TAN_THIN_PRISM_FISHEYE]
    again = cam.rotated_90(4)
    assert again == cam
    twice = cam.rotated_90(1).rotated_90(1).rotated_90(1).rotated_90(1)
    for key, value in cam.params.items():
        assert twice.params[key] == pytest.approx(value, abs=1e-12)
