"""Crop and resize one view to a training resolution, keeping the intrinsics exact (training spec 1.5).

The steps are the reference's: an optional crop centred on the principal point, a cover scale
``s = max(W_t / W, H_t / H)`` (the target optionally enlarged by the `aug_crop` jitter), then a centre crop to the
target with round-half-to-even offsets. Two deliberate differences:

- The camera of the resized image comes from `wai.camera.Camera.resized`, which is exact for the pixels cv2
  produces (per-axis factors new/old). The reference's formula uses the single factor s on both axes and spreads
  the fractional size loss around the centre; it differs from the exact one by under one part in the new width.
  ``intrinsics="reference"`` reproduces the reference's numbers.
- Images are resized with cv2. Shrinking: ``interpolation="auto"`` (the default) uses bilinear when both axes keep
  at least `AUTO_LINEAR_MIN_SCALE` of their size and INTER_AREA (a box filter) below that; ``"area"``, ``"linear"``
  and ``"lanczos"`` (cv2's Lanczos-4) force one filter. At 768x576 -> 534x400 bilinear takes a sixth of area's
  time and is as close to the reference's PIL Lanczos on real photos (50.1 dB PSNR against area's 49.3); it is not
  anti-aliased, though: a grating above the new Nyquist frequency keeps about 0.6 of its amplitude (area 0.3 to
  0.5, PIL Lanczos 0.01 to 0.4). From about half size down area is the closer one, hence the switch
  (benchmarks/bench_resize_filters.py prints these figures).
  Enlarging always uses INTER_CUBIC (the reference's bicubic). Depth and masks use INTER_NEAREST_EXACT, which
  samples the source pixel whose centre is nearest (the reference's INTER_NEAREST picks a pixel up to half a
  source pixel off).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import cv2
import numpy as np

from wai.camera import Camera, CameraModel

Interpolation = Literal["auto", "area", "lanczos", "linear"]
INTERPOLATIONS: tuple[str, ...] = ("auto", "area", "lanczos", "linear")
#: ``"auto"`` shrinks bilinearly when both axes keep at least this fraction of their size, else with INTER_AREA
#: (benchmarks/bench_resize_filters.py: the two are equally close to PIL Lanczos near 0.53 of the size).
AUTO_LINEAR_MIN_SCALE = 0.55
IntrinsicsMode = Literal["exact", "reference"]


@dataclasses.dataclass
class CroppedView:
    """A view after crop and resize: image (H, W, 3) uint8, depth (H, W) float32, pinhole camera, masks (H, W)."""

    image: np.ndarray
    depth: np.ndarray
    camera: Camera
    masks: dict[str, np.ndarray]


def principal_point_box(camera: Camera, target: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(x0, y0, w, h) of the largest crop symmetric about the rounded principal point, or None.

    None when the point lies outside the image or the box is not larger than the target in both dimensions (then
    the reference does not crop).
    """
    cx, cy = round(camera.params["cx"]), round(camera.params["cy"])
    if not (0 <= cx < camera.width and 0 <= cy < camera.height):
        return None
    half_w, half_h = min(cx, camera.width - cx), min(cy, camera.height - cy)
    if 2 * half_w <= target[0] or 2 * half_h <= target[1]:
        return None
    return cx - half_w, cy - half_h, 2 * half_w, 2 * half_h


def cover_scale(width: int, height: int, target: tuple[int, int]) -> tuple[float, int, int]:
    """The reference's cover factor (+1e-8) and the floored new size (W, H) that covers `target`."""
    s = max(target[0] / width, target[1] / height) + 1e-8
    return s, math.floor(width * s), math.floor(height * s)


