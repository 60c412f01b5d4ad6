"""wai: read, write and check multi-view 3D datasets in the WAI format, without torch.

import wai
scene = wai.open_scene("data/synthetic/room_000")
frame = scene.frames[0]          # or scene.frame("000012")
rgb, depth = frame.image, frame.depth
K, T = frame.intrinsics, frame.cam2world
"""

from wai.camera import Camera, CameraModel
from wai.errors import (
    WaiCameraError,
    WaiError,
    WaiFileNotFoundError,
    WaiFormatError,
    WaiPathError,
    WaiStageError,
)
from wai.io import load, store
from wai.scene import (
    Frame,
    Scene,
    SceneWriter,
    is_scene,
    iter_scenes,
    list_scenes,
    open_scene,
)

__version__ = "0.1.0"

__all__ = [
    "Camera",
    "CameraModel",
    "Frame",
    "Scene",
    "SceneWriter",
    "WaiCameraError",
    "WaiError",
    "WaiFileNotFoundError",
    "WaiFormatError",
    "WaiPathError",
    "WaiStageError",
    "is_scene",
    "iter_scenes",
    "list_scenes",
    "load",
    "open_scene",
    "store",
]
