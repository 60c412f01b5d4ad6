"""One scene folder -> its row of the scenes table and its rows of the frames table."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metadata.index.graph_stats import covisibility_stats
from metadata.index.schema import DATASET_FLAGS
from wai import io
from wai.errors import WaiError, where
from wai.scene import open_scene
from wai.scene.modalities import iter_leaves
from wai.scene.scene import Scene

COVIS_MODALITY = "pairwise_covisibility"
NON_METRIC_SCALES = ("colmap", "relative")


@dataclass
class SceneRows:
    """A scene's row (a dict keyed like `SCENES_SCHEMA`), its frame columns, and non-fatal problems."""

    scene: dict[str, Any]
    frames: dict[str, list[Any]]
    problems: list[str] = field(default_factory=list)


def meta_signature(meta_path: Path) -> tuple[int, int]:
    """(mtime in ns, size in bytes) of a scene meta: what an incremental update compares."""
    st = os.stat(meta_path)
    return st.st_mtime_ns, st.st_size


def _flags(
    dataset: str, scale_type: str | None, extra: Mapping[str, tuple[bool | None, bool | None]]
) -> tuple[bool | None, bool | None]:
    known = extra.get(dataset) or DATASET_FLAGS.get(dataset) or (None, None)
    metric = known[0]
    if scale_type == "metric":
        metric = True
    elif scale_type in NON_METRIC_SCALES:
        metric = False
    return metric, known[1]


def _covisibility_matrix(scene: Scene) -> tuple[np.ndarray | None, str | None]:
    """The matrix the scene's `pairwise_covisibility` modality names, else the one in covisibility/v0 (or the
    DL3DV folder v0_mvsa_based); (None, None) if the scene has none."""
    tree = scene.meta.get("scene_modalities") or {}
    if COVIS_MODALITY in tree:
        path = scene.scene_modality_path(COVIS_MODALITY)
        try:
            matrix = io.load(path, "mmap")
        except WaiError as exc:
            raise type(exc)(f"{where(scene=scene.name)}: {exc}") from exc
        return matrix, path.relative_to(scene.path).as_posix()
    for version in ("v0", "v0_mvsa_based"):
        if (scene.path / "covisibility" / version).is_dir():
            matrix = scene.covisibility(version)
            files = sorted((scene.path / "covisibility" / version).glob("*.npy"))
            return matrix, files[0].relative_to(scene.path).as_posix()
    return None, None


def read_scene_rows(
    scene_dir: Path,
    dataset: str | None,
    *,
    threshold: float,
    flags: Mapping[str, tuple[bool | None, bool | None]] | None = None,
) -> SceneRows:
    """Parse one scene meta (and its covisibility matrix) into index rows. `dataset` None: the meta's name."""
    signature = meta_signature(scene_dir / "scene_meta.json")
    scene = open_scene(scene_dir)
    name = dataset or scene.dataset_name or scene_dir.parent.name
    meta = scene.meta
    n = len(scene)
    leaves = iter_leaves(
        meta.get("frame_modalities") or {}, where(scene=scene.name, field="frame_modalities")
    )
    poses = scene.poses
    cols: dict[str, list[Any]] = {
        k: [] for k in ("frame", "width", "height", "camera_model", "fx", "fy", "cx", "cy")
    }
    cols["modalities"] = []
    for i, frame in enumerate(meta["frames"]):
        values = scene.camera_values(i)
        cols["frame"].append(str(frame["frame_name"]))
        cols["width"].append(_int_or_none(values.get("w")))
        cols["height"].append(_int_or_none(values.get("h")))
        cols["camera_model"].append(values.get("camera_model"))
        for key, col in (("fl_x", "fx"), ("fl_y", "fy"), ("cx", "cx"), ("cy", "cy")):
            cols[col].append(_float_or_none(values.get(key)))
        cols["modalities"].append([leaf.name for leaf in leaves if leaf.value in frame])
    cols["dataset"] = [name] * n
    cols["scene"] = [scene.name] * n
    cols["index"] = list(range(n))
    for axis, col in enumerate(("tx", "ty", "tz")):
        cols[col] = [None if np.isnan(v) else float(v) for v in poses[:, axis, 3]]

    sizes = Counter(f"{w}x{h}" for w, h in zip(cols["width"], cols["height"], strict=True))
    models = Counter(m for m in cols["camera_model"] if m is not None)
    common = sizes.most_common(1)[0][0] if sizes else "NonexNone"
    width, _, height = common.partition("x")
    metric, synthetic = _flags(name, meta.get("scale_type"), flags or {})
    row: dict[str, Any] = {
        "dataset": name,
        "scene": scene.name,
        "root": str(scene_dir.parent),
        "split": None,
        "frames": n,
        "width": _int_or_none(width),
        "height": _int_or_none(height),
        "resolutions": sorted(sizes),
        "camera_model": models.most_common(1)[0][0] if models else None,
        "camera_models": sorted(models),
        "scale_type": meta.get("scale_type"),
        "metric": metric,
        "synthetic": synthetic,
        "frame_modalities": [leaf.name for leaf in leaves],
        "scene_modalities": scene.scene_modality_names,
        "covisibility": None,
        "covis_threshold": threshold,
        "covis_mean_degree": None,
        "covis_components": None,
        "covis_isolated": None,
        "meta_mtime_ns": signature[0],
        "meta_size": signature[1],
    }
    problems: list[str] = []
    try:
        matrix, rel = _covisibility_matrix(scene)
        if matrix is not None:
            row["covisibility"] = rel
            if matrix.shape != (n, n):
                raise WaiError(
                    f"{where(scene=scene.name, file=rel)}: covisibility matrix is {matrix.shape}, expected "
                    f"({n}, {n}) for {n} frames"
                )
            stats = covisibility_stats(matrix, threshold)
            row.update(
                covis_mean_degree=stats.mean_degree,
                covis_components=stats.components,
                covis_isolated=stats.isolated,
            )
    except WaiError as exc:
        problems.append(str(exc))
    return SceneRows(scene=row, frames=cols, problems=problems)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