def centre_offsets(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """(left, top) of the centre crop: half the margin, rounded half to even as numpy does."""
    return int(np.round((size[0] - target[0]) / 2)), int(np.round((size[1] - target[1]) / 2))


def _reference_scaled(camera: Camera, s: float, width: int, height: int) -> Camera:
    p = camera.params
    params = {
        "fl_x": s * p["fl_x"],
        "fl_y": s * p["fl_y"],
        "cx": s * (p["cx"] + 0.5) - 0.5 * (camera.width * s - width) - 0.5,
        "cy": s * (p["cy"] + 0.5) - 0.5 * (camera.height * s - height) - 0.5,
    }
    return Camera(CameraModel.PINHOLE, width, height, params)


def shrink_flag(source: tuple[int, int], size: tuple[int, int], interpolation: Interpolation) -> int:
    """The cv2 flag that shrinks an image of `source` (W, H) to `size` (W, H) with `interpolation`."""
    if interpolation == "auto":
        scale = min(size[0] / source[0], size[1] / source[1])
        return cv2.INTER_LINEAR if scale >= AUTO_LINEAR_MIN_SCALE else cv2.INTER_AREA
    return {"area": cv2.INTER_AREA, "lanczos": cv2.INTER_LANCZOS4, "linear": cv2.INTER_LINEAR}[interpolation]


def resize_image(
    image: np.ndarray, size: tuple[int, int], interpolation: Interpolation = "auto"
) -> np.ndarray:
    """Resize an (H, W, C) image to `size` (W, H): shrinking with `interpolation`, enlarging with bicubic."""
    source = (image.shape[1], image.shape[0])
    if source == size:
        return image
    shrinking = size[0] < source[0] or size[1] < source[1]
    flag = shrink_flag(source, size, interpolation) if shrinking else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=flag)


def resize_nearest(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a depth map or mask to `size` (W, H), pixel centres aligned."""
    if (array.shape[1], array.shape[0]) == size:
        return array
    if array.dtype == np.bool_:
        out = cv2.resize(array.view(np.uint8), size, interpolation=cv2.INTER_NEAREST_EXACT)
        return out.view(np.bool_)  # nearest copies source bytes, so every value is still 0 or 1
    return cv2.resize(array, size, interpolation=cv2.INTER_NEAREST_EXACT)


def crop_resize(
    image: np.ndarray,
    depth: np.ndarray,
    camera: Camera,
    target: tuple[int, int],
    *,
    masks: dict[str, np.ndarray] | None = None,
    aug_extra: int = 0,
    principal_point_centered: bool = False,
    interpolation: Interpolation = "auto",
    intrinsics: IntrinsicsMode = "exact",
) -> CroppedView:
    """Bring one view to exactly `target` (W, H).

    image (H, W, 3) uint8, depth (H, W) float32 and masks (H, W) share the pinhole `camera`'s size. `aug_extra` is
    the `aug_crop` draw (an int in [0, aug_crop)), added to both target sides before the cover scale; the centre
    crop then removes it again, which zooms in slightly.
    """
    masks = dict(masks or {})
    if principal_point_centered:
        box = principal_point_box(camera, target)
        if box is not None:
            x0, y0, w, h = box
            image = image[y0 : y0 + h, x0 : x0 + w]
            depth = depth[y0 : y0 + h, x0 : x0 + w]
            masks = {k: m[y0 : y0 + h, x0 : x0 + w] for k, m in masks.items()}
            camera = camera.cropped(x0, y0, w, h)
    rescale_target = (target[0] + aug_extra, target[1] + aug_extra)
    s, new_w, new_h = cover_scale(camera.width, camera.height, rescale_target)
    image = resize_image(image, (new_w, new_h), interpolation)
    depth = resize_nearest(depth, (new_w, new_h))
    masks = {k: resize_nearest(m, (new_w, new_h)) for k, m in masks.items()}
    if intrinsics == "exact":
        camera = camera.resized(new_w, new_h)
    else:
        camera = _reference_scaled(camera, s, new_w, new_h)
    left, top = centre_offsets((new_w, new_h), target)
    w, h = target
    return CroppedView(
        image=np.ascontiguousarray(image[top : top + h, left : left + w]),
        depth=np.ascontiguousarray(depth[top : top + h, left : left + w]),
        camera=camera.cropped(left, top, w, h),
        masks={k: np.ascontiguousarray(m[top : top + h, left : left + w]) for k, m in masks.items()},
    )
