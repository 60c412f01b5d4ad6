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

from wai.errors import WaiError, WaiFileNotFoundError
from wai.scene import is_scene, is_scene_folder, list_scenes, open_scene
from wai.scene.scene import Scene, is_packed_location
from wai.validate.runner import is_empty_root

#: What a scene without depth can be used for (also printed by `wai convert` and `wai datasets`).
NO_DEPTH_NOTE = "no depth: pose and ray training work; covisibility and depth losses need depth"

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
            return NO_DEPTH_NOTE
        sampled = len(self.depth_frames_sampled)
        if self.depth_min is None or self.depth_max is None:
            return f"no valid depth in the {sampled} sampled {'frame' if sampled == 1 else 'frames'}"
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


@dataclass(frozen=True)
class InfoError:
    """Why a scene could not be summarised (`scene` is None for a problem of the root itself, e.g. no scenes)."""

    scene: str | None
    error: str

    def line(self) -> str:
        return f"unreadable scene '{self.scene}': {self.error}" if self.scene else f"error: {self.error}"


@dataclass
class DatasetInfo:
    """Summary of a dataset root, or of one scene as a dataset of one: a `SceneInfo` per readable scene and an
    `InfoError` for every scene that is not. `path` is what was asked about (the root, or the scene folder)."""

    root: str
    scenes: list[SceneInfo]
    errors: list[InfoError] = field(default_factory=list)
    path: str | None = None

    @property
    def ok(self) -> bool:
        """True when every scene was read."""
        return not self.errors

    @property
    def unreadable(self) -> dict[str, str]:
        """Scene name -> reason, for the scenes that could not be read."""
        return {e.scene: e.error for e in self.errors if e.scene is not None}

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
        """The one JSON shape of `wai info --json`, for a dataset root and for a single scene alike."""
        return {
            "path": self.path if self.path is not None else self.root,
            "root": self.root,
            "ok": self.ok,
            "scenes": [s.to_dict() for s in self.scenes],
            "errors": [asdict(e) for e in self.errors],
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
        lines = table_lines(header, rows, total)
        lines.append(
            f"depth range from up to {DEPTH_SAMPLE_FRAMES} evenly spaced frames per scene (valid pixels)"
        )
        lines += [e.line() for e in self.errors]
        return "\n".join(lines)

    def text(self) -> str:
        """The block of one scene when a readable scene was asked about, else the table (errors included)."""
        if self.path is not None and self.path != self.root and len(self.scenes) == 1 and self.ok:
            return self.scenes[0].describe()
        if self.path is not None and self.path != self.root and not self.scenes:
            return "\n".join(e.line() for e in self.errors)
        return self.table()


def table_lines(header: tuple[str, ...], rows: list[tuple[str, ...]], total: tuple[str, ...]) -> list[str]:
    """Left-aligned columns: the header, one line per row, a rule of dashes and the total row."""
    widths = [max(len(r[i]) for r in (header, *rows, total)) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()

    return [fmt(header), *(fmt(r) for r in rows), "  ".join("-" * w for w in widths), fmt(total)]


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


def _packed_covisibility(scene: Scene) -> list[str]:
    """The covisibility matrices of a packed store (`wai pack`), as ``covisibility/<version>``."""
    versions = scene.storage.info.covisibility  # type: ignore[attr-defined]  # a wai.pack.PackedStorage
    return sorted(f"covisibility/{version}" for version in versions)


def scene_info(path: str | os.PathLike) -> SceneInfo:
    """Summarise one scene folder or packed scene store. Raises `WaiError` if its `scene_meta.json` is missing or unreadable."""
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
        covisibility=_covisibility_files(scene.path)
        if scene.storage.has_files
        else _packed_covisibility(scene),
        depth_modality=modality,
        depth_min=lo,
        depth_max=hi,
        depth_frames_sampled=sampled,
        disk_bytes=disk_bytes(scene.path),
        warnings=warnings,
    )


def _read_scene(folder: Path, infos: list[SceneInfo], errors: list[InfoError]) -> None:
    if not is_scene(folder) and not is_packed_location(folder):
        errors.append(InfoError(folder.name, "no scene_meta.json (conversion not finished)"))
        return
    try:
        infos.append(scene_info(folder))
    except WaiError as exc:
        errors.append(InfoError(folder.name, str(exc)))


def dataset_info(root: str | os.PathLike) -> DatasetInfo:
    """Summarise every scene of a dataset root; scenes that cannot be read are listed with the reason."""
    root = Path(root)
    infos: list[SceneInfo] = []
    errors: list[InfoError] = []
    names = list_scenes(root)
    for name in names:
        _read_scene(root / name, infos, errors)
    if not names:
        errors.append(InfoError(None, f"no scenes under '{root}'"))
    return DatasetInfo(root=str(root), scenes=infos, errors=errors, path=str(root))


def info(path: str | os.PathLike) -> DatasetInfo:
    """Summarise `path`, a scene folder (finished or not) or a dataset root, always as a `DatasetInfo`.

    An empty folder is a dataset root with no scenes (an error in the summary), not an unfinished scene.

    Raises `WaiFileNotFoundError` when `path` is not a folder.
    """
    path = Path(path)
    if not path.is_dir():
        raise WaiFileNotFoundError(
            f"'{path}' does not exist or is not a folder (expected a scene or a dataset root)"
        )
    if is_empty_root(path) or not is_scene_folder(path):
        return dataset_info(path)
    infos: list[SceneInfo] = []
    errors: list[InfoError] = []
    _read_scene(path, infos, errors)
    return DatasetInfo(root=str(path.parent), scenes=infos, errors=errors, path=str(path))
