"""`ViewRecord`: one view as the viewer needs it, and how a scene's frames become records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from wai.camera import Camera
from wai.errors import WaiFormatError, where
from wai.scene import Scene

#: Depth modalities tried in order when the caller names none (GT depth, mesh-rendered depth, the depth of a scene
#: not undistorted yet), then the first prediction.
DEPTH_PREFERENCE = ("depth", "rendered_depth", "depth_distorted")
#: Image modalities tried in order: a scene's images, or a distorted scene's (before `wai undistort`).
IMAGE_PREFERENCE = ("image", "image_distorted")


@dataclass
class ViewRecord:
    """One view: arrays at one resolution, OpenCV cam2world pose, z-depth in metres (0 = invalid)."""

    name: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    camera: Camera  # any wai camera model; the viewer draws its linear part as a pinhole
    cam2world: np.ndarray  # (4, 4) float64
    depth: np.ndarray | None = None  # (H, W) float32
    masks: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (H, W) bool
    scalars: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (H, W) float32 (confidence maps)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the image."""
        return int(self.image.shape[1]), int(self.image.shape[0])


def default_depth_modality(scene: Scene) -> str | None:
    """The depth a scene is best shown with: GT, then rendered, then the first prediction; None if it has none."""
    names = scene.frame_modality_names
    for name in DEPTH_PREFERENCE:
        if name in names:
            return name
    return next((n for n in names if n.startswith("pred_depth/")), None)


def default_image_modality(scene: Scene) -> str:
    """The scene's image modality: `image`, or `image_distorted` in a scene that is not undistorted yet."""
    names = scene.frame_modality_names
    for name in IMAGE_PREFERENCE:
        if name in names:
            return name
    raise WaiFormatError(
        f"{where(scene=scene.name, field='frame_modalities')}: no image modality (one of {names})"
    )


def _to_image_size(data: np.ndarray, size: tuple[int, int], what: str) -> np.ndarray:
    """Nearest-neighbour resize of a per-pixel map to the image's (width, height); predictions are often smaller."""
    if data.shape[:2] == (size[1], size[0]):
        return data
    if data.ndim != 2:
        raise WaiFormatError(f"{what}: expected an (H, W) map, got shape {data.shape}")
    source = data.astype(np.uint8) if data.dtype == bool else data
    resized = cv2.resize(source, size, interpolation=cv2.INTER_NEAREST)
    return resized.astype(bool) if data.dtype == bool else resized


def scene_views(
    scene: Scene,
    indices: Sequence[int],
    *,
    depth: str | None = "auto",
    masks: Sequence[str] = (),
    scalars: Sequence[str] = (),
) -> list[ViewRecord]:
    """Records of the frames at `indices`. `depth="auto"` picks `default_depth_modality`; None shows no depth.

    A frame that lacks a requested modality is shown without it; a file that is there but unreadable raises.
    """
    depth_name = default_depth_modality(scene) if depth == "auto" else depth
    image_name = default_image_modality(scene)
    records = []
    for index in indices:
        frame = scene.frames[index]
        image = frame.load(image_name)
        size = (int(image.shape[1]), int(image.shape[0]))
        record = ViewRecord(frame.name, image, frame.camera, frame.cam2world)
        if (record.camera.width, record.camera.height) != size:
            record.camera = record.camera.resized(*size)
        loc = where(scene=scene.name, frame=frame.name)
        if depth_name is not None and frame.has(depth_name):
            values = np.asarray(frame.load(depth_name), dtype=np.float32)
            values = np.where(np.isfinite(values) & (values > 0), values, 0).astype(np.float32)
            record.depth = _to_image_size(values, size, f"{loc}, modality '{depth_name}'")
        for name in masks:
            if frame.has(name):
                mask = np.asarray(frame.load(name), dtype=bool)
                record.masks[name] = _to_image_size(mask, size, f"{loc}, modality '{name}'")
        for name in scalars:
            if frame.has(name):
                values = np.asarray(frame.load(name), dtype=np.float32)
                record.scalars[name] = _to_image_size(values, size, f"{loc}, modality '{name}'")
        records.append(record)
    return records
