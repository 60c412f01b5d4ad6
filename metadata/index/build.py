"""Build or update the parquet index of one or more dataset roots: ``<META>/index/``.

The index is two parquet files (scenes, frames) named by a manifest, ``manifest.json``. An update writes new files
beside the old ones and then replaces the manifest atomically, so a reader (or a crash) sees either the old index
or the new one, never a mix. A rerun re-reads only scenes whose `scene_meta.json` changed (mtime or size differ
from the signature stored in the scenes table); rows of roots not named in the run are kept as they are.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from metadata.index.graph_stats import DEFAULT_THRESHOLD
from metadata.index.rows import meta_signature, read_scene_rows
from metadata.index.schema import FRAMES_SCHEMA, SCENES_SCHEMA
from metadata.scene_lists import SPLITS, read_scene_list, scene_list_path
from wai.atomic import atomic_path, atomic_write_text
from wai.errors import WaiError, WaiFormatError
from wai.plural import plural
from wai.scene import list_scenes
from wai.scene.meta import SCENE_META

INDEX_DIR = "index"
MANIFEST = "manifest.json"
INDEX_VERSION = 1
FRAME_ROW_GROUP = 16_384


@dataclass
class IndexReport:
    """What an index run did. Scene ids are ``dataset/scene``; failures and problems name scene and file."""

    read: list[str] = field(default_factory=list)  # parsed in this run
    reused: list[str] = field(default_factory=list)  # unchanged since the last run: rows kept
    removed: list[str] = field(default_factory=list)  # in the old index, gone from their root
    skipped: dict[str, str] = field(
        default_factory=dict
    )  # folder -> why it is not indexed (no scene_meta.json)
    failed: dict[str, str] = field(default_factory=dict)  # folder -> error (unreadable scene_meta.json, ...)
    problems: list[str] = field(default_factory=list)  # indexed, but e.g. a covisibility matrix is unusable
    scenes: int = 0
    frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"{self.scenes} scenes, {self.frames} frames indexed: {len(self.read)} read, {len(self.reused)} "
            f"unchanged, {len(self.removed)} removed, {len(self.skipped)} skipped, {len(self.failed)} failed, "
            f"{plural(len(self.problems), 'problem')}"
        )


def index_dir(meta_dir: str | Path) -> Path:
    return Path(meta_dir) / INDEX_DIR


def read_manifest(meta_dir: str | Path) -> dict[str, Any] | None:
    """The manifest of the index under `meta_dir`, or None if there is no index yet."""
    path = index_dir(meta_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise WaiFormatError(f"file '{path}': malformed index manifest ({exc.msg})") from exc
    for key in ("scenes", "frames", "covis_threshold"):
        if key not in manifest:
            raise WaiFormatError(f"file '{path}', field '{key}': missing from the index manifest")
    return manifest


def _split_of(meta_dir: Path, datasets: set[str]) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for dataset in datasets:
        for split in SPLITS:
            path = scene_list_path(meta_dir, dataset, split)
            if path.is_file():
                for scene in read_scene_list(path):
                    out.setdefault((dataset, scene), split)
    return out


def _keys(table: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(table["dataset"], table["scene"], "\x00")


def _write_parquet(table: pa.Table, path: Path, row_group_size: int | None = None) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=row_group_size, compression="zstd")


def build_index(
    roots: Sequence[str | Path],
    meta_dir: str | Path,
    *,
    datasets: Sequence[str | None] | None = None,
    covis_threshold: float = DEFAULT_THRESHOLD,
    flags: Mapping[str, tuple[bool | None, bool | None]] | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Index every scene of `roots` into ``<meta_dir>/index/`` (create or update).

    `datasets[k]` names the dataset of `roots[k]` (the split-list key, e.g. ``scannetppv2``); None takes each
    scene meta's `dataset_name`. `flags` maps dataset -> (metric, synthetic) for datasets this package does not
    know (the CLI passes the converter registry). `rebuild` re-reads every scene.
    """
    meta_dir = Path(meta_dir)
    names = list(datasets) if datasets is not None else [None] * len(roots)
    if len(names) != len(roots):
        raise WaiFormatError(
            f"{plural(len(roots), 'root')} but {plural(len(names), 'dataset name')}; give one per root"
        )
    report = IndexReport()
    manifest = None if rebuild else read_manifest(meta_dir)
    if manifest is not None and float(manifest["covis_threshold"]) != float(covis_threshold):
        manifest = None  # covisibility statistics depend on the threshold: recompute all
    old_scenes = old_frames = None
    if manifest is not None:
        folder = index_dir(meta_dir)
        old_scenes = pq.read_table(folder / manifest["scenes"])
        old_frames = pq.read_table(folder / manifest["frames"])

    run_roots = [str(Path(r).resolve()) for r in roots]
    previous: dict[tuple[str, str], dict[str, Any]] = {}
    if old_scenes is not None:
        for row in old_scenes.select(["dataset", "scene", "root", "meta_mtime_ns", "meta_size"]).to_pylist():
            previous[(row["root"], row["scene"])] = row

    new_rows: list[dict[str, Any]] = []
    new_frames: list[pa.Table] = []
    reused_keys: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for root, name in zip(run_roots, names, strict=True):
        for scene in list_scenes(root):
            folder = Path(root) / scene
            if not (folder / SCENE_META).is_file():
                report.skipped[str(folder)] = f"no {SCENE_META}"
                continue
            old = previous.get((root, scene))
            signature = meta_signature(folder / SCENE_META)
            if (
                old is not None
                and (old["meta_mtime_ns"], old["meta_size"]) == signature
                and (name is None or old["dataset"] == name)
            ):
                key = (old["dataset"], scene)
                reused_keys.append(f"{old['dataset']}\x00{scene}")
                report.reused.append(f"{old['dataset']}/{scene}")
            else:
                try:
                    rows = read_scene_rows(folder, name, threshold=covis_threshold, flags=flags)
                except WaiError as exc:
                    report.failed[str(folder)] = str(exc)
                    continue
                key = (rows.scene["dataset"], scene)
                new_rows.append(rows.scene)
                new_frames.append(pa.table(rows.frames, schema=FRAMES_SCHEMA))
                report.read.append(f"{key[0]}/{scene}")
                report.problems += rows.problems
            if key in seen:
                raise WaiFormatError(
                    f"scene '{scene}' of dataset '{key[0]}' is in two roots ('{seen[key]}' and '{root}'); "
                    "give the roots different --dataset names"
                )
            seen[key] = root

    parts_scenes = [pa.Table.from_pylist(new_rows, schema=SCENES_SCHEMA)]
    parts_frames = new_frames
    if old_scenes is not None and old_frames is not None:
        other_root = pc.invert(pc.is_in(old_scenes["root"], pa.array(run_roots)))
        kept_keys = pa.array(reused_keys, pa.string())
        keep_scene = pc.or_(other_root, pc.is_in(_keys(old_scenes), kept_keys))
        kept = old_scenes.filter(keep_scene)
        report.removed = [
            f"{r['dataset']}/{r['scene']}"
            for r in old_scenes.filter(pc.invert(keep_scene)).select(["dataset", "scene"]).to_pylist()
            if (r["dataset"], r["scene"]) not in seen
        ]
        parts_scenes.append(kept)
        frame_keep = pc.is_in(_keys(old_frames), _keys(kept))
        parts_frames = [old_frames.filter(frame_keep), *new_frames]
    scenes = pa.concat_tables(parts_scenes).sort_by([("dataset", "ascending"), ("scene", "ascending")])
    frames = (pa.concat_tables(parts_frames) if parts_frames else FRAMES_SCHEMA.empty_table()).sort_by(
        [("dataset", "ascending"), ("scene", "ascending"), ("index", "ascending")]
    )

    split = _split_of(meta_dir, set(scenes["dataset"].to_pylist()))
    values = [
        split.get((d, s))
        for d, s in zip(scenes["dataset"].to_pylist(), scenes["scene"].to_pylist(), strict=True)
    ]
    scenes = scenes.set_column(scenes.schema.get_field_index("split"), "split", pa.array(values, pa.string()))
    write_index(meta_dir, scenes, frames, covis_threshold=covis_threshold)
    report.scenes, report.frames = scenes.num_rows, frames.num_rows
    return report


def write_index(meta_dir: str | Path, scenes: pa.Table, frames: pa.Table, *, covis_threshold: float) -> Path:
    """Write both tables under new names, switch the manifest to them atomically, then delete the old files."""
    folder = index_dir(meta_dir)
    folder.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    names = {"scenes": f"scenes-{token}.parquet", "frames": f"frames-{token}.parquet"}
    _write_parquet(scenes.cast(SCENES_SCHEMA), folder / names["scenes"])
    _write_parquet(frames.cast(FRAMES_SCHEMA), folder / names["frames"], row_group_size=FRAME_ROW_GROUP)
    manifest = {"version": INDEX_VERSION, **names, "covis_threshold": covis_threshold}
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    for stale in folder.glob("*.parquet"):
        if stale.name not in names.values():
            stale.unlink()
    return folder / MANIFEST
