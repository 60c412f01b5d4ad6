"""Benchmark outputs: per-set rows (parquet), averages (JSON), a terminal table, plots, and a side-by-side comparison.

Averages: a dataset's value is the mean over its sets (each scene has the same number of sets, so this is also the
mean of the scene means), ignoring NaN (a set with an empty mask or that failed to load), with the count of
finite sets beside it; "Average" is the unweighted mean of the dataset values, as the reference's. NaN is written
as JSON null.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mapa_train.benchmark.metrics import ALL_METRICS, HIGHER_IS_BETTER
from mapa_train.errors import MapaDataError
from wai.atomic import atomic_path, atomic_write_text

ROWS_FILE = "rows.parquet"
RESULTS_FILE = "per_dataset_results.json"
AVERAGE = "Average"
#: Short column names for the terminal table.
SHORT_NAMES: dict[str, str] = {
    "metric_scale_abs_rel": "scale_rel",
    "pointmaps_abs_rel": "pm_rel",
    "pointmaps_inlier_thres_103": "pm_in103",
    "pose_ate_rmse": "ate",
    "pose_auc_5": "auc5",
    "z_depth_abs_rel": "z_rel",
    "z_depth_inlier_thres_103": "z_in103",
    "ray_dirs_err_deg": "ray_deg",
    "pointmaps_inlier_err_103": "pm_err103",
    "pose_ate_true_rmse": "ate_rms",
    "pose_auc_5_signed": "auc5_sgn",
    "ray_dirs_err_deg_valid": "ray_deg_v",
}

Summary = dict[str, dict[str, dict[int, dict[str, dict[str, Any]]]]]
"""model -> task -> views -> dataset (and "Average") -> {metric: value, "sets": n, "failed": n, "nonfinite_sets": n}."""


def _finite_mean(values: Sequence[float]) -> float:
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if arr.size else math.nan


def write_rows(path: str | Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Write the per-set rows as one parquet table (atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(list(rows))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def read_rows(folder: str | Path) -> list[dict[str, Any]]:
    """The rows of a result folder (its `rows.parquet`)."""
    import pyarrow.parquet as pq

    path = Path(folder) / ROWS_FILE
    if not path.is_file():
        raise MapaDataError(
            f"file '{path}': no benchmark rows (is '{folder}' a `mapa-train benchmark` output?)"
        )
    return pq.read_table(path).to_pylist()


def summarise(rows: Sequence[dict[str, Any]]) -> Summary:
    """Per model, task, view count and dataset: the mean of every metric, plus the "Average" over datasets."""
    groups: dict[tuple[str, str, int, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["model"], row["task"], int(row["views"]), row["dataset"])].append(row)
    out: Summary = {}
    for (model, task, views, dataset), group in sorted(groups.items()):
        entry: dict[str, Any] = {m: _finite_mean([r.get(m) for r in group]) for m in ALL_METRICS}
        entry["sets"] = len(group)
        entry["failed"] = sum(1 for r in group if r.get("error"))
        entry["nonfinite_sets"] = sum(
            1 for r in group if r.get("nonfinite_pred_pixels", 0) or r.get("nonfinite_pred_cameras", 0)
        )
        out.setdefault(model, {}).setdefault(task, {}).setdefault(views, {})[dataset] = entry
    for tasks in out.values():
        for per_views in tasks.values():
            for per_dataset in per_views.values():
                datasets = list(per_dataset.values())
                average: dict[str, Any] = {m: _finite_mean([d[m] for d in datasets]) for m in ALL_METRICS}
                average["sets"] = sum(d["sets"] for d in datasets)
                average["failed"] = sum(d["failed"] for d in datasets)
                average["nonfinite_sets"] = sum(d["nonfinite_sets"] for d in datasets)
                per_dataset[AVERAGE] = average
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_summary(path: str | Path, summary: Summary, extra: dict[str, Any] | None = None) -> Path:
    """Write the summary (and run information) as standard JSON (NaN -> null)."""
    path = Path(path)
    payload = {"results": _jsonable(summary), **(extra or {})}
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")
    return path


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _align(lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def format_table(summary: Summary, metrics: Sequence[str] = ALL_METRICS) -> str:
    """One line per (model, task, views, dataset) with the short metric names as columns."""
    lines = [["model", "task", "N", "dataset", "sets", *[SHORT_NAMES[m] for m in metrics]]]
    for model, tasks in summary.items():
        for task, per_views in tasks.items():
            for views, per_dataset in sorted(per_views.items()):
                for dataset, entry in per_dataset.items():
                    cells = [model, task, str(views), dataset, str(entry["sets"])]
                    lines.append(cells + [_cell(entry[m]) for m in metrics])
    return _align(lines)


def plot_metrics(summary: Summary, folder: str | Path, dataset: str = AVERAGE) -> list[Path]:
    """One PNG per metric: its `dataset` value against the number of views, one line per model (and task)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 3.5), dpi=100)
    fig.subplots_adjust(left=0.16, right=0.97, top=0.9, bottom=0.14)
    for metric in ALL_METRICS:  # one figure, cleared per metric (building a figure costs more than drawing)
        ax.clear()
        ticks: set[int] = set()
        for model, tasks in summary.items():
            for task, per_views in tasks.items():
                xs = sorted(per_views)
                ys = [per_views[n].get(dataset, {}).get(metric, math.nan) for n in xs]
                label = model if len(tasks) == 1 else f"{model} ({task})"
                ax.plot(xs, ys, marker="o", label=label)
                ticks.update(xs)
        ax.set_xticks(sorted(ticks))
        better = "higher is better" if metric in HIGHER_IS_BETTER else "lower is better"
        ax.set_title(f"{metric} ({dataset}; {better})", fontsize=9)
        ax.set_xlabel("number of views")
        ax.set_ylabel(metric, fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        path = folder / f"{metric}.png"
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        paths.append(path)
    plt.close(fig)
    return paths


def compare_table(a: Summary, b: Summary, metrics: Sequence[str] = ALL_METRICS) -> str:
    """Side by side: for each (task, views, dataset) both results share, A, B and B − A per metric."""
    (name_a, tasks_a), (name_b, tasks_b) = next(iter(a.items())), next(iter(b.items()))
    lines = [["task", "N", "dataset", "metric", name_a, name_b, "B-A", "better"]]
    for task in tasks_a:
        if task not in tasks_b:
            continue
        for views in sorted(set(tasks_a[task]) & set(tasks_b[task])):
            for dataset in tasks_a[task][views]:
                if dataset not in tasks_b[task][views]:
                    continue
                ea, eb = tasks_a[task][views][dataset], tasks_b[task][views][dataset]
                for m in metrics:
                    va, vb = ea[m], eb[m]
                    delta = vb - va if math.isfinite(va) and math.isfinite(vb) else math.nan
                    better = "-"
                    if math.isfinite(delta) and delta != 0:
                        b_wins = delta > 0 if m in HIGHER_IS_BETTER else delta < 0
                        better = "B" if b_wins else "A"
                    lines.append([task, str(views), dataset, m, _cell(va), _cell(vb), _cell(delta), better])
    if len(lines) == 1:
        raise MapaDataError("the two results share no (task, views, dataset): nothing to compare")
    return _align(lines)
