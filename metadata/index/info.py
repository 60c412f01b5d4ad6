"""`wai info --index META`: the summary of `wai info ROOT` answered from the parquet index, without reading any
scene folder. The index holds no depth values and no file sizes, so those fields are left out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from metadata.index.query import open_index
from wai.info import table_lines
from wai.plural import plural

_SCENE_COLUMNS = [
    "dataset",
    "scene",
    "root",
    "split",
    "frames",
    "scale_type",
    "metric",
    "synthetic",
    "frame_modalities",
    "scene_modalities",
    "covisibility",
]


@dataclass
class IndexedScene:
    """One scene as the index records it; `name` to `covisibility` mean what they mean in `wai.info.SceneInfo`."""

    name: str
    path: str
    dataset_name: str
    split: str | None
    scale_type: str | None
    metric: bool | None
    synthetic: bool | None
    frames: int
    resolutions: dict[str, int]
    camera_models: dict[str, int]
    frame_modalities: list[str]
    scene_modalities: list[str]
    covisibility: list[str]


@dataclass
class IndexInfo:
    """Every indexed scene in (dataset, scene) order, and the index's per-dataset summary."""

    meta_dir: str
    scenes: list[IndexedScene]
    datasets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_frames(self) -> int:
        return sum(s.frames for s in self.scenes)

    def to_dict(self) -> dict[str, Any]:
        """The keys of `wai info --json` (``path``, ``root``, ``ok``, ``scenes``, ``errors``, ``total``) plus
        ``datasets``; ``path`` and ``root`` are the META folder."""
        return {
            "path": self.meta_dir,
            "root": self.meta_dir,
            "ok": True,
            "scenes": [asdict(s) for s in self.scenes],
            "errors": [],
            "total": {
                "scenes": len(self.scenes),
                "frames": self.total_frames,
                "datasets": len(self.datasets),
            },
            "datasets": self.datasets,
        }

    def table(self) -> str:
        """One row per scene and a total line, like `wai info ROOT` but with the split instead of depth and size."""
        header = ("scene", "dataset", "split", "frames", "resolution", "camera", "modalities")
        rows = [
            (
                s.name,
                s.dataset_name,
                s.split or "-",
                str(s.frames),
                ", ".join(s.resolutions) or "-",
                ", ".join(s.camera_models) or "-",
                ", ".join(s.frame_modalities) or "-",
            )
            for s in self.scenes
        ]
        total = (
            f"total ({len(self.scenes)})",
            plural(len(self.datasets), "dataset"),
            "",
            str(self.total_frames),
            "",
            "",
            "",
        )
        lines = table_lines(header, rows, total)
        lines.append(f"from the index in '{self.meta_dir}' (depth range and size: `wai info ROOT`)")
        return "\n".join(lines)


def _frame_counts(frames: pa.Table, keys: list[str]) -> dict[tuple[str, str], dict[str, int]]:
    """(dataset, scene) -> {value: frame count} for the value made of `keys` (``WxH`` for width and height)."""
    grouped = frames.group_by(["dataset", "scene", *keys]).aggregate([("frame", "count")])
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in sorted(grouped.to_pylist(), key=lambda r: -r["frame_count"]):
        value = "x".join(str(row[k]) for k in keys)
        out.setdefault((row["dataset"], row["scene"]), {})[value] = row["frame_count"]
    return out


def index_info(meta_dir: str | Path) -> IndexInfo:
    """Summarise the index under ``META/index/`` (raises `WaiFileNotFoundError` when there is none)."""
    index = open_index(meta_dir)
    frames = index.frames(columns=["dataset", "scene", "frame", "width", "height", "camera_model"])
    resolutions = _frame_counts(frames, ["width", "height"])
    cameras = _frame_counts(frames, ["camera_model"])
    scenes = []
    for row in index.scenes(columns=_SCENE_COLUMNS).to_pylist():
        key = (row["dataset"], row["scene"])
        scenes.append(
            IndexedScene(
                name=row["scene"],
                path=str(Path(row["root"]) / row["scene"]),
                dataset_name=row["dataset"],
                split=row["split"],
                scale_type=row["scale_type"],
                metric=row["metric"],
                synthetic=row["synthetic"],
                frames=row["frames"],
                resolutions=resolutions.get(key, {}),
                camera_models=cameras.get(key, {}),
                frame_modalities=list(row["frame_modalities"] or []),
                scene_modalities=list(row["scene_modalities"] or []),
                covisibility=[row["covisibility"]] if row["covisibility"] else [],
            )
        )
    scenes.sort(key=lambda s: (s.dataset_name, s.name))
    return IndexInfo(meta_dir=str(meta_dir), scenes=scenes, datasets=index.summary())
