"""Undistortion: remap tables from a distorted camera to a PINHOLE camera, and remapping of images, depth and masks.

Differences from the reference's undistort stage (its `undistort.py`), on purpose:

* one method for every model (the maps come from `Camera.project`, not from per-model OpenCV calls);
* when the output is cropped to the valid area, the principal point is the one of the crop (never a stale one);
* a centred principal point is ((w' - 1) / 2, (h' - 1) / 2) in the pixel-centre convention, not w' / 2;
* masks are remapped with nearest sampling and False outside the field of view, and depth with nearest sampling
  and 0 (invalid) outside, never -1; images are bilinear with black outside.
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

from wai.camera.camera import Camera
from wai.camera.models import CameraModel
from wai.errors import WaiCameraError

#: Widest half field of view an undistorted (perspective) output may cover; wider fisheyes are clipped to it.
MAX_HALF_FOV_DEG = 80.0

_OUTSIDE = -1.0e4  # a map value far outside any image: cv2.remap fills such pixels with the border value


def _boundary_pixels(camera: Camera, per_side: int = 400) -> dict[str, np.ndarray]:
    """Pixels along the four edges of the image area (the outer edges of the border pixels)."""
    w, h = camera.width, camera.height
    us = np.linspace(-0.5, w - 0.5, per_side)
    vs = np.linspace(-0.5, h - 0.5, per_side)
    return {
        "left": np.stack([np.full_like(vs, -0.5), vs], axis=-1),
        "right": np.stack([np.full_like(vs, w - 0.5), vs], axis=-1),
        "top": np.stack([us, np.full_like(us, -0.5)], axis=-1),
        "bottom": np.stack([us, np.full_like(us, h - 0.5)], axis=-1),
    }


def _normalized_window(camera: Camera, balance: float, centred: bool) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): the z = 1 plane window the output covers; balance 0 = valid pixels only, 1 = everything."""
    limit = math.tan(math.radians(MAX_HALF_FOV_DEG))
    edges = {}
    for side, uv in _boundary_pixels(camera).items():
        rays = camera.unproject(uv, normalize=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            xy = rays[:, :2] / rays[:, 2:3]
        # Rays at or past 90 degrees (or not reachable) count as "as far out as allowed" on their side.
        bad = ~np.all(np.isfinite(xy), axis=1) | (rays[:, 2] <= 1e-9)
        xy = np.clip(xy, -limit, limit)
        sign = {"left": (-1, 0), "right": (1, 0), "top": (0, -1), "bottom": (0, 1)}[side]
        xy[bad] = np.array(sign, dtype=np.float64) * limit
        edges[side] = xy
    inner = (
        edges["left"][:, 0].max(),
        edges["right"][:, 0].min(),
        edges["top"][:, 1].max(),
        edges["bottom"][:, 1].min(),
    )
    every = np.concatenate(list(edges.values()))
    outer = (every[:, 0].min(), every[:, 0].max(), every[:, 1].min(), every[:, 1].max())
    if centred:
        inner = (
            -min(-inner[0], inner[1]),
            min(-inner[0], inner[1]),
            -min(-inner[2], inner[3]),
            min(-inner[2], inner[3]),
        )
        outer = (
            -max(-outer[0], outer[1]),
            max(-outer[0], outer[1]),
            -max(-outer[2], outer[3]),
            max(-outer[2], outer[3]),
        )
    x0, x1, y0, y1 = (i + balance * (o - i) for i, o in zip(inner, outer, strict=True))
    if not (x0 < 0 < x1 and y0 < 0 < y1):
        raise WaiCameraError(
            f"undistortion_maps: the valid area of {camera!r} does not contain the optical axis"
        )
    return x0, x1, y0, y1


def undistorted_camera(
    camera: Camera,
    *,
    balance: float = 0.0,
    center_principal_point: bool = True,
    crop_to_valid: bool | None = None,
) -> Camera:
    """The PINHOLE camera that `undistortion_maps` renders into, without building the maps.

    `balance` in [0, 1]: 0 keeps only pixels that the distorted image sees (no black border), 1 keeps everything it
    sees (black corners), values between blend the two windows. `crop_to_valid` True keeps the distorted camera's
    focal lengths and sizes the image to that window (the reference does this for OPENCV); False keeps the input size
    (w, h) and scales the focal lengths so the window fits (the reference does this for fisheyes). None picks
    True for perspective models and False for fisheye models.
    """
    if camera.model is CameraModel.EQUIRECTANGULAR:
        raise WaiCameraError(
            "undistortion_maps: EQUIRECTANGULAR images cannot be undistorted to one PINHOLE image"
        )
    if not 0.0 <= balance <= 1.0:
        raise WaiCameraError(f"undistortion_maps: balance must be in [0, 1], got {balance}")
    if crop_to_valid is None:
        crop_to_valid = not camera.is_fisheye
    x0, x1, y0, y1 = _normalized_window(camera, balance, center_principal_point)
    fx, fy = camera.params["fl_x"], camera.params["fl_y"]
    if crop_to_valid:
        width = max(1, math.floor((x1 - x0) * fx + 1e-9))
        height = max(1, math.floor((y1 - y0) * fy + 1e-9))
    else:
        width, height = camera.width, camera.height
        scale = max(width / ((x1 - x0) * fx), height / ((y1 - y0) * fy))
        fx, fy = fx * scale, fy * scale
    if center_principal_point:
        cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    else:
        # Left edge of the window at the left edge of the image (-0.5); centre the leftover fraction of a pixel.
        cx = -x0 * fx - 0.5 - ((x1 - x0) * fx - width) / 2.0
        cy = -y0 * fy - 0.5 - ((y1 - y0) * fy - height) / 2.0
    return Camera(CameraModel.PINHOLE, width, height, {"fl_x": fx, "fl_y": fy, "cx": cx, "cy": cy})


def undistortion_maps(
    camera: Camera,
    *,
    balance: float = 0.0,
    center_principal_point: bool = True,
    crop_to_valid: bool | None = None,
    pinhole: Camera | None = None,
) -> tuple[np.ndarray, np.ndarray, Camera]:
    """Remap tables for `cv2.remap` from images of `camera` to a PINHOLE camera, and that camera.

    Returns (map_x, map_y, pinhole): two (H', W') float32 arrays giving, for every output pixel, the distorted-image
    pixel to sample, and the PINHOLE camera of the output. Pass `pinhole` to render into a camera of your choice
    (then the other options are ignored); otherwise see `undistorted_camera` for the options. Output pixels that the
    distorted camera does not see get map values far outside the image, so remapping fills them with the border.
    """
    if pinhole is None:
        pinhole = undistorted_camera(
            camera,
            balance=balance,
            center_principal_point=center_principal_point,
            crop_to_valid=crop_to_valid,
        )
    elif not pinhole.is_pinhole:
        raise WaiCameraError(f"undistortion_maps: target camera must be distortion-free, got {pinhole!r}")
    rays = pinhole.unproject(pinhole.pixel_grid(), normalize=False)
    uv, valid = camera.project(rays)
    uv[~valid] = _OUTSIDE
    return uv[..., 0].astype(np.float32), uv[..., 1].astype(np.float32), pinhole


_CV_CHANNELS = 4


def _remap(
    array: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, interpolation: int, border: float
) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] > _CV_CHANNELS:
        parts = [
            _remap(array[:, :, i : i + _CV_CHANNELS], map_x, map_y, interpolation, border)
            for i in range(0, array.shape[2], _CV_CHANNELS)
        ]
        return np.concatenate([p if p.ndim == 3 else p[:, :, None] for p in parts], axis=2)
    out = cv2.remap(
        np.ascontiguousarray(array),
        map_x,
        map_y,
        interpolation=interpolation,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )
    if array.ndim == 3 and out.ndim == 2:
        out = out[:, :, None]
    return out


