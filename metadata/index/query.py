"""Reading the parquet index: typed filters that become pyarrow dataset filters (row groups are skipped by their
statistics, so a query for one scene of a million-frame index reads only the groups that hold it).

    from metadata.index import open_index
    index = open_index("meta")
    index.scenes(metric=True, min_frames=24)               # all metric scenes with at least 24 frames
    index.scenes(dataset="eth3d", split="test")            # the scenes of a dataset in a split
    index.frames(dataset="eth3d", scene="courtyard")       # the frames of one scene, in frame order
    index.scenes(where=pc.field("covis_components") > 1)   # any pyarrow.compute expression
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads

from metadata.index.build import index_dir, read_manifest
from wai.errors import WaiFileNotFoundError

StrOrList = str | Sequence[str] | None


def _match(column: str, value: StrOrList) -> pc.Expression | None:
    if value is None:
        return None
    if isinstance(value, str):
        return pc.field(column) == value
    return pc.field(column).isin(list(value))


def _all(*parts: pc.Expression | None) -> pc.Expression | None:
    expr = None
    for part in parts:
        if part is not None:
            expr = part if expr is None else expr & part
    return expr


def _with_list_member(table: pa.Table, column: str, member: str | None) -> pa.Table:
    """Rows whose list column `column` contains `member`."""
    if member is None or table.num_rows == 0:
        return table
    values = table[column].combine_chunks()
    hits = pc.list_parent_indices(values).filter(pc.equal(pc.list_flatten(values), member))
    mask = pa.array(pc.is_in(pa.array(range(table.num_rows)), pc.unique(hits)))
    return table.filter(mask)


def _read(
    data: pads.Dataset,
    expr: pc.Expression | None,
    columns: list[str] | None,
    list_column: str,
    member: str | None,
) -> pa.Table:
    """Rows of `data` matching `expr` whose `list_column` contains `member` (if given), with only `columns`."""
    wanted = columns if member is None or columns is None else list(dict.fromkeys([*columns, list_column]))
    table = _with_list_member(data.to_table(filter=expr, columns=wanted), list_column, member)
    return table.select(columns) if columns is not None else table


class Index:
    """An opened index (see the module docstring for examples). Every query returns a `pyarrow.Table`."""

    def __init__(self, meta_dir: str | Path) -> None:
        self.meta_dir = Path(meta_dir)
        manifest = read_manifest(self.meta_dir)
        if manifest is None:
            raise WaiFileNotFoundError(
                f"no index under '{self.meta_dir}' (expected {index_dir(self.meta_dir)}/manifest.json; "
                "run `wai index ROOT --out META`)"
            )
        self.manifest = manifest
        folder = index_dir(self.meta_dir)
        self.scenes_path = folder / manifest["scenes"]
        self.frames_path = folder / manifest["frames"]
        for path in (self.scenes_path, self.frames_path):
            if not path.is_file():
                raise WaiFileNotFoundError(f"file '{path}': named by the index manifest but missing")
        self._scenes = pads.dataset(self.scenes_path, format="parquet")
        self._frames = pads.dataset(self.frames_path, format="parquet")

    @property
    def covis_threshold(self) -> float:
        return float(self.manifest["covis_threshold"])

    def scenes(
        self,
        *,
        dataset: StrOrList = None,
        scene: StrOrList = None,
        split: StrOrList = None,
        metric: bool | None = None,
        synthetic: bool | None = None,
        min_frames: int | None = None,
        max_frames: int | None = None,
        camera_model: StrOrList = None,
        modality: str | None = None,
        where: pc.Expression | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Scenes matching every given filter, sorted by dataset and scene. `modality`: has this frame modality."""
        expr = _all(
            _match("dataset", dataset),
            _match("scene", scene),
            _match("split", split),
            None if metric is None else pc.field("metric") == metric,
            None if synthetic is None else pc.field("synthetic") == synthetic,
            None if min_frames is None else pc.field("frames") >= min_frames,
            None if max_frames is None else pc.field("frames") <= max_frames,
            _match("camera_model", camera_model),
            where,
        )
        return _read(self._scenes, expr, columns, "frame_modalities", modality)

    def frames(
        self,
        *,
        dataset: StrOrList = None,
        scene: StrOrList = None,
        camera_model: StrOrList = None,
        modality: str | None = None,
        where: pc.Expression | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Frames matching every filter, in (dataset, scene, frame index) order. `modality`: has a file for it."""
        expr = _all(
            _match("dataset", dataset), _match("scene", scene), _match("camera_model", camera_model), where
        )
        return _read(self._frames, expr, columns, "modalities", modality)

    def scene_names(self, **filters: Any) -> list[str]:
        """Names of the scenes `scenes(**filters)` returns."""
        return self.scenes(columns=["scene"], **filters)["scene"].to_pylist()

    def summary(self) -> list[dict[str, Any]]:
        """Per dataset: scenes, frames, scenes per split, metric and synthetic flags, covisibility coverage."""
        table = self.scenes(columns=["dataset", "split", "frames", "metric", "synthetic", "covisibility"])
        out: dict[str, dict[str, Any]] = {}
        for row in table.to_pylist():
            entry = out.setdefault(
                row["dataset"],
                {
                    "dataset": row["dataset"],
                    "scenes": 0,
                    "frames": 0,
                    "splits": {},
                    "metric": set(),
                    "synthetic": set(),
                    "with_covisibility": 0,
                },
            )
            entry["scenes"] += 1
            entry["frames"] += row["frames"]
            split = row["split"] or "none"
            entry["splits"][split] = entry["splits"].get(split, 0) + 1
            entry["metric"].add(row["metric"])
            entry["synthetic"].add(row["synthetic"])
            entry["with_covisibility"] += row["covisibility"] is not None
        for entry in out.values():
            for flag in ("metric", "synthetic"):
                values = entry[flag]
                entry[flag] = values.pop() if len(values) == 1 else "mixed"
        return list(out.values())


def open_index(meta_dir: str | Path) -> Index:
    """Open the index that `wai index ROOT --out META` wrote under ``META/index/``."""
    return Index(meta_dir)
