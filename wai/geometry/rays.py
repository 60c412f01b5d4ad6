"""Per-pixel camera rays, from a `Camera` of any model or from a plain 3x3 K."""

from __future__ import annotations

import numpy as np

from wai.camera import Camera
from wai.errors import WaiCameraError

CameraLike = Camera | np.ndarray


def as_camera(camera: CameraLike, height: int | None = None, width: int | None = None) -> Camera:
    """A `Camera` from a Camera or a (3, 3) K (a PINHOLE camera of the given size); checks the size if both given."""
    if isinstance(camera, Camera):
        if (height is not None and height != camera.height) or (width is not None and width != camera.width):
            raise WaiCameraError(
                f"image size {height}x{width} (HxW) does not match the camera's {camera.height}x{camera.width}"
            )
        return camera
    K = np.asarray(camera, dtype=np.float64)
    if K.shape != (3, 3):
        raise WaiCameraError(f"expected a Camera or a (3, 3) intrinsics matrix K, got shape {K.shape}")
    if height is None or width is None:
        raise WaiCameraError("a 3x3 K needs the image height and width")
    return Camera.pinhole(K, width, height)


def pixel_rays(
    camera: CameraLike, height: int | None = None, width: int | None = None, normalize: bool = False
) -> np.ndarray:
    """(H, W, 3) float64 camera-frame ray of every pixel centre.

    normalize False: rays with z = 1 (a z-depth d gives the point d * ray); NaN where a fisheye ray points sideways
    or backwards. normalize True: unit rays (a ray depth d gives the point d * ray).
    """
    cam = as_camera(camera, height, width)
    return cam.unproject(cam.pixel_grid(), normalize=normalize)
