"""Pre-resizing a scene for a packed store: the covering size, the cameras in the meta, and the pixel resamplers.

A frame is scaled uniformly (aspect ratio kept) to the smallest size that covers the requested W x H, so the
trainer's crops still fit; frames already within it are kept. Cameras follow through `Camera.resized`, which keeps
the pixel-centre convention exact. Images are resampled with area averaging and re-encoded (lossy); depth, masks
and every other per-pixel map take the nearest source pixel of each new pixel centre (values are never blended).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from wai.camera import Camera
from wai.errors import WaiFormatError, where
from wai.io.raster import encode_params, encode_raster
from wai.scene.cameras import CAMERA_KEYS, camera_values, has_own_camera
from wai.scene.scene import Scene

#: What a pre-resized store changes, recorded in its `PackInfo.lossy`.
RESIZE_NOTES = (
    "images resized with area averaging and re-encoded (PNG stays lossless, JPEG at quality 95)",
    "depth, masks and other per-pixel maps resized to the nearest source pixel",
)


def parse_resolution(text: str) -> tuple[int, int]:
    """``"512x384"`` -> (512, 384)."""
    parts = text.lower().replace(" ", "").split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise WaiFormatError(f"bad resolution {text!r}: expected WxH with positive integers, e.g. 512x384")
    return int(parts[0]), int(parts[1])


def covering_size(width: int, height: int, target: tuple[int, int]) -> tuple[int, int]:
    """The smallest uniformly scaled (width, height) that covers `target` (W, H); never larger than the input."""
    scale = max(target[0] / width, target[1] / height)
    if scale >= 1.0:
        return width, height
    return max(target[0], round(width * scale)), max(target[1], round(height * scale))


def resized_camera(camera: Camera, target: tuple[int, int]) -> Camera:
    width, height = covering_size(camera.width, camera.height, target)
    if (width, height) == camera.size[::-1]:
        return camera
    return camera.resized(width, height)


def resized_meta(scene: Scene, target: tuple[int, int]) -> tuple[dict[str, Any], list[Camera]]:
    """A copy of the scene meta with every camera pre-resized for `target`, and the new camera of each frame.

    The scene-level camera is resized where it is complete; a frame with camera keys of its own gets the full
    resized camera written into its entry. Each frame's merged camera is checked against the expected one.
    """
    meta = copy.deepcopy(scene.meta)
    scene_keys = {k: meta[k] for k in CAMERA_KEYS if k in meta}
    if scene_keys:
        try:
            shared = Camera.from_meta(scene_keys)
        except Exception:  # an incomplete scene-level camera: every frame must carry its own
            shared = None
        if shared is not None:
            for key in scene_keys:
                del meta[key]
            meta.update(resized_camera(shared, target).to_meta())
    cameras = []
    for i, frame in enumerate(meta["frames"]):
        expected = resized_camera(scene.camera(i), target)
        if has_own_camera(frame):
            for key in CAMERA_KEYS:
                frame.pop(key, None)
            frame.update(expected.to_meta())
        merged = Camera.from_meta(camera_values(meta, frame))
        if merged.to_meta() != expected.to_meta():
            raise WaiFormatError(
                f"{where(scene=scene.name, frame=str(frame['frame_name']))}: the resized camera does not merge back "
                f"({merged} vs {expected})"
            )
        cameras.append(expected)
    return meta, cameras


def resize_nearest(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Each new pixel centre takes the source pixel it falls in (pixel centres at integers, any dtype/channels)."""
    src_h, src_w = array.shape[:2]
    rows = np.minimum(((np.arange(height) + 0.5) * (src_h / height)).astype(np.int64), src_h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * (src_w / width)).astype(np.int64), src_w - 1)
    return array[rows[:, None], cols[None, :]]


def resize_image_bytes(rgb: np.ndarray, width: int, height: int, suffix: str) -> bytes:
    """Area-resample an RGB image and encode it again in the format its file suffix names."""
    resized = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    name = Path(f"image{suffix}")
    return encode_raster(name, resized[:, :, ::-1], encode_params(name, quality=95, png_compression=1))
