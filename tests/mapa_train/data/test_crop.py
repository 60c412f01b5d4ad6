"""Crop and resize: the reference's offsets and cover scale, exact intrinsics, principal-point centring."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mapa_train.data.crop import (
    centre_offsets,
    cover_scale,
    crop_resize,
    principal_point_box,
    resize_image,
    resize_nearest,
    shrink_flag,
)
from wai.camera import Camera, CameraModel


def pinhole(w: int, h: int, cx: float | None = None, cy: float | None = None, f: float = 100.0) -> Camera:
    cx = (w - 1) / 2 if cx is None else cx
    cy = (h - 1) / 2 if cy is None else cy
    return Camera(CameraModel.PINHOLE, w, h, {"fl_x": f, "fl_y": f, "cx": cx, "cy": cy})


@pytest.mark.parametrize(
    ("margin", "left"), [(1, 0), (3, 2), (5, 2), (7, 4), (9, 4), (11, 6), (13, 6), (15, 8)]
)
def test_centre_crop_rounds_half_to_even(margin: int, left: int) -> None:
    assert centre_offsets((100 + margin, 50), (100, 50)) == (left, 0)


def test_cover_scale_covers_the_target() -> None:
    s, w, h = cover_scale(640, 480, (518, 336))
    assert w == 518 and h == 388 and s == pytest.approx(518 / 640)


def test_pixels_and_camera_agree_after_crop_resize() -> None:
    """A texture whose value is the source u coordinate, resized and cropped, must read back u through the camera."""
    w, h = 320, 240
    cam = pinhole(w, h, cx=170.3, cy=110.8)
    u = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    v = np.tile(np.arange(h, dtype=np.float32)[:, None], (1, w))
    depth = np.ones((h, w), np.float32)
    # Linear ramps survive an area resize exactly (away from the border), so they locate every output pixel.
    image = np.zeros((h, w, 3), np.uint8)
    out = crop_resize(image, depth, cam, (112, 70), masks={"u": u, "v": v}, aug_extra=9)
    assert out.image.shape == (70, 112, 3) and out.depth.shape == (70, 112)
    assert out.camera.size == (70, 112)
    # The output pixel whose centre is the principal point must show the source principal point.
    cx, cy = out.camera.params["cx"], out.camera.params["cy"]
    src_u = out.masks["u"][round(cy), round(cx)]
    src_v = out.masks["v"][round(cy), round(cx)]
    scale = cam.params["fl_x"] / out.camera.params["fl_x"]
    assert abs(src_u - (170.3 + (round(cx) - cx) * scale)) <= 0.5 * scale + 1e-6
    assert abs(src_v - (110.8 + (round(cy) - cy) * scale)) <= 0.5 * scale + 1e-6


def test_reference_intrinsics_within_a_fraction_of_a_pixel_of_exact() -> None:
    cam = pinhole(640, 480)
    image = np.zeros((480, 640, 3), np.uint8)
    depth = np.ones((480, 640), np.float32)
    exact = crop_resize(image, depth, cam, (518, 336)).camera
    ref = crop_resize(image, depth, cam, (518, 336), intrinsics="reference").camera
    for key in ("fl_x", "fl_y", "cx", "cy"):
        assert abs(exact.params[key] - ref.params[key]) < 0.3, key
    # The reference's cy loses a quarter pixel on the 388.5 -> 388 axis (spec 1.5 example), then the crop takes 26 rows.
    assert ref.params["cy"] - (518 / 640 * 240 - 0.25 - 0.5 - 26) == pytest.approx(0.0, abs=1e-4)


def test_principal_point_box() -> None:
    assert principal_point_box(pinhole(300, 200, cx=100.2, cy=99.7), (100, 100)) == (0, 0, 200, 200)
    # Not larger than the target in both dimensions: no crop.
    assert principal_point_box(pinhole(300, 200, cx=100.2, cy=40), (100, 100)) is None
    assert principal_point_box(pinhole(300, 200, cx=-5, cy=40), (100, 100)) is None
    out = crop_resize(
        np.zeros((200, 300, 3), np.uint8),
        np.ones((200, 300), np.float32),
        pinhole(300, 200, cx=100.0, cy=100.0),
        (98, 98),
        principal_point_centered=True,
    )
    # The 200x200 box around (100, 100) shrinks by 0.49: the point stays where it was relative to the pixels.
    assert out.camera.params["cx"] == pytest.approx(0.49 * 100.5 - 0.5)
    assert out.camera.params["cy"] == pytest.approx(0.49 * 100.5 - 0.5)


def test_auto_interpolation_is_bilinear_near_full_size_and_area_below() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    assert shrink_flag((80, 60), (56, 42), "auto") == cv2.INTER_LINEAR  # 0.7 of the size
    assert shrink_flag((80, 60), (40, 30), "auto") == cv2.INTER_AREA  # 0.5: below AUTO_LINEAR_MIN_SCALE
    assert shrink_flag((80, 60), (56, 42), "area") == cv2.INTER_AREA
    np.testing.assert_array_equal(
        resize_image(image, (56, 42)), cv2.resize(image, (56, 42), interpolation=cv2.INTER_LINEAR)
    )
    np.testing.assert_array_equal(
        resize_image(image, (40, 30)), cv2.resize(image, (40, 30), interpolation=cv2.INTER_AREA)
    )
    # Enlarging is bicubic whatever the choice; the same size is returned untouched.
    np.testing.assert_array_equal(
        resize_image(image, (100, 75), "linear"), cv2.resize(image, (100, 75), interpolation=cv2.INTER_CUBIC)
    )
    assert resize_image(image, (80, 60)) is image


def test_nearest_resize_of_a_mask_stays_boolean() -> None:
    mask = np.zeros((6, 8), dtype=bool)
    mask[:3, :4] = True
    out = resize_nearest(mask, (4, 3))
    assert out.dtype == np.bool_
    # Output pixel centres 0, 1, 2 sample source rows 1, 3, 5 and columns 1, 3, 5, 7.
    np.testing.assert_array_equal(out, [[True, True, False, False]] + [[False] * 4] * 2)
