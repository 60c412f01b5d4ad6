"""Undistortion maps: rendered blobs land where the PINHOLE camera projects them; masks, depth, crops."""

from __future__ import annotations

import numpy as np
import pytest

from wai.camera import Camera, CameraModel, undistort_image, undistorted_camera, undistortion_maps
from wai.errors import WaiCameraError

from .camera_fixtures import CAMERAS

DISTORTED = [
    CameraModel.SIMPLE_RADIAL,
    CameraModel.RADIAL,
    CameraModel.OPENCV,
    CameraModel.FULL_OPENCV,
    CameraModel.FOV,
    CameraModel.OPENCV_FISHEYE,
    CameraModel.THIN_PRISM_FISHEYE,
    CameraModel.RAD_TAN_THIN_PRISM_FISHEYE,
]

PLANE_Z = 2.0
BLOB_SIGMA = 0.012  # metres on the plane: about 3 px at the image centre


SPACING = 0.25  # metres between blob centres on the plane


def _blob_centres() -> np.ndarray:
    xs = np.arange(-6, 7) * SPACING
    ys = np.arange(-5, 6) * SPACING
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, PLANE_Z)], axis=-1)


def _render_blobs(camera: Camera) -> np.ndarray:
    """Float image of Gaussian blobs on a square grid on the plane z = PLANE_Z, seen through `camera` (any model)."""
    rays = camera.unproject(camera.pixel_grid(), normalize=False)
    hit = rays[..., :2] * PLANE_Z
    offset = hit - SPACING * np.round(hit / SPACING)
    image = np.exp(-(offset**2).sum(axis=-1) / (2 * BLOB_SIGMA**2))
    return np.nan_to_num(image).astype(np.float32)


def _centroids(image: np.ndarray, uv: np.ndarray, radius: int = 7) -> np.ndarray:
    out = np.full_like(uv, np.nan)
    h, w = image.shape
    for i, (u, v) in enumerate(uv):
        u0, v0 = round(u), round(v)
        if not (radius <= u0 < w - radius and radius <= v0 < h - radius):
            continue
        patch = image[v0 - radius : v0 + radius + 1, u0 - radius : u0 + radius + 1].astype(np.float64)
        patch = np.clip(patch - 0.05, 0, None)
        vv, uu = np.mgrid[-radius : radius + 1, -radius : radius + 1]
        out[i] = [u0 + (patch * uu).sum() / patch.sum(), v0 + (patch * vv).sum() / patch.sum()]
    return out


@pytest.mark.parametrize("center", [True, False], ids=["centred", "off-centre"])
@pytest.mark.parametrize("model", DISTORTED, ids=lambda m: m.value)
def test_undistorted_blobs_land_on_the_pinhole_projection(model, center):
    cam = CAMERAS[model]
    centres = _blob_centres()
    distorted = _render_blobs(cam)
    map_x, map_y, pinhole = undistortion_maps(cam, center_principal_point=center)
    assert pinhole.model is CameraModel.PINHOLE
    assert map_x.dtype == np.float32 and map_x.shape == (pinhole.height, pinhole.width)
    if center:
        assert (
            pinhole.params["cx"] == (pinhole.width - 1) / 2
            and pinhole.params["cy"] == (pinhole.height - 1) / 2
        )
    # balance 0: every output pixel comes from inside the distorted image.
    assert cam.in_image(np.stack([map_x, map_y], axis=-1)).all()
    undistorted = undistort_image(distorted, (map_x, map_y, pinhole), "image")
    expected, valid = pinhole.project(centres)
    assert valid.all()
    found = _centroids(undistorted, expected)
    seen = np.isfinite(found[:, 0])
    assert seen.sum() >= 20
    err = np.linalg.norm(found[seen] - expected[seen], axis=1)
    assert err.max() < 0.5, f"max {err.max():.3f} px"
    # And the image matches a direct pinhole rendering of the same plane. (Not for the wide fisheyes: squeezed into
    # 640 px, their pinhole image is downsampled 2.5x and its 1-px blobs differ from point samples.)
    if not cam.is_fisheye:
        direct = _render_blobs(pinhole)
        assert np.abs(undistorted - direct).max() < 0.08


