"""`SceneWriter`: create a WAI scene folder frame by frame.

Files are written atomically as frames arrive; `scene_meta.json` is written last, when the writer closes without
an error. A reader accepts a scene only once its meta exists, so a crash mid-scene leaves nothing that loads.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from wai import io
from wai.camera import Camera
from wai.errors import WaiFormatError, where
from wai.scene.meta import FORMAT_VERSION, SCENE_META, save_scene_meta
from wai.scene.paths import check_relative


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

LinkMode = Literal["copy", "symlink", "hardlink"]


class SceneWriter:
    """Write one scene. Use as a context manager; the meta is saved only on a clean exit.

    `camera` given here means shared intrinsics (the coefficients go to the scene level); otherwise each
    `add_frame` must pass its own camera.
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
    ) -> None:
        self.scene_dir = Path(scene_dir)
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
        **data: np.ndarray | Path,
    ) -> dict[str, Any]:
        """Add a frame: its (4, 4) OpenCV cam2world pose and one array (or existing file `Path`) per modality.

        A pose of None writes no `transform_matrix` (frames of datasets that publish none, e.g. Spring's test split).

        ``writer.add_frame("000003", T, image=rgb, depth=z)`` writes ``images/000003.png`` and
        ``depth/000003.exr``. A `Path` is copied or linked (per `link_mode`) keeping its suffix.
        """
        name = str(name)
        if name in self._names:
            raise WaiFormatError(f"{self._loc(frame=name)}: duplicate frame name")
        check_relative(name, scene=self.scene_name, frame=name, field="frame_name")
        if "/" in name:
            raise WaiFormatError(
                f"{self._loc(frame=name)}: frame names are file stems and may not contain '/'"
            )
        pose = None if cam2world is None else np.asarray(cam2world, dtype=np.float64)
        if pose is not None and (pose.shape != (4, 4) or not np.all(np.isfinite(pose))):
            raise WaiFormatError(
                f"{self._loc(frame=name, field='transform_matrix')}: expected a finite 4x4 matrix"
            )
        if camera is None and self.camera is None:
            raise WaiFormatError(
                f"{self._loc(frame=name)}: no camera (pass one per frame or one for the scene)"
            )
        frame: dict[str, Any] = {"frame_name": name}
        for modality, value in data.items():
            spec = self.modalities.get(modality)
            if spec is None:
                raise WaiFormatError(
                    f"{self._loc(frame=name)}: unknown modality '{modality}'; known: {sorted(self.modalities)}"
                )
            frame[spec.frame_key] = self._write_file(spec, name, value)
            self._used.setdefault(modality, spec)
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

    def _write_file(self, spec: ModalitySpec, name: str, value: np.ndarray | Path) -> str:
        if isinstance(value, (str, os.PathLike)):
            source = Path(value)
            rel = f"{spec.folder}/{name}{source.suffix}"
            target = self.scene_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                target.unlink()
            if self.link_mode == "symlink":
                target.symlink_to(source.resolve())
            elif self.link_mode == "hardlink":
                os.link(source, target)
            else:
                shutil.copyfile(source, target)
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
        """Write `scene_meta.json` and return its path. Without frames this is an error."""
        if self._closed:
            return self.scene_dir / SCENE_META
        if not self.meta["frames"]:
            raise WaiFormatError(f"{self._loc()}: no frames were added")
        self.meta["frame_modalities"] = {
            name: {"frame_key": spec.frame_key, "format": spec.format} for name, spec in self._used.items()
        }
        self.meta["scene_modalities"] = self._scene_modalities
        path = self.scene_dir / SCENE_META
        save_scene_meta(path, self.meta, backup=False)
        self._closed = True
        return path
