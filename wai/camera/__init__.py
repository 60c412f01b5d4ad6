"""Camera models, undistortion and pose conventions (numpy and OpenCV only, no torch).

    from wai.camera import Camera, CameraModel
    cam = Camera.from_meta({"camera_model": "OPENCV", "fl_x": 500, "fl_y": 500, "cx": 319.5, "cy": 239.5,
                            "w": 640, "h": 480, "k1": -0.28, "k2": 0.07, "p1": 0, "p2": 0})
    uv, valid = cam.project(points_cam)          # (N, 3) -> (N, 2), (N,)
    rays = cam.unproject(uv)                     # (N, 2) -> (N, 3), z = 1
    map_x, map_y, pinhole = undistortion_maps(cam)

Pixel convention: integer (u, v) is a pixel centre (see `wai.camera.camera`).
"""

from wai.camera import conventions
from wai.camera.camera import Camera
from wai.camera.models import CAMERA_PARAMS, MODELS, OPTIONAL_PARAMS, CameraModel, ModelSpec
from wai.camera.rules import CameraFault, camera_faults
from wai.camera.undistort import undistort_image, undistorted_camera, undistortion_maps

__all__ = [
    "CAMERA_PARAMS",
    "OPTIONAL_PARAMS",
    "MODELS",
    "Camera",
    "CameraFault",
    "CameraModel",
    "ModelSpec",
    "camera_faults",
    "conventions",
    "undistort_image",
    "undistorted_camera",
    "undistortion_maps",
]
