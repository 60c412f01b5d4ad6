"""`wai info`: a summary of a scene or a dataset root (frames, resolutions, cameras, modalities, depth range, size).

Everything comes from `scene_meta.json` except the depth range, which is read from a sample of frames (up to
`DEPTH_SAMPLE_FRAMES`, evenly spaced) so that a summary of a large dataset stays quick, and the disk size, which
walks the scene folder. Symlinks count as links (their own size), not as the raw files they point to.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wai.errors import WaiError
from wai.scene import is_scene, list_scenes, open_scene
from wai.scene.scene import Scene

#: How many frames (at most, evenly spaced over the frame list) the depth range is computed from.
DEPTH_SAMPLE_FRAMES = 8


@dataclass
class SceneInfo:
    """Summary of one scene. `resolutions` and `camera_models` map a value to its frame count."""

    name: str
    path: str
    dataset_name: str | None
    scale_type: str | None
    frames: int
    resolutions: dict[str, int]
    camera_models: dict[str, int]
    frame_modalities: list[str]
    scene_modalities: list[str]
    covisibility: list[str]
    depth_modality: str | None
    depth_min: float | None
    depth_max: float | None
    depth_frames_sampled: list[str]
    disk_bytes: int
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def depth_unit(self) -> str:
        return " m" if self.scale_type == "metric" else " (scene units)"

    def depth_text(self) -> str:
        """``0.512 - 4.21 m (valid pixels of 8 of 40 frames, evenly spaced)``, or why there is no range."""
        if self.depth_modality is None:
            return "no depth modality"
        sampled = len(self.depth_frames_sampled)
        if self.depth_min is None or self.depth_max is None:
            return f"no valid depth in the {sampled} sampled frame(s)"
        return (
            f"{self.depth_min:.4g} - {self.depth_max:.4g}{self.depth_unit} (valid pixels of {sampled} of "
            f"{self.frames} frames, evenly spaced; modality '{self.depth_modality}')"
        )

    def describe(self) -> str:
        """A multi-line text summary."""
        lines = [
            f"scene            {self.name}  ({self.path})",
            f"dataset          {self.dataset_name or '-'}",
            f"scale type       {self.scale_type or '-'}",
            f"frames           {self.frames}",
            f"resolution(s)    {_counts_text(self.resolutions)} (WxH: frames)",
            f"camera model(s)  {_counts_text(self.camera_models)}",
            f"frame modalities {', '.join(self.frame_modalities) or '-'}",
            f"scene modalities {', '.join(self.scene_modalities) or '-'}",
            f"covisibility     {', '.join(self.covisibility) or '-'}",
            f"depth range      {self.depth_text()}",
            f"disk size        {human_bytes(self.disk_bytes)}",
        ]
        lines += [f"warning          {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class DatasetInfo:
    """Summary of a dataset root: one `SceneInfo` per readable scene, and the reason for every scene that is not."""

    root: str
    scenes: list[SceneInfo]
    unreadable: dict[str, str]

    @property
    def total_frames(self) -> int:
        return sum(s.frames for s in self.scenes)

    @property
    def total_disk_bytes(self) -> int:
        return sum(s.disk_bytes for s in self.scenes)

    @property
    def depth_min(self) -> float | None:
        values = [s.depth_min for s in self.scenes if s.depth_min is not None]
        return min(values) if values else None

    @property
    def depth_max(self) -> float | None:
        values = [s.depth_max for s in self.scenes if s.depth_max is not None]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "scenes": [s.to_dict() for s in self.scenes],
            "unreadable": dict(self.unreadable),
            "total": {
                "scenes": len(self.scenes),
                "frames": self.total_frames,
                "disk_bytes": self.total_disk_bytes,
                "depth_min": self.depth_min,
                "depth_max": self.depth_max,
            },
        }

    def table(self) -> str:
        """One row per scene and a total line; unreadable scenes are listed below with their reason."""
        header = ("scene", "dataset", "frames", "resolution", "camera", "modalities", "depth range", "size")
        rows = [
            (
                s.name,
                s.dataset_name or "-",
                str(s.frames),
                ", ".join(s.resolutions) or "-",
                ", ".join(s.camera_models) or "-",
                ", ".join(s.frame_modalities) or "-",
                _range_text(s.depth_min, s.depth_max),
                human_bytes(s.disk_bytes),
            )
            for s in self.scenes
        ]
        total = (
            f"total ({len(self.scenes)})",
            "",
            str(self.total_frames),
            "",
            "",
            "",
            _range_text(self.depth_min, self.depth_max),
            human_bytes(self.total_disk_bytes),
        )
        widths = [max(len(r[i]) for r in (header, *rows, total)) for i in range(len(header))]

        def fmt(row: tuple[str, ...]) -> str:
            return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

        lines = [fmt(header), *(fmt(r) for r in rows), "  ".join("-" * w for w in widths), fmt(total)]
        lines.append(
            f"depth range from up to {DEPTH_SAMPLE_FRAMES} evenly spaced frames per scene (valid pixels)"
        )
        lines += [f"unreadable scene '{name}': {why}" for name, why in self.unreadable.items()]
        return "\n".join(lines)


def human_bytes(n: int) -> str:
    """``1536`` -> ``1.5 KiB``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "-"


