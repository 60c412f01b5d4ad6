"""The undistortion stage (process-log name ``undistortion``): distorted frames to PINHOLE frames.

Reads ``scene_meta_distorted.json``; every frame modality whose name ends in ``_distorted`` is remapped through
`wai.camera.undistortion_maps` (images bilinear, depth and masks nearest) and written without the suffix
(``images_distorted/x.jpg`` -> ``images/x.jpg``, frame key ``image_distorted`` -> ``image``). The new
``scene_meta.json`` carries the PINHOLE intrinsics; ``scene_meta_distorted.json`` and the ``*_distorted`` files stay.

Differences from the reference's ``undistort.py``, on purpose:

* masks stay masks (nearest, False outside the field of view) and are written as PNG, never JPEG;
* depth outside the field of view is 0 (invalid), not -1, and keeps its codec (``depth`` stays half-float EXR);
* no frame modality is dropped: raster ones without the suffix (GT depth, confidences, ...) are undistorted too,
  into ``undistorted/<their path>`` under their own key, and the others (arrays, text) are kept as they are;
* per-frame camera keys are replaced too, and every distortion coefficient is removed, not only k1-k4, p1, p2;
* a crop moves the principal point with it (`wai.camera` does the camera maths);
* every OpenCV-style model `wai.camera` knows is undistorted, not only OPENCV and OPENCV_FISHEYE.
"""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path
from typing import Any, Literal

import numpy as np

from wai import io
from wai.camera import Camera, undistort_image, undistortion_maps
from wai.camera.models import ALL_PARAM_NAMES
from wai.errors import WaiCameraError, WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SCENE_META, SCENE_META_DISTORTED, load_scene_meta, save_scene_meta
from wai.scene.meta import backup_name
from wai.scene.modalities import iter_leaves
from wai.scene.paths import resolve_in_scene
from wai.stages import Stage

STAGE_NAME = "undistortion"
SUFFIX = "_distorted"
UNDISTORTED_FOLDER = "undistorted"  # undistorted copies of modalities whose name has no suffix

Kind = Literal["image", "depth", "mask"]

#: How each codec's pixels are remapped; formats not listed here cannot be undistorted.
KIND_OF_FORMAT: dict[str, Kind] = {
    "image": "image",
    "depth": "depth",
    "scalar": "depth",
    "binary": "mask",
}

#: Suffix written when the distorted file's suffix does not suit the output (masks never go to JPEG).
_OUTPUT_SUFFIX: dict[str, str] = {"binary": ".png"}
_LOSSY = (".jpg", ".jpeg", ".webp")
_PINHOLE_KEYS = ("fl_x", "fl_y", "cx", "cy")
_DISTORTION_KEYS = tuple(k for k in ALL_PARAM_NAMES if k not in _PINHOLE_KEYS)


@dataclasses.dataclass(frozen=True)
class UndistortConfig:
    """Options of the undistortion stage (the defaults are the reference's)."""

    balance: float = 0.0  # 0: only pixels the distorted image sees; 1: everything it sees (black corners)
    center_principal_point: bool = True  # put the principal point at the image centre, as the reference does
    crop_to_valid: bool | None = (
        None  # None: crop perspective models to the valid area, keep the size for fisheyes
    )
    image_quality: int = 95  # JPEG/WebP quality of undistorted images

    def __post_init__(self) -> None:
        if not 0.0 <= self.balance <= 1.0:
            raise WaiCameraError(f"undistort: balance must be in [0, 1], got {self.balance}")
        if not 1 <= self.image_quality <= 100:
            raise WaiFormatError(f"undistort: image quality must be in 1..100, got {self.image_quality}")