def test_opencv_crop_moves_the_principal_point():
    # The reference crops OPENCV output to the valid ROI but keeps the uncropped principal point. Here the camera of
    # a crop is exactly the crop of the full camera: maps for the cropped camera are the slice of the full maps.
    cam = CAMERAS[CameraModel.OPENCV]
    full = undistorted_camera(cam, balance=1.0, crop_to_valid=False, center_principal_point=False)
    map_x, map_y, _ = undistortion_maps(cam, pinhole=full)
    inner = undistorted_camera(cam, balance=0.0, crop_to_valid=True, center_principal_point=False)
    assert (inner.width, inner.height) != (cam.width, cam.height)
    x0, y0 = 37, 21
    crop = full.cropped(x0, y0, 300, 200)
    cx, cy, crop_cam = undistortion_maps(cam, pinhole=crop)
    assert crop_cam.params["cx"] == full.params["cx"] - x0
    np.testing.assert_array_equal(cx, map_x[y0 : y0 + 200, x0 : x0 + 300])
    np.testing.assert_array_equal(cy, map_y[y0 : y0 + 200, x0 : x0 + 300])


def test_balance_one_keeps_everything_the_lens_sees():
    cam = CAMERAS[CameraModel.OPENCV]
    map_x, map_y, pinhole = undistortion_maps(cam, balance=1.0)
    src = np.stack([map_x, map_y], axis=-1)
    inside = cam.in_image(src)
    assert not inside.all(), "black corners are expected"
    # Every distorted pixel is reached: the nearest-sampled source pixels cover the distorted image.
    hit = np.zeros((cam.height, cam.width), bool)
    hit[np.rint(map_y[inside]).astype(int), np.rint(map_x[inside]).astype(int)] = True
    assert hit[2:-2, 2:-2].mean() > 0.97


def test_fisheye_keeps_the_input_size_by_default():
    cam = CAMERAS[CameraModel.OPENCV_FISHEYE]
    _, _, pinhole = undistortion_maps(cam)
    assert (pinhole.width, pinhole.height) == (cam.width, cam.height)
    assert pinhole.params["cx"] == 319.5 and pinhole.params["cy"] == 239.5


def test_masks_survive_and_outside_is_false():
    # The reference turns every in-image mask pixel to 0 (spec 7.3). Here an all-True mask stays True wherever the
    # lens sees and is False only outside the field of view.
    cam = CAMERAS[CameraModel.OPENCV]
    maps = undistortion_maps(cam, balance=1.0)
    mask = np.ones((cam.height, cam.width), bool)
    mask[100:120, 200:260] = False
    out = undistort_image(mask, maps, "mask")
    assert out.dtype == bool and out.shape == maps[0].shape
    inside = cam.in_image(np.stack(maps[:2], axis=-1))
    assert out[~inside].sum() == 0
    assert out[inside].mean() > 0.99
    assert (~out[inside]).sum() > 0, "the hole survives"


def test_depth_is_nearest_and_zero_outside():
    cam = CAMERAS[CameraModel.OPENCV]
    maps = undistortion_maps(cam, balance=1.0)
    depth = np.full((cam.height, cam.width), 2.0, np.float32)
    depth[:, 320:] = 5.0
    out = undistort_image(depth, maps, "depth")
    assert out.dtype == np.float32
    assert set(np.unique(out)) == {0.0, 2.0, 5.0}, "no blended depths, no -1"


def test_multichannel_and_uint8_images():
    cam = CAMERAS[CameraModel.RADIAL]
    maps = undistortion_maps(cam)
    rgb = np.random.default_rng(0).integers(0, 255, (cam.height, cam.width, 3), dtype=np.uint8)
    assert undistort_image(rgb, maps, "image").shape == (*maps[0].shape, 3)
    many = np.zeros((cam.height, cam.width, 6), np.float32)
    assert undistort_image(many, maps, "image").shape == (*maps[0].shape, 6)
    with pytest.raises(WaiCameraError, match="kind must be"):
        undistort_image(rgb[..., 0], maps, "normals")


def test_pinhole_input_gives_identity_maps():
    cam = CAMERAS[CameraModel.PINHOLE]
    map_x, map_y, pinhole = undistortion_maps(cam, pinhole=cam)
    grid = cam.pixel_grid()
    np.testing.assert_allclose(map_x, grid[..., 0], atol=1e-4)
    np.testing.assert_allclose(map_y, grid[..., 1], atol=1e-4)
