"""Per-pixel camera rays, from a `Camera` of any model or from a plain 3x3 K."""

from __future__ import annotations

import numpy as np

from wai.camera import Camera, CameraModel
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
    if K[0, 1] != 0 or K[1, 0] != 0 or np.any(K[2] != (0.0, 0.0, 1.0)):
        raise WaiCameraError(f"K must be [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (no skew), got {K.tolist()}")
    params = {"fl_x": K[0, 0], "fl_y": K[1, 1], "cx": K[0, 2], "cy": K[1, 2]}
    return Camera(CameraModel.PINHOLE, width, height, params)


def pixel_rays(
    camera: CameraLike, height: int | None = None, width: int | None = None, normalize: bool = False
) -> np.ndarray:
    """(H, W, 3) float64 camera-frame ray of every pixel centre.

    normalize False: rays with z = 1 (a z-depth d gives the point d * ray); NaN where a fisheye ray points sideways
    or backwards. normalize True: unit rays (a ray depth d gives the point d * ray).
    """
    cam = as_camera(camera, height, width)
    return cam.unproject(cam.pixel_grid(), normalize=normalize)