@dataclasses.dataclass(frozen=True)
class PixelModality:
    """A frame modality in the distorted camera's pixels, and where its undistorted twin goes."""

    name: str  # e.g. "anon_mask_distorted" or "depth_confidence"
    frame_key: str
    format: str
    kind: Kind

    @property
    def renamed(self) -> bool:
        """``X_distorted`` becomes ``X`` (files in ``<folder without _distorted>/``)."""
        return self.name.endswith(SUFFIX) and "/" not in self.name

    @property
    def target_key(self) -> str:
        return self.frame_key.removesuffix(SUFFIX) if self.renamed else self.frame_key

    def output_path(self, rel: str) -> str:
        """``images_distorted/x.JPG`` -> ``images/x.JPG``; a file whose path has no ``_distorted`` to drop (so the
        undistorted file would replace the original) goes under ``undistorted/``; masks under a lossy suffix become
        ``.png``."""
        keep_folder = self.renamed and SUFFIX in rel
        path = Path(rel.replace(SUFFIX, "")) if keep_folder else Path(UNDISTORTED_FOLDER) / rel
        suffix = _OUTPUT_SUFFIX.get(self.format)
        if suffix is not None and path.suffix.lower() in _LOSSY:
            path = path.with_suffix(suffix)
        return path.as_posix()


def pixel_modalities(meta: dict[str, Any], scene: str) -> list[PixelModality]:
    """The frame modalities of a distorted meta that must be remapped: every ``*_distorted`` one and every other
    raster one (GT depth, confidences, masks); the others (arrays, text) are kept as they are."""
    context = where(scene=scene, file=SCENE_META_DISTORTED, field="frame_modalities")
    found = []
    for leaf in iter_leaves(meta.get("frame_modalities") or {}, context):
        loc = where(scene=scene, file=SCENE_META_DISTORTED, field=f"frame_modalities.{leaf.name}")
        if leaf.kind != "frame_key":
            raise WaiFormatError(f"{loc}: expected a 'frame_key'")
        kind = KIND_OF_FORMAT.get(leaf.format or "")
        if kind is None:
            if leaf.name.endswith(SUFFIX):
                raise WaiFormatError(
                    f"{loc}: format {leaf.format!r} cannot be undistorted "
                    f"(expected one of {', '.join(KIND_OF_FORMAT)})"
                )
            continue
        found.append(PixelModality(leaf.name, leaf.value, leaf.format or "", kind))
    if not any(m.renamed for m in found):
        raise WaiFormatError(f"{context}: no modality ends in '{SUFFIX}', nothing to undistort")
    return found