def _range_text(lo: float | None, hi: float | None) -> str:
    return "-" if lo is None or hi is None else f"{lo:.3g}-{hi:.3g}"


def disk_bytes(folder: Path) -> int:
    """Bytes under `folder` (file sizes; symlinks count as links, their targets are not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                continue  # removed while walking
    return total


def _depth_modality(scene: Scene) -> str | None:
    """`depth` if the scene has it, else the first frame modality stored with the `depth` format."""
    names = scene.frame_modality_names
    if "depth" in names:
        return "depth"
    return next((n for n in names if scene.frame_modality(n).format == "depth"), None)


def sample_indices(n: int, k: int = DEPTH_SAMPLE_FRAMES) -> list[int]:
    """Up to `k` frame indices spread evenly over ``range(n)``, first and last included."""
    if n <= 0:
        return []
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(k, n))})


def _depth_range(
    scene: Scene, modality: str, warnings: list[str]
) -> tuple[float | None, float | None, list[str]]:
    lo, hi = np.inf, -np.inf
    sampled: list[str] = []
    for i in sample_indices(len(scene)):
        frame = scene.frames[i]
        if not frame.has(modality):
            warnings.append(f"frame '{frame.name}' has no '{modality}' file; left out of the depth range")
            continue
        try:
            depth = np.asarray(frame.load(modality), dtype=np.float64)
        except WaiError as exc:
            warnings.append(f"depth of frame '{frame.name}' could not be read: {exc}")
            continue
        sampled.append(frame.name)
        valid = depth[np.isfinite(depth) & (depth > 0)]
        if valid.size:
            lo, hi = min(lo, float(valid.min())), max(hi, float(valid.max()))
    if not np.isfinite(lo):
        return None, None, sampled
    return lo, hi, sampled


def _covisibility_files(path: Path) -> list[str]:
    folder = path / "covisibility"
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(path).as_posix() for p in folder.glob("*/*.npy"))


def scene_info(path: str | os.PathLike) -> SceneInfo:
    """Summarise one scene folder. Raises `WaiError` if its `scene_meta.json` is missing or unreadable."""
    scene = open_scene(path)
    warnings: list[str] = []
    resolutions: Counter[str] = Counter()
    models: Counter[str] = Counter()
    for i in range(len(scene)):
        values = scene.camera_values(i)
        resolutions[f"{values.get('w', '?')}x{values.get('h', '?')}"] += 1
        models[str(values.get("camera_model", "?"))] += 1
    modality = _depth_modality(scene)
    lo = hi = None
    sampled: list[str] = []
    if modality is not None:
        lo, hi, sampled = _depth_range(scene, modality, warnings)
    return SceneInfo(
        name=scene.name,
        path=str(scene.path),
        dataset_name=scene.dataset_name,
        scale_type=scene.scale_type,
        frames=len(scene),
        resolutions=dict(resolutions.most_common()),
        camera_models=dict(models.most_common()),
        frame_modalities=scene.frame_modality_names,
        scene_modalities=scene.scene_modality_names,
        covisibility=_covisibility_files(scene.path),
        depth_modality=modality,
        depth_min=lo,
        depth_max=hi,
        depth_frames_sampled=sampled,
        disk_bytes=disk_bytes(scene.path),
        warnings=warnings,
    )


def dataset_info(root: str | os.PathLike) -> DatasetInfo:
    """Summarise every scene of a dataset root; scenes that cannot be read are listed with the reason."""
    root = Path(root)
    infos: list[SceneInfo] = []
    unreadable: dict[str, str] = {}
    for name in list_scenes(root):
        folder = root / name
        if not is_scene(folder):
            unreadable[name] = "no scene_meta.json (conversion not finished)"
            continue
        try:
            infos.append(scene_info(folder))
        except WaiError as exc:
            unreadable[name] = str(exc)
    return DatasetInfo(root=str(root), scenes=infos, unreadable=unreadable)
