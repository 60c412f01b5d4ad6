"""`IngestedDepth`: the depth predictor that reads maps made elsewhere (MVSAnywhere, Metric3D, a phone's LiDAR).

Layout of ``--from DIR``: one folder per scene holding one file per frame, named after the frame::

    DIR/<scene>/<frame_name>.{exr,png,npy,pfm}

(a flat DIR of frame files is accepted for a root with a single scene). Formats, chosen by suffix:

* ``.exr``: single-channel float (half or full), values in metres;
* ``.png``: 16-bit grey, value x ``scale`` = metres (default scale 0.001: millimetres);
* ``.npy``: (H, W) or (H, W, 1) float array, metres;
* ``.pfm``: single-channel PFM (stored bottom-up), metres.

``scale`` multiplies every value (default 1, or 0.001 for PNG). Non-finite and non-positive values are invalid (0).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from wai import io
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.predicted_depth import DepthPredictor
from wai.scene import Frame, Scene
from wai_converters.pfm import read_pfm

SUFFIXES = (".exr", ".png", ".npy", ".pfm")
PNG_DEFAULT_SCALE = 1e-3


def read_depth_file(path: Path, scale: float | None) -> np.ndarray:
    """A depth file as float32 in metres (see the module doc for the formats and `scale`)."""
    suffix = path.suffix.lower()
    if suffix == ".exr":
        data = io.load(path, "scalar")
    elif suffix == ".png":
        data = io.load(path, "png16", scale=1.0)
        return np.asarray(data, dtype=np.float32) * np.float32(PNG_DEFAULT_SCALE if scale is None else scale)
    elif suffix == ".npy":
        data = io.load(path, "numpy")
        if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.number):
            raise WaiFormatError(f"{where(file=str(path))}: expected a numeric array")
    elif suffix == ".pfm":
        data = read_pfm(path)
    else:
        raise WaiFormatError(
            f"{where(file=str(path))}: depth format {suffix} not supported ({', '.join(SUFFIXES)})"
        )
    return np.asarray(data, dtype=np.float32) * np.float32(1.0 if scale is None else scale)


@dataclasses.dataclass(frozen=True)
class IngestedDepth(DepthPredictor):
    """Depth maps from the folder `source` (see the module doc), written as ``pred_depth/<name>``.

    name: the method (``mvsanywhere``: the frame key ``mvsanywhere_depth`` the DL3DV loader reads);
    stage_name: process-log entry (default: `name`, so later stages can require ``mvsanywhere``);
    out_path: folder under the scene (default ``<name>/v0``); scale: multiplies every value.
    """

    source: Path
    name: str = "mvsanywhere"
    scale: float | None = None
    stage_name: str = ""
    out_path: str = ""
    requires: tuple[str, ...] = ("conversion",)

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", Path(self.source).expanduser().resolve())
        if not self.stage_name:
            object.__setattr__(self, "stage_name", self.name)
        if not self.out_path:
            object.__setattr__(self, "out_path", f"{self.name}/v0")

    def check(self) -> None:
        if not self.source.is_dir():
            raise WaiFileNotFoundError(f"{where(file=str(self.source))}: depth folder does not exist")
        if not self.name or "/" in self.name or not self.name.replace("-", "_").isidentifier():
            raise WaiFormatError(f"--name {self.name!r}: expected a method name such as mvsanywhere")
        if self.scale is not None and not (np.isfinite(self.scale) and self.scale > 0):
            raise WaiFormatError(f"--scale must be a positive number, got {self.scale}")

    def scene_folder(self, scene: str) -> Path:
        folder = self.source / scene
        if folder.is_dir():
            return folder
        if any(p.suffix.lower() in SUFFIXES for p in self.source.iterdir() if p.is_file()):
            return self.source  # a flat folder of one scene's frames
        raise WaiFileNotFoundError(f"{where(scene=scene, file=str(folder))}: no depth folder for this scene")

    def predict(self, scene: Scene) -> Iterator[tuple[Frame, np.ndarray, str]]:
        folder = self.scene_folder(scene.name)
        by_stem: dict[str, list[Path]] = {}
        for path in folder.iterdir():
            if path.is_file() and path.suffix.lower() in SUFFIXES:
                by_stem.setdefault(path.stem, []).append(path)
        missing = [f.name for f in scene.frames if f.name not in by_stem]
        if missing:
            raise WaiFileNotFoundError(
                f"{where(scene=scene.name, file=str(folder))}: no depth file for {len(missing)} of {len(scene)} "
                f"frames (expected <frame>{{{','.join(SUFFIXES)}}}): {', '.join(missing[:5])}"
            )
        for frame in scene.frames:
            paths = by_stem[frame.name]
            if len(paths) > 1:
                raise WaiFormatError(
                    f"{where(scene=scene.name, frame=frame.name)}: several depth files: {', '.join(map(str, paths))}"
                )
            yield frame, read_depth_file(paths[0], self.scale), str(paths[0])
