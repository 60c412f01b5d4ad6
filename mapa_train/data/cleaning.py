"""Reading one frame and applying its dataset row's masking and cleaning rules at native resolution (spec 1.2, 1.7)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from mapa_train.data.crop import resize_image, resize_nearest
from mapa_train.data.rows import DatasetRow
from mapa_train.errors import MapaDataError
from wai.camera import Camera
from wai.errors import WaiError, where
from wai.geometry import as_camera

log = logging.getLogger(__name__)


@dataclasses.dataclass
class CleanView:
    """A frame ready for crop and resize: image (H, W, 3) uint8, cleaned depth (H, W) float32, pinhole camera."""

    image: np.ndarray
    depth: np.ndarray
    camera: Camera
    cam2world: np.ndarray
    non_ambiguous: np.ndarray | None
    nonfinite: int
    """Non-finite depth pixels found (and zeroed)."""
    skipped: list[str]
    """Rules skipped because their modality is missing (each warned once per scene)."""


class MissingModalityWarner:
    """Warns once per (scene, modality) that a rule is skipped, and counts every skip."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.skips = 0

    def __call__(self, scene: str, modality: str, rule: str) -> None:
        self.skips += 1
        if (scene, modality) not in self.seen:
            self.seen.add((scene, modality))
            log.warning(
                "%s: modality '%s' is missing; the '%s' rule is skipped for this scene (warned once per scene)",
                where(scene=scene),
                modality,
                rule,
            )


def has_modality(frame: Any, name: str) -> bool:
    """Whether the scene declares `name` and this frame has a file for it."""
    try:
        return bool(frame.has(name))
    except WaiError:
        return False


def _percentile_clip(depth: np.ndarray, q: float) -> np.ndarray:
    p = np.percentile(depth, q)
    return np.where(depth > p, np.float32(0), depth)


def _pinhole(frame: Any, scene_name: str) -> Camera:
    camera = frame.camera
    if not camera.is_pinhole:
        raise MapaDataError(
            f"{where(scene=scene_name, frame=frame.name)}: camera model {camera.model.value} has distortion; "
            "training needs pinhole frames (run `wai undistort` first)"
        )
    return as_camera(camera.K, camera.height, camera.width)


def read_clean_view(
    frame: Any, row: DatasetRow, scene_name: str, on_skip: Callable[[str, str, str], None]
) -> CleanView:
    """Load image, depth, camera and pose of `frame` and apply `row`'s rules in the order of `rows`' docstring."""
    loc = where(scene=scene_name, frame=frame.name)
    image = frame.image
    depth = np.asarray(frame.load(row.depth), dtype=np.float32)
    camera = _pinhole(frame, scene_name)
    cam2world = np.asarray(frame.cam2world, dtype=np.float64)
    if not np.all(np.isfinite(cam2world)):
        raise MapaDataError(f"{loc}: the pose is missing or not finite")
    if image.shape[:2] != camera.size:
        raise MapaDataError(
            f"{loc}: image is {image.shape[1]}x{image.shape[0]} but the camera is {camera.width}x{camera.height}"
        )
    bad = ~np.isfinite(depth)
    nonfinite = int(np.count_nonzero(bad))
    if nonfinite:
        if not row.zero_nonfinite:
            raise MapaDataError(f"{loc}, field '{row.depth}': {nonfinite} depth pixels are NaN or infinite")
        depth = np.where(bad, np.float32(0), depth)
    if depth.shape != camera.size:
        if not row.depth_sets_size:
            raise MapaDataError(
                f"{loc}, field '{row.depth}': depth is {depth.shape[1]}x{depth.shape[0]} but the image is "
                f"{camera.width}x{camera.height}"
            )
        # DL3DV: bring the depth to the image's aspect without enlarging it, then the image down to that size.
        s = min(depth.shape[0] / camera.height, depth.shape[1] / camera.width, 1.0)
        size = (max(1, round(camera.width * s)), max(1, round(camera.height * s)))
        depth = resize_nearest(depth, size)
        image = resize_image(image, size)
        camera = camera.resized(*size)
    size = (camera.width, camera.height)
    skipped: list[str] = []

    def mask_of(name: str, rule: str) -> np.ndarray | None:
        if not has_modality(frame, name):
            if row.on_missing == "error":
                raise MapaDataError(f"{loc}: modality '{name}' (rule '{rule}') is missing")
            on_skip(scene_name, name, rule)
            skipped.append(rule)
            return None
        return resize_nearest(np.asarray(frame.load(name)), size)

    if row.confidence:
        conf = mask_of(row.confidence, "confidence")
        if conf is not None:
            depth = np.where(conf <= row.confidence_threshold, np.float32(0), depth)
    if row.sky_mask:
        sky = mask_of(row.sky_mask, "sky mask")
        if sky is not None:
            depth = np.where(sky.astype(bool), np.float32(0), depth)
    if row.clip_percentile is not None and row.clip_before_mask:
        depth = _percentile_clip(depth, row.clip_percentile)
    non_ambiguous = None
    if row.mask:
        mask = mask_of(row.mask, "non-ambiguous mask")
        if mask is not None:
            non_ambiguous = mask.astype(bool)
            depth = np.where(non_ambiguous, depth, np.float32(0))
    elif row.mask_from_depth:
        non_ambiguous = depth > 0
    if row.clip_percentile is not None and not row.clip_before_mask:
        depth = _percentile_clip(depth, row.clip_percentile)
    return CleanView(
        image, depth.astype(np.float32, copy=False), camera, cam2world, non_ambiguous, nonfinite, skipped
    )
