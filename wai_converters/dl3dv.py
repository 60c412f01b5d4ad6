"""`wai convert dl3dv`: DL3DV-10K, as the reference's ``dl3dv`` converter writes it (distorted, no depth).

Raw layout (``--src`` holds the split folders ``1K`` .. ``11K``; missing ones are simply absent here)::

    <src>/<k>K/<scene_hash>/transforms.json     nerfstudio: OPENCV k1,k2,p1,p2, OpenGL cam2world, applied_transform
    <src>/<k>K/<scene_hash>/images/frame_00001.png ...
    <src>/<k>K/<scene_hash>/colmap/             linked as is, not parsed

WAI scene ``<k>K_<hash>``: ``scene_meta_distorted.json``, ``images_distorted/<stem>.png`` (symlinks) and a
``colmap`` link; `wai undistort` writes ``scene_meta.json``. Depth comes later (`wai ingest-depth`, an MVS stage).
Intrinsics and distortion are copied verbatim from transforms.json, as the reference does. The one convention change
(OpenGL to OpenCV camera axes, rotation times diag(1, -1, -1)) happens in `_pose`; DL3DV's own
``applied_transform`` (COLMAP world -> this world) is kept as ``_applied_transform``. A portrait capture (h > w) is
recorded as ``data_issue`` and not converted, as in the reference.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from wai import io
from wai.camera import Camera
from wai.camera.conventions import CONVENTION_TRANSFORMS, apply_transform
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SCENE_META_DISTORTED, save_scene_meta
from wai.scene.meta import FORMAT_VERSION
from wai.stages import SceneResult
from wai_converters.base import Converter, ConverterConfig
from wai_converters.capture_writer import check_pose, natural_key
from wai_converters.nerfstudio_transforms import CAMERA_KEYS, read_transforms

DATASET_NAME = "dl3dv"
SPLITS = tuple(f"{k}K" for k in range(1, 12))
_SCENE_CAMERA_KEYS = tuple(k for k in CAMERA_KEYS if k != "camera_model")


@dataclasses.dataclass
class DL3DVConfig(ConverterConfig):
    src: Path | None = dataclasses.field(
        default=None,
        metadata={"help": "The release folder holding 1K/ .. 11K/ (one sub-folder per scene hash)."},
    )


class DL3DVConverter(Converter):
    name = "dl3dv"
    description = (
        "DL3DV-10K: distorted OPENCV video frames with COLMAP poses, no depth (MVS depth is a later stage)."
    )
    config_class = DL3DVConfig

    config: DL3DVConfig

    def _src(self) -> Path:
        return Path(self.config.src).expanduser().resolve()  # type: ignore[arg-type]

    def source_scenes(self) -> list[str]:
        src = self._src()
        splits = [s for s in SPLITS if (src / s).is_dir()]
        if not splits:
            raise WaiFileNotFoundError(f"dl3dv: no split folder (1K .. 11K) in '{src}'")
        scenes = []
        for split in splits:
            for child in sorted((src / split).iterdir()):
                if not child.is_dir() or child.name.startswith("."):
                    continue
                if "_" in child.name:
                    raise WaiFormatError(
                        f"{where(file=str(child))}: a DL3DV scene hash has no '_' (it separates split and hash)"
                    )
                scenes.append(f"{split}_{child.name}")
        return scenes

    def raw_dir(self, scene: str) -> Path:
        split, _, scene_hash = scene.partition("_")
        return self._src() / split / scene_hash

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        raw = self.raw_dir(scene)
        for needed in ("transforms.json", "images", "colmap"):
            if not (raw / needed).exists():
                raise WaiFileNotFoundError(f"{where(scene=scene, file=str(raw / needed))}: missing")
        path = raw / "transforms.json"
        transforms = read_transforms(path)
        raw_meta = io.load(path, "readable")
        top = {
            k: raw_meta[k] for k in CAMERA_KEYS if k in raw_meta
        }  # the shared camera, as the file's top level
        loc = where(scene=scene, file=str(path))
        for key in ("w", "h", "camera_model", "fl_x", "fl_y", "cx", "cy"):
            if key not in top:
                raise WaiFormatError(f"{where(scene=scene, file=str(path), field=key)}: missing")
        if top["h"] > top["w"]:
            return SceneResult("data_issue", f"portrait capture ({top['w']}x{top['h']}) is not converted")
        meta: dict[str, Any] = {
            "scene_name": scene,
            "dataset_name": DATASET_NAME,
            "version": FORMAT_VERSION,
            "last_modified": None,
            "shared_intrinsics": True,
            "camera_model": top["camera_model"],
            "camera_convention": "opencv",
            "scale_type": "colmap",
        }
        meta.update((k, top[k]) for k in _SCENE_CAMERA_KEYS if k in top)
        camera = Camera.from_meta(meta, where=loc)
        frames = []
        raw_frames = io.load(path, "readable")[
            "frames"
        ]  # for colmap_im_id, which the typed reader leaves out
        listed = sorted(transforms.frames, key=lambda f: natural_key(f.file_path))
        for entry in listed:
            stem = Path(entry.file_path).stem
            floc = where(scene=scene, frame=stem, file=str(path), field=f"frames[{entry.index}]")
            image = raw / entry.file_path
            if not image.is_file():
                raise WaiFileNotFoundError(f"{where(scene=scene, frame=stem, file=str(image))}: missing")
            pixels = io.load(image, "image")
            if pixels.shape[:2] != camera.size:
                raise WaiFormatError(
                    f"{where(scene=scene, frame=stem, file=str(image))}: image is {pixels.shape[1]}x"
                    f"{pixels.shape[0]}, transforms.json says {camera.width}x{camera.height}"
                )
            rel = f"images_distorted/{stem}.png"
            _link(out_dir / rel, image)
            frame: dict[str, Any] = {
                "frame_name": stem,
                "image_distorted": rel,
                "file_path": rel,
                "transform_matrix": self._pose(entry.transform_matrix, scene, stem, path, floc).tolist(),
            }
            colmap_id = raw_frames[entry.index].get("colmap_im_id")
            if isinstance(colmap_id, int) and not isinstance(colmap_id, bool):
                frame["colmap_im_id"] = colmap_id
            frames.append(frame)
        names = [f["frame_name"] for f in frames]
        if len(set(names)) != len(names):
            raise WaiFormatError(f"{loc}: two frames share a file name stem")
        _link(out_dir / "colmap", raw / "colmap")
        meta["frames"] = frames
        meta["frame_modalities"] = {"image_distorted": {"frame_key": "image_distorted", "format": "image"}}
        # The reference lists the link as a scene modality without a format, which no reader can load; as for
        # ScanNet++, the folder is named in a plain key instead (read it with pycolmap).
        meta["scene_modalities"] = {}
        meta["colmap_model"] = "colmap"
        applied = transforms.applied_transform
        gl2cv = CONVENTION_TRANSFORMS["opengl2opencv"].tolist()
        meta["_applied_transform"] = (applied if applied is not None else np.eye(4)).tolist()
        meta["_applied_transforms"] = {"opengl2opencv": gl2cv}
        save_scene_meta(out_dir / SCENE_META_DISTORTED, meta, backup=False)
        return SceneResult(
            message="distorted OPENCV frames, no depth: run `wai undistort`, then a depth stage"
        )

    @staticmethod
    def _pose(gl_c2w: np.ndarray, scene: str, frame: str, path: Path, loc: str) -> np.ndarray:
        """OpenGL cam2world -> OpenCV cam2world: the one change of convention."""
        pose, _ = apply_transform(gl_c2w, "opengl2opencv")
        return check_pose(pose, scene=scene, frame=frame, file=path)


def _link(target: Path, source: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    os.symlink(source.resolve(), target, target_is_directory=source.is_dir())