def undistort_image(
    image: np.ndarray,
    maps: tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, Camera],
    kind: Literal["image", "depth", "mask"],
) -> np.ndarray:
    """Remap one frame with maps from `undistortion_maps` (the 2- or 3-tuple).

    kind ``"image"``: (H, W) or (H, W, C), any dtype OpenCV remaps; bilinear, black outside the field of view.
    kind ``"depth"``: (H, W) float; nearest (never blends across depth edges), 0 (invalid) outside.
    kind ``"mask"``: (H, W) bool or integer; nearest, False / 0 outside. The dtype is kept.
    """
    map_x, map_y = maps[0], maps[1]
    arr = np.asarray(image)
    if kind == "image":
        if arr.ndim not in (2, 3):
            raise WaiCameraError(f"undistort_image: expected an (H, W) or (H, W, C) image, got {arr.shape}")
        return _remap(arr, map_x, map_y, cv2.INTER_LINEAR, 0)
    if arr.ndim != 2:
        raise WaiCameraError(f"undistort_image: expected an (H, W) {kind}, got shape {arr.shape}")
    if kind == "depth":
        if not np.issubdtype(arr.dtype, np.floating):
            raise WaiCameraError(f"undistort_image: expected float depth, got {arr.dtype}")
        work = arr.astype(np.float32) if arr.dtype == np.float16 else arr
        return _remap(work, map_x, map_y, cv2.INTER_NEAREST, 0).astype(arr.dtype, copy=False)
    if kind == "mask":
        if arr.dtype == bool:
            return _remap(arr.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST, 0).astype(bool)
        return _remap(arr, map_x, map_y, cv2.INTER_NEAREST, 0)
    raise WaiCameraError(f"undistort_image: kind must be 'image', 'depth' or 'mask', got {kind!r}")
