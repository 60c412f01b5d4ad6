"""`SceneWriter`: create a WAI scene folder frame by frame.

Files are written atomically as frames arrive; `scene_meta.json` is written last, when the writer closes without
an error. A reader accepts a scene only once its meta exists, so a crash mid-scene leaves nothing that loads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from wai import io
from wai.atomic import atomic_copy_or_link
from wai.camera import Camera
from wai.camera.conventions import pose_faults
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.io.exr_formats import zero_nonfinite
from wai.scene.meta import FORMAT_VERSION, SCENE_META, save_scene_meta
from wai.scene.paths import check_relative
from wai.scene.pixels import pixel_size


@dataclass(frozen=True)
class ModalitySpec:
    """Where and how a frame modality is stored: ``<folder>/<frame_name><suffix>`` with codec `format`."""

    folder: str
    suffix: str
    format: str
    frame_key: str


#: The modalities converters write, with the reference's folder names, frame keys and codecs.
STANDARD_MODALITIES: dict[str, ModalitySpec] = {
    "image": ModalitySpec("images", ".png", "image", "image"),
    "depth": ModalitySpec("depth", ".exr", "depth", "depth"),
    "mask": ModalitySpec("masks", ".png", "binary", "mask"),
    "skymask": ModalitySpec("skymasks", ".png", "binary", "skymask"),
    "normals": ModalitySpec("normals", ".exr", "normals", "normals"),
    "depth_confidence": ModalitySpec("depth_confidence", ".exr", "scalar", "depth_confidence"),
}

logger = logging.getLogger(__name__)

LinkMode = Literal["copy", "symlink", "hardlink"]


@dataclass(frozen=True)
class WriterSummary:
    """What a `SceneWriter` wrote: the frame count and, per frame, how many NaN/inf depth pixels became 0."""

    scene: str
    frames: int
    nonfinite_depth: dict[str, int]

    @property
    def nonfinite_depth_pixels(self) -> int:
        """Total depth pixels written as 0 because they were NaN or infinite."""
        return sum(self.nonfinite_depth.values())

    def __str__(self) -> str:
        text = f"scene '{self.scene}': {self.frames} frame(s)"
        if self.nonfinite_depth:
            text += (
                f"; {self.nonfinite_depth_pixels} NaN/inf depth pixel(s) in {len(self.nonfinite_depth)} frame(s) "
                "written as 0 (invalid)"
            )
        return text


class SceneWriter:
    """Write one scene. Use as a context manager; the meta is saved only on a clean exit.

    `camera` given here means shared intrinsics (the coefficients go to the scene level); otherwise each
    `add_frame` must pass its own camera. `meta_name` is `scene_meta_distorted.json` for scenes whose frames
    still need `wai undistort` (distorted modalities are named ``*_distorted``).
    """

    def __init__(
        self,
        scene_dir: str | Path,
        *,
        dataset_name: str,
        scale_type: Literal["metric", "colmap", "relative"] = "metric",
        camera: Camera | None = None,
        version: str | float = FORMAT_VERSION,
        modalities: Mapping[str, ModalitySpec] | None = None,
        link_mode: LinkMode = "copy",
        meta_name: str = SCENE_META,
    ) -> None:
        self.scene_dir = Path(scene_dir)
        self.meta_name = meta_name
        self.scene_name = self.scene_dir.name
        self.modalities = dict(STANDARD_MODALITIES if modalities is None else modalities)
        self.link_mode = link_mode
        self.camera = camera
        self.meta: dict[str, Any] = {
            "scene_name": self.scene_name,
            "dataset_name": dataset_name,
            "version": version,
            "last_modified": None,
            "shared_intrinsics": camera is not None,
            "camera_convention": "opencv",
            "scale_type": scale_type,
        }
        if camera is not None:
            self.meta.update(camera.to_meta())
        self.meta["frames"] = []
        self._used: dict[str, ModalitySpec] = {}
        self._scene_modalities: dict[str, Any] = {}
        self._names: set[str] = set()
        self._nonfinite_depth: dict[str, int] = {}
        self._closed = False
        self.scene_dir.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> SceneWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()

    def _loc(self, frame: str | None = None, field: str | None = None) -> str:
        return where(scene=self.scene_name, frame=frame, field=field)

    def add_frame(
        self,
        name: str,
        cam2world: np.ndarray | None,
        *,
        camera: Camera | None = None,
        extra: Mapping[str, Any] | None = None,
        link_suffixes: Mapping[str, str] | None = None,
        **data: np.ndarray | Path,
    ) -> dict[str, Any]:
        """Add a frame: its (4, 4) OpenCV cam2world pose and one array (or existing file `Path`) per modality.

        `link_suffixes` gives a linked or copied file another suffix than its source's (the reference links ETH3D's
        JPEGs as ``images/<frame>.png``). A pose of None writes no `transform_matrix` (frames of datasets that publish none, e.g. Spring's test split).

        ``writer.add_frame("000003", T, image=rgb, depth=z)`` writes ``images/000003.png`` and
        ``depth/000003.exr``. A `Path` is copied or linked (per `link_mode`) keeping its suffix.

        Everything is checked before the first file is written, and a bad frame raises `WaiFormatError` naming the
        scene, the frame and the field: the pose, when given, must be rigid (`conventions.pose_faults`), every array of a
        per-pixel format must have the camera's h x w, and depth must be >= 0. NaN and infinite depth pixels are
        written as 0 (invalid) and counted in `summary`; a depth map without a single finite pixel is an error (it
        almost always means a broken source, not a frame without depth). Linked or copied files are not decoded
        here; `wai validate --deep` checks them.
        """
        name = str(name)
        if name in self._names:
            raise WaiFormatError(f"{self._loc(frame=name)}: duplicate frame name")
        check_relative(name, scene=self.scene_name, frame=name, field="frame_name")
        if "/" in name:
            raise WaiFormatError(
                f"{self._loc(frame=name)}: frame names are file stems and may not contain '/'"
            )
        pose = None if cam2world is None else self._checked_pose(name, cam2world)
        frame_camera = camera if camera is not None else self.camera
        if frame_camera is None:
            raise WaiFormatError(
                f"{self._loc(frame=name)}: no camera (pass one per frame or one for the scene)"
            )
        planned = [self._plan_file(name, modality, value, frame_camera) for modality, value in data.items()]
        reserved = {
            "frame_name",
            "transform_matrix",
            "file_path",
            *(spec.frame_key for spec, _, _ in planned),
        }
        clash = sorted(reserved & set(extra or ()))
        if clash:
            raise WaiFormatError(
                f"{self._loc(frame=name, field=clash[0])}: extra keys may not replace keys the writer sets ({clash})"
            )
        frame: dict[str, Any] = {"frame_name": name}
        for (spec, value, invalid), modality in zip(planned, data, strict=True):
            suffix = (link_suffixes or {}).get(modality)
            frame[spec.frame_key] = self._write_file(spec, name, value, suffix)
            self._used.setdefault(modality, spec)
            if invalid:
                self._nonfinite_depth[name] = self._nonfinite_depth.get(name, 0) + invalid
        if "image" in data:
            frame["file_path"] = frame[self.modalities["image"].frame_key]
        if pose is not None:
            frame["transform_matrix"] = pose.tolist()
        if camera is not None:
            frame.update(camera.to_meta())
        if extra:
            frame.update(extra)
        self.meta["frames"].append(frame)
        self._names.add(name)
        return frame

    @property
    def summary(self) -> WriterSummary:
        """What was written so far, including the depth pixels that had to be zeroed."""
        return WriterSummary(
            scene=self.scene_name,
            frames=len(self.meta["frames"]),
            nonfinite_depth=dict(self._nonfinite_depth),
        )

    def _checked_pose(self, name: str, cam2world: np.ndarray) -> np.ndarray:
        try:
            pose = np.asarray(cam2world, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise WaiFormatError(
                f"{self._loc(frame=name, field='transform_matrix')}: expected a finite 4x4 matrix ({exc})"
            ) from exc
        faults = pose_faults(pose)
        if faults:
            raise WaiFormatError(
                f"{self._loc(frame=name, field='transform_matrix')}: not a rigid cam2world pose: {'; '.join(faults)}"
            )
        return pose

    def _plan_file(
        self, name: str, modality: str, value: np.ndarray | Path, camera: Camera
    ) -> tuple[ModalitySpec, np.ndarray | Path, int]:
        """Check one modality of a frame before anything is written: ``(spec, data to write, zeroed pixels)``."""
        spec = self.modalities.get(modality)
        if spec is None:
            raise WaiFormatError(
                f"{self._loc(frame=name)}: unknown modality '{modality}'; known: {sorted(self.modalities)}"
            )
        field = spec.frame_key
        codec = io.codec_for(spec.format)
        if isinstance(value, (str, os.PathLike)):
            source = Path(value)
            if not source.is_file():
                raise WaiFileNotFoundError(
                    f"{self._loc(frame=name, field=field)}: source file '{source}' does not exist"
                )
            codec.check_suffix(Path(f"{name}{source.suffix}"))
            return spec, source, 0
        array = np.asarray(value)
        if codec.per_pixel:
            size = pixel_size(array, spec.format)
            if size != camera.size:
                raise WaiFormatError(
                    f"{self._loc(frame=name, field=field)}: array of shape {array.shape} is "
                    f"{size[1]}x{size[0]} (WxH) but the camera is {camera.width}x{camera.height}"
                )
        if spec.format != "depth" or array.dtype.kind not in "fc":
            return spec, value, 0
        cleaned, invalid = zero_nonfinite(array)
        if invalid and invalid == array.size:
            raise WaiFormatError(
                f"{self._loc(frame=name, field=field)}: depth has no finite pixel ({invalid} NaN or infinite); "
                "store zeros for a frame without depth"
            )
        return spec, cleaned, invalid

    def _write_file(
        self, spec: ModalitySpec, name: str, value: np.ndarray | Path, suffix: str | None = None
    ) -> str:
        if isinstance(value, (str, os.PathLike)):
            source = Path(value)
            rel = f"{spec.folder}/{name}{source.suffix if suffix is None else suffix}"
            atomic_copy_or_link(source, self.scene_dir / rel, self.link_mode)
            return rel
        rel = f"{spec.folder}/{name}{spec.suffix}"
        written = io.store(self.scene_dir / rel, value, spec.format)
        return Path(written).relative_to(self.scene_dir).as_posix()

    def add_scene_modality(self, name: str, rel_path: str, format: str, data: Any = None) -> str:
        """Record a scene-level modality (a mesh, mappings, a matrix), writing `data` there if given."""
        rel = check_relative(rel_path, scene=self.scene_name, field=f"scene_modalities.{name}")
        if data is not None:
            rel = Path(io.store(self.scene_dir / rel, data, format)).relative_to(self.scene_dir).as_posix()
        self._scene_modalities[name] = {"scene_key": rel, "format": format}
        return rel

    def record_transform(self, name: str, matrix: np.ndarray) -> None:
        """Record a transform applied to the source poses under `_applied_transforms[name]`.

        `_applied_transform` (singular, the reference's key) holds the matrix when exactly one was recorded.
        """
        transforms = self.meta.setdefault("_applied_transforms", {})
        transforms[name] = np.asarray(matrix, dtype=np.float64).tolist()
        if len(transforms) == 1:
            self.meta["_applied_transform"] = transforms[name]
        else:
            self.meta.pop("_applied_transform", None)

    def set(self, key: str, value: Any) -> None:
        """Set an extra top-level key (kept verbatim by every reader)."""
        if key in ("frames", "frame_modalities", "scene_modalities"):
            raise WaiFormatError(
                f"{self._loc(field=key)}: managed by the writer; use add_frame/add_scene_modality"
            )
        self.meta[key] = value

    def close(self) -> Path:
        """Write `scene_meta.json` and return its path. Without frames this is an error.

        Depth pixels that were written as 0 because they were NaN or infinite are logged (warning) with their count.
        """
        if self._closed:
            return self.scene_dir / self.meta_name
        if not self.meta["frames"]:
            raise WaiFormatError(f"{self._loc()}: no frames were added")
        self.meta["frame_modalities"] = {
            name: {"frame_key": spec.frame_key, "format": spec.format} for name, spec in self._used.items()
        }
        self.meta["scene_modalities"] = self._scene_modalities
        path = self.scene_dir / self.meta_name
        save_scene_meta(path, self.meta, backup=False)
        self._closed = True
        if self._nonfinite_depth:
            logger.warning("%s", self.summary)
        return path
