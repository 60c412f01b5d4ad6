"""`wai convert nerfstudio`: any ``transforms.json`` dataset (nerfstudio, instant-ngp), depth optional.

``--src`` is one capture folder holding ``transforms.json`` (one scene, named after the folder) or a folder of
such captures. Paths in the file are relative to its folder; an image path without a suffix (instant-ngp's
synthetic scenes) is tried with ``.png`` and ``.jpg``.

Conventions changed here, in one place (`_frames`), and recorded under ``_applied_transforms``:

* ``opengl2opencv``: poses are OpenGL camera-to-world; their rotation is right-multiplied by diag(1, -1, -1)
  (translation unchanged), as the reference does for DL3DV and ScanNet++.
* ``pixel_centre``: nerfstudio and instant-ngp put the top-left pixel's centre at (0.5, 0.5) (their rays go
  through pixel + 0.5; their exports copy COLMAP's cx, cy); WAI at (0, 0): cx, cy move by ``--pixel-centre``
  (-0.5; 0 keeps them). Recorded as the 3x3 matrix applied to the file's K.
* ``depth_unit_scale_factor``: stored depth times this factor gives the scene's units (metres); recorded as [[s]].

``_applied_transform`` (the reference's single matrix) holds the file's ``applied_transform`` (COLMAP world to
this world) when it has one, as the reference's DL3DV converter writes it, else the OpenGL-to-OpenCV matrix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np

from wai import io
from wai.camera import Camera
from wai.camera.conventions import CONVENTION_TRANSFORMS, apply_transform
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.stages import SceneResult
from wai_converters.base import ConverterConfig
from wai_converters.capture_converter import CaptureConverter
from wai_converters.capture_writer import (
    Capture,
    CaptureFrame,
    check_pose,
    frame_names,
    natural_key,
    shift_principal_point,
    write_capture,
)
from wai_converters.nerfstudio_transforms import Transforms, camera_values, read_transforms

#: nerfstudio's default when a dataset does not say (its dataparser option ``depth_unit_scale_factor``).
DEFAULT_DEPTH_UNIT_SCALE = 1e-3
_UINT16_INVALID = 65535  # saturated sensor readings (7-Scenes has them)


@dataclasses.dataclass
class NerfstudioConfig(ConverterConfig):
    transforms: str = dataclasses.field(
        default="transforms.json", metadata={"help": "Name of the transforms file in each capture folder."}
    )
    depth_unit_scale: float | None = dataclasses.field(
        default=None,
        metadata={
            "help": "Metres per stored depth unit (default: the file's depth_unit_scale_factor, else 0.001)."
        },
    )
    pixel_centre: float = dataclasses.field(
        default=-0.5,
        metadata={"help": "Added to cx, cy: -0.5 for nerfstudio/instant-ngp pixel centres, 0 to keep them."},
    )
    depth: bool = dataclasses.field(
        default=True, metadata={"help": "Read depth_file_path entries if present."}
    )
    scale_type: Literal["colmap", "metric"] = dataclasses.field(
        default="colmap", metadata={"help": "'metric' if poses (and depth) are in metres."}
    )
    link_mode: Literal["copy", "symlink", "hardlink"] = dataclasses.field(
        default="copy", metadata={"help": "How images get into the scene folder."}
    )
    dataset_name: str = dataclasses.field(
        default="nerfstudio", metadata={"help": "dataset_name in scene_meta.json."}
    )


class NerfstudioConverter(CaptureConverter):
    name = "nerfstudio"
    description = "Any transforms.json dataset (nerfstudio, instant-ngp); depth_file_path depth if present."
    config_class = NerfstudioConfig

    config: NerfstudioConfig

    def _is_capture(self, path: Path) -> bool:
        return (path / self.config.transforms).is_file() or (path / "images").is_dir()

    def _no_captures(self, src: Path) -> NoReturn:
        raise WaiFileNotFoundError(
            f"nerfstudio: no {self.config.transforms} in '{src}' or in its sub-folders"
        )

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        transforms = read_transforms(self.capture_dir(scene) / self.config.transforms)
        capture = self._frames(scene, transforms)
        scale = self._depth_scale(transforms)

        def read_depth(path: Path) -> np.ndarray:
            return _read_depth(path) * scale

        return write_capture(
            out_dir,
            capture,
            dataset_name=self.config.dataset_name,
            scale_type=self.config.scale_type,
            read_depth=read_depth,
            link_mode=self.config.link_mode,
        )

    def _depth_scale(self, transforms: Transforms) -> float:
        if self.config.depth_unit_scale is not None:
            if not self.config.depth_unit_scale > 0:
                raise WaiFormatError(
                    f"--depth-unit-scale must be positive, got {self.config.depth_unit_scale}"
                )
            return self.config.depth_unit_scale
        return transforms.depth_unit_scale_factor or DEFAULT_DEPTH_UNIT_SCALE

    def _frames(self, scene: str, transforms: Transforms) -> Capture:
        """transforms.json records -> WAI frames: the one place where conventions change."""
        base = transforms.path.parent
        listed = sorted(transforms.frames, key=lambda f: natural_key(f.file_path))
        names = frame_names([f.file_path for f in listed])
        use_depth = self.config.depth and any(f.depth_file_path for f in listed)
        frames, missing = [], []
        for entry, name in zip(listed, names, strict=True):
            image = _image_path(base, entry.file_path)
            if image is None:
                missing.append(entry.file_path)
                continue
            loc = where(scene=scene, frame=name, file=str(transforms.path), field=f"frames[{entry.index}]")
            values = dict(entry.camera)
            if "w" not in values or "h" not in values:
                pixels = io.load(image, "image")
                values.setdefault("w", pixels.shape[1])
                values.setdefault("h", pixels.shape[0])
            camera = Camera.from_meta(camera_values(values, loc), where=loc)
            camera = shift_principal_point(camera, self.config.pixel_centre)
            pose, _ = apply_transform(entry.transform_matrix, "opengl2opencv")
            pose = check_pose(pose, scene=scene, frame=name, file=transforms.path)
            depth = None
            if use_depth:
                if entry.depth_file_path is None:
                    raise WaiFileNotFoundError(f"{loc}: no depth_file_path while other frames have one")
                depth = base / entry.depth_file_path
            frames.append(CaptureFrame(name, image, pose, camera, depth))
        recorded = {"opengl2opencv": CONVENTION_TRANSFORMS["opengl2opencv"]}
        if self.config.pixel_centre:
            o = self.config.pixel_centre
            recorded["pixel_centre"] = np.array([[1.0, 0.0, o], [0.0, 1.0, o], [0.0, 0.0, 1.0]])
        if use_depth:
            recorded["depth_unit_scale_factor"] = np.array([[self._depth_scale(transforms)]])
        applied = transforms.applied_transform
        single = applied if applied is not None else CONVENTION_TRANSFORMS["opengl2opencv"]
        return Capture(frames, missing, transforms.path, recorded, {"_applied_transform": single.tolist()})


def _image_path(base: Path, file_path: str) -> Path | None:
    """The image file a frame lists, or None if it does not exist."""
    path = base / file_path
    if path.is_file():
        return path
    if not path.suffix:
        for suffix in (".png", ".jpg"):
            if path.with_suffix(suffix).is_file():
                return path.with_suffix(suffix)
    return None


def _read_depth(path: Path) -> np.ndarray:
    """Stored depth values as float32 (units as stored; 0 where invalid): 16-bit PNG (65535 = invalid), .npy or EXR."""
    suffix = path.suffix.lower()
    if suffix == ".png":
        return io.load(path, "png16", scale=1.0, invalid=_UINT16_INVALID)
    if suffix == ".npy":
        return np.asarray(io.load(path, "numpy"), dtype=np.float32)
    if suffix == ".exr":
        return np.asarray(io.load(path, "scalar"), dtype=np.float32)
    raise WaiFormatError(
        f"{where(file=str(path))}: depth format {suffix or '(none)'} not supported (.png, .npy, .exr)"
    )