def _camera_values(meta: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    keys = ("camera_model", "w", "h", *ALL_PARAM_NAMES)
    return {k: frame.get(k, meta.get(k)) for k in keys if k in frame or k in meta}


def _set_pinhole(target: dict[str, Any], pinhole: Camera) -> None:
    for key in _DISTORTION_KEYS:
        target.pop(key, None)
    target.update(pinhole.to_meta())


def _has_camera(frame: dict[str, Any]) -> bool:
    return any(k in frame for k in ("camera_model", "w", "h", *ALL_PARAM_NAMES))


class Undistorter:
    """The stage function: undistort one scene folder (picklable, so it runs in worker processes and on SLURM)."""

    def __init__(self, config: UndistortConfig | None = None) -> None:
        self.config = config or UndistortConfig()

    def _maps(self, camera: Camera) -> tuple[np.ndarray, np.ndarray, Camera]:
        cfg = self.config
        return undistortion_maps(
            camera,
            balance=cfg.balance,
            center_principal_point=cfg.center_principal_point,
            crop_to_valid=cfg.crop_to_valid,
        )

    def __call__(self, scene_dir: Path) -> None:
        scene = scene_dir.name
        source = scene_dir / SCENE_META_DISTORTED
        if not source.is_file():
            raise WaiFileNotFoundError(
                f"{where(scene=scene, file=str(source))}: missing (the converter writes it for distorted cameras)"
            )
        distorted = load_scene_meta(source)
        modalities = pixel_modalities(distorted, scene)
        meta = copy.deepcopy(distorted)
        maps_by_camera: dict[Camera, tuple[np.ndarray, np.ndarray, Camera]] = {}
        scene_pinhole: Camera | None = None
        for frame in meta["frames"]:
            name = str(frame["frame_name"])
            camera = Camera.from_meta(
                _camera_values(distorted, frame),
                where=where(scene=scene, frame=name, file=SCENE_META_DISTORTED),
            )
            maps = maps_by_camera.get(camera)
            if maps is None:
                maps = maps_by_camera[camera] = self._maps(camera)
            pinhole = maps[2]
            if _has_camera(frame):
                _set_pinhole(frame, pinhole)
            else:
                scene_pinhole = pinhole
            for modality in modalities:
                self._undistort_file(scene_dir, frame, modality, camera, maps)
            if "image" in frame:
                frame["file_path"] = frame["image"]
        if scene_pinhole is None:
            # Every frame has its own camera: the scene level keeps only what no frame overrides.
            scene_pinhole = next(iter(maps_by_camera.values()))[2]
        _set_pinhole(meta, scene_pinhole)
        tree = meta.setdefault("frame_modalities", {})
        for modality in modalities:
            if modality.renamed:
                del tree[modality.name]
                tree[modality.target_key] = {"frame_key": modality.target_key, "format": modality.format}
        save_scene_meta(scene_dir / SCENE_META, meta, backup=False)

    def _undistort_file(
        self,
        scene_dir: Path,
        frame: dict[str, Any],
        modality: PixelModality,
        camera: Camera,
        maps: tuple[np.ndarray, np.ndarray, Camera],
    ) -> None:
        scene, name = scene_dir.name, str(frame["frame_name"])
        rel = frame.pop(modality.frame_key, None)
        if rel is None:
            if not modality.renamed:
                return  # optional modalities may be missing in some frames
            raise WaiFormatError(
                f"{where(scene=scene, frame=name, file=SCENE_META_DISTORTED, field=modality.frame_key)}: missing; "
                f"every frame needs its '{modality.frame_key}' file"
            )
        path = resolve_in_scene(scene_dir, rel, scene=scene, frame=name, field=modality.frame_key)
        data = io.load(path, modality.format)
        expected = camera.size
        if data.shape[:2] != expected:
            raise WaiFormatError(
                f"{where(scene=scene, frame=name, file=str(path))}: {modality.name} is "
                f"{data.shape[1]}x{data.shape[0]}, but the camera says {expected[1]}x{expected[0]}"
            )
        out = undistort_image(data, maps, modality.kind)
        new_rel = modality.output_path(str(rel))
        target = resolve_in_scene(scene_dir, new_rel, scene=scene, frame=name, field=modality.target_key)
        options = {"quality": self.config.image_quality} if modality.format == "image" else {}
        written = io.store(target, out, modality.format, **options)
        frame[modality.target_key] = Path(written).relative_to(scene_dir).as_posix()

    def reset(self, scene_dir: Path) -> None:
        """Remove what an earlier attempt wrote: `scene_meta.json` and the undistorted files it would list."""
        for name in (SCENE_META, backup_name(Path(SCENE_META)).name):
            (scene_dir / name).unlink(missing_ok=True)
        source = scene_dir / SCENE_META_DISTORTED
        if not source.is_file():
            return
        distorted = load_scene_meta(source)
        folders: set[str] = set()
        inputs: set[str] = set()
        for modality in pixel_modalities(distorted, scene_dir.name):
            for frame in distorted["frames"]:
                rel = frame.get(modality.frame_key)
                if isinstance(rel, str) and "/" in rel:
                    folders.add(modality.output_path(rel).split("/")[0])
                    inputs.add(rel.split("/")[0])
        for folder in folders - inputs:  # never a folder that holds distorted originals
            path = scene_dir / folder
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)


def undistort_stage(config: UndistortConfig | None = None) -> Stage:
    """The `Stage` for `wai.stages.run_stage`; it runs after conversion."""
    undistorter = Undistorter(config)
    return Stage(STAGE_NAME, undistorter, requires=("conversion",), reset=undistorter.reset)
