"""Running a registered model over the benchmark sets, on Accelerate (one process or many), and scoring every set.

Only the geometric inputs that the task allows are put into the model's views (the reference passes the whole GT
batch and relies on the model to ignore the rest). Every forward runs under `model.eval()` and `torch.inference_mode`,
in bf16 autocast on accelerators that support it (fp16 otherwise), fp32 on CPU unless asked. The torch RNG is
re-seeded per batch, so a task's sparse-depth draw depends only on the seed and the batch's first set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from mapa_train.benchmark.datasets import SceneReader, dataset_scenes, get_benchmark_dataset
from mapa_train.benchmark.metrics import ALL_METRICS
from mapa_train.benchmark.scoring import score_views
from mapa_train.benchmark.sets import BenchmarkSet, select_sets, write_sets
from mapa_train.errors import MapaConfigError, MapaDataError
from mapa_train.models.mapanything.task import get_task
from mapa_train.models.registry import FAMILIES, MODELS, build_model, family_of
from mapa_train.models.weights import (
    compare_state_dict,
    load_pretrained,
    load_state_dict_with_report,
    read_checkpoint,
)

log = logging.getLogger(__name__)
Precision = Literal["auto", "fp32", "bf16", "fp16"]


@dataclasses.dataclass
class BenchmarkConfig:
    """One benchmark run of one model."""

    model: str
    """A registered model name, or a `save_pretrained` folder."""
    data: Path
    """Data root holding one folder per dataset (``eth3d``, ``scannetppv2``, ``tav2_wb``, ``synthetic``)."""
    out: Path
    views: tuple[int, ...] = (2, 4, 8, 16, 24)
    tasks: tuple[str, ...] = ("images_only",)
    datasets: tuple[str, ...] = ("eth3d", "scannetpp", "tav2_wb")
    sets_per_scene: int = 10
    metadata: Path | None = None
    """Metadata folder with the test scene lists; None uses every scene of each dataset folder."""
    weights: Path | None = None
    """A state dict (safetensors or torch) loaded strictly into a registered model."""
    resolution: tuple[int, int] | None = None
    """(W, H) for every dataset instead of the reference's per-dataset resolution."""
    batch_size: int = 1
    precision: Precision = "auto"
    seed: int = 0
    label: str | None = None
    """Name of the model in results and plots (default: the model name or folder name)."""
    overlap: bool | None = None
    """Load and score in threads beside the forward passes; None: only when the model is on an accelerator (on a
    CPU the threads would take the model's cores)."""
    cache_mb: int = 1024
    """Megabytes of built views kept for the next sets of a scene that show the same frames (0: none)."""


@dataclasses.dataclass
class Timings:
    """Seconds of one process's run. The overhead is the run's wall time outside the forward passes; with overlap,
    loading and metrics run beside the forward passes, so their sums are work done rather than time added."""

    sampling: float = 0.0
    loading: float = 0.0
    forward: float = 0.0
    metrics: float = 0.0
    writing: float = 0.0
    total: float = 0.0

    @property
    def overhead(self) -> float:
        return max(self.total - self.forward, 0.0)

    def summary(self) -> str:
        share = 100.0 * self.overhead / self.forward if self.forward > 0 else float("nan")
        run = 100.0 * self.overhead / self.total if self.total > 0 else float("nan")
        return (
            f"model forward {self.forward:.2f} s; benchmark overhead {self.overhead:.2f} s = {share:.1f}% of the "
            f"forward time, {run:.1f}% of the run ({self.total:.2f} s); sampling "
            f"{self.sampling:.2f} s, loading {self.loading:.2f} s, metrics {self.metrics:.2f} s, writing "
            f"{self.writing:.2f} s"
        )


class InlineExecutor:
    """The `ThreadPoolExecutor` interface, running each call at once in the caller's thread."""

    def __init__(self, max_workers: int = 1) -> None:
        del max_workers

    def __enter__(self) -> InlineExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # delivered by future.result(), as a thread pool would
            future.set_exception(exc)
        return future


def load_model(spec: str, weights: Path | None = None) -> tuple[nn.Module, str]:
    """(model, label) from a registered name (random init unless `weights`: our state dict, or the family's released
    checkpoint, mapped), a `save_pretrained` folder, or a
    trainer checkpoint folder (`step_*`, `best`, `final`: the model is rebuilt from the run config in its meta.json)."""
    path = Path(spec)
    if path.is_dir():
        if weights is not None:
            raise MapaConfigError("--weights goes with a registered model name, not a checkpoint folder")
        if (path / "meta.json").is_file() and not (path / "config.json").is_file():
            return _load_training_checkpoint(path), f"{path.parent.parent.name}_{path.name}"
        return load_pretrained(path), path.name
    if spec not in MODELS:
        raise MapaConfigError(
            f"--model {spec!r} is neither a registered model ({', '.join(sorted(MODELS))}) nor a checkpoint folder"
        )
    model = build_model(spec)
    if weights is None:
        log.warning(
            "model %s has random weights (pass --weights or a checkpoint folder to load trained ones)", spec
        )
    else:
        state = read_checkpoint(weights)
        if compare_state_dict(model, state).ok:
            load_state_dict_with_report(model, state, strict=True, source=str(weights))
        else:  # a released checkpoint: through the family's key mapping, strictly
            from mapa_train.models.pretrained import load_official_checkpoint

            load_official_checkpoint(model, weights, strict=True)
    return model, spec


def _load_training_checkpoint(folder: Path) -> nn.Module:
    """The model of a trainer checkpoint folder: built from its run config's `model` group, weights loaded strictly."""
    import json

    from omegaconf import OmegaConf

    from mapa_train.train import checkpoint as ckpt
    from mapa_train.train.model_setup import model_overrides

    try:
        cfg = OmegaConf.create(json.loads((folder / "meta.json").read_text())["config"])
        name = str(cfg.model.name)
    except (KeyError, ValueError, AttributeError) as exc:
        raise MapaConfigError(f"{folder / 'meta.json'}: not a trainer checkpoint's meta ({exc!r})") from exc
    model = build_model(name, model_overrides(cfg))
    ckpt.load_model_strict(model, ckpt.read_model_weights(folder), folder)
    return model


def autocast_for(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager:
    """The autocast context of `precision` on `device` ("auto": bf16 if supported, else fp16, on CUDA; fp32 on CPU)."""
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return contextlib.nullcontext()
    dtype = torch.bfloat16
    if precision == "fp16" or (
        precision == "auto" and device.type == "cuda" and not torch.cuda.is_bf16_supported()
    ):
        dtype = torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def model_inputs(
    sets_views: Sequence[list[dict[str, Any]]], task_name: str, device: torch.device
) -> list[dict[str, torch.Tensor]]:
    """Batched model views of B sets: the image, and only the GT inputs that the task feeds."""
    task = get_task(task_name)
    keys = ["img", "is_metric_scale"]
    if task.ray_dirs_prob > 0:
        keys.append("ray_directions_cam")
    if task.depth_prob > 0:
        keys.append("depth_along_ray")
    if task.cam_prob > 0:
        keys += ["camera_pose_quats", "camera_pose_trans"]
    views = []
    for v in range(len(sets_views[0])):
        view = {}
        for key in keys:
            stacked = np.stack([np.asarray(views_of_set[v][key]) for views_of_set in sets_views])
            view[key] = torch.from_numpy(stacked).to(device)
        views.append(view)
    return views


def _forward(
    model: nn.Module, family: str, views: list[dict[str, torch.Tensor]], task_name: str
) -> list[dict]:
    if family == "mapanything":
        return model(views, task=get_task(task_name))
    if task_name != "images_only":
        raise MapaConfigError(f"{family} models take images only; task {task_name!r} needs MapAnything")
    return model([{"img": v["img"]} for v in views])


def _prediction_of(outputs: list[dict[str, torch.Tensor]], b: int) -> list[dict[str, np.ndarray]]:
    keys = ("pts3d", "pts3d_cam", "ray_directions", "cam_trans", "cam_quats", "metric_scaling_factor")
    return [{k: out[k][b].float().cpu().numpy() for k in keys if k in out} for out in outputs]


_DENSE_KEYS = ("pts3d", "pts3d_cam", "ray_directions")
_CAMERA_KEYS = ("cam_trans", "cam_quats", "metric_scaling_factor")
_NO_COUNTS = {"nonfinite_pred_pixels": 0, "nonfinite_pred_cameras": 0}


def nonfinite_prediction(gt_views: list[dict[str, Any]], pred: list[dict[str, np.ndarray]]) -> dict[str, int]:
    """How much of a set's prediction is NaN or infinite, which the reference's metrics hide (a non-finite error
    counts as 0, so a NaN pointmap scores a perfect `pointmaps_abs_rel`): ``nonfinite_pred_pixels``, the valid GT
    pixels where a predicted point, camera point or ray is not finite, and ``nonfinite_pred_cameras``, the views
    whose predicted pose or metric scale is not finite."""
    pixels = cameras = 0
    for gt, view in zip(gt_views, pred, strict=True):
        valid = np.asarray(gt["valid_mask"], bool)
        bad = np.zeros(valid.shape, bool)
        for key in _DENSE_KEYS:
            if key in view:
                bad |= ~np.isfinite(view[key]).all(axis=-1).reshape(valid.shape)
        pixels += int(np.count_nonzero(bad & valid))
        cameras += int(any(key in view and not np.isfinite(view[key]).all() for key in _CAMERA_KEYS))
    return {"nonfinite_pred_pixels": pixels, "nonfinite_pred_cameras": cameras}


#: Metrics that are NaN when a model's outputs lack a key (`scoring.score_views` says how each is handled).
_UNSCORED_WITHOUT = {
    "cam_quats": "pose",
    "pts3d_cam": "z-depth",
    "ray_directions": "ray-direction",
}


def _check_outputs(label: str, output_keys: frozenset[str] | None) -> None:
    """Refuse a model without world points; say once which metric groups its outputs leave NaN."""
    if output_keys is None:
        return
    if "pts3d" not in output_keys:
        raise MapaConfigError(f"model {label} predicts no pts3d, which every benchmark metric needs")
    unscored = [group for key, group in _UNSCORED_WITHOUT.items() if key not in output_keys]
    if unscored:
        log.warning(
            "model %s predicts no %s; its %s metrics are NaN (points are taken to be in view 0's frame)",
            label,
            ", ".join(k for k in _UNSCORED_WITHOUT if k not in output_keys),
            ", ".join(unscored),
        )


def _row(model_label: str, task: str, s: BenchmarkSet, forward_s: float, error: str | None) -> dict[str, Any]:
    return {
        "model": model_label,
        "task": task,
        "dataset": s.dataset,
        "scene": s.scene,
        "set": s.set_idx,
        "repeat": s.repeat,
        "views": s.num_views,
        "distinct_views": s.distinct_views,
        "frames": ",".join(s.frame_names),
        "forward_s": forward_s,
        "error": error,
    }


class BenchmarkRunner:
    """Runs one model over the configured datasets, view counts and tasks; returns one row per (set, task)."""

    def __init__(self, config: BenchmarkConfig) -> None:
        from accelerate import PartialState

        self.config = config
        self.state = PartialState()
        self.device = self.state.device
        self.timings = Timings()
        for task in config.tasks:
            get_task(task)
        torch.manual_seed(
            config.seed
        )  # as the reference; a registered name without weights is then the same model
        model, label = load_model(config.model, config.weights)
        self.model = model.to(self.device).eval()
        self.family = family_of(self.model)
        self.label = config.label or label
        self.data_norm_type = getattr(self.model, "data_norm_type", "dinov2")
        max_views = FAMILIES[self.family].max_views
        if max_views is not None and max(config.views) > max_views:
            raise MapaConfigError(
                f"{self.family} takes at most {max_views} view(s) per forward; use --views {max_views}"
            )
        if self.family != "mapanything" and set(config.tasks) != {"images_only"}:
            raise MapaConfigError(f"{self.family} models take images only; use --task images_only")
        _check_outputs(self.label, getattr(self.model, "output_keys", None))

    def _sets(self, reader: SceneReader, scenes: list[str], num_views: int) -> list[BenchmarkSet]:
        start = time.perf_counter()
        sets = select_sets(
            reader.dataset.name,
            scenes,
            num_views,
            covisibility=reader.covisibility,
            frame_names=reader.frame_names,
            threshold=reader.row.covisibility_threshold,
            sets_per_scene=self.config.sets_per_scene,
        )
        if self.state.is_main_process:
            write_sets(self.config.out / "sets" / f"{reader.dataset.name}_{num_views}v.json", sets)
        self.timings.sampling += time.perf_counter() - start
        return sets

    def _batches(self, sets: list[BenchmarkSet]) -> list[list[BenchmarkSet]]:
        """The sets in forward batches. One set per forward: a scene's sets one after another, so the view cache
        serves the frames they share (each set's seed and rows do not depend on the order). Larger batches keep the
        reference's order, which decides what is batched together."""
        size = self.config.batch_size
        if size == 1:
            return [[s] for s in sorted(sets, key=lambda s: (s.scene_idx, s.set_idx))]
        return [sets[i : i + size] for i in range(0, len(sets), size)]

    def _load(
        self, reader: SceneReader, batch: list[BenchmarkSet], resolution: tuple[int, int]
    ) -> tuple[list[tuple[BenchmarkSet, list[dict[str, Any]]]], list[tuple[BenchmarkSet, str]]]:
        """(loaded sets with their views, failed sets with the reason); runs in the loader thread."""
        start = time.perf_counter()
        loaded, failed = [], []
        for s in batch:
            try:
                loaded.append((s, reader.views(s, resolution, self.data_norm_type)))
            except MapaDataError as exc:
                log.error("set %s: %s", s.key, exc)
                failed.append((s, str(exc)))
        self.timings.loading += time.perf_counter() - start
        return loaded, failed

    def _forward_batch(
        self, loaded: list[tuple[BenchmarkSet, list[dict[str, Any]]]], task: str
    ) -> tuple[list[list[dict[str, np.ndarray]]], float]:
        """Per set, the per-view numpy predictions of one forward pass, and its seconds."""
        torch.manual_seed(self.config.seed + loaded[0][0].set_idx)
        views = model_inputs([v for _, v in loaded], task, self.device)
        start = time.perf_counter()
        with torch.inference_mode(), autocast_for(self.device, self.config.precision):
            outputs = _forward(self.model, self.family, views, task)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        elapsed = time.perf_counter() - start
        self.timings.forward += elapsed
        return [_prediction_of(outputs, b) for b in range(len(loaded))], elapsed

    def _score(self, loaded, predictions, task: str, elapsed: float) -> list[dict[str, Any]]:
        """The rows of one forward pass; runs in the scoring thread."""
        start = time.perf_counter()
        rows = []
        for (s, gt_views), pred in zip(loaded, predictions, strict=True):
            scores = score_views(gt_views, pred)
            counts = nonfinite_prediction(gt_views, pred)
            rows.append(_row(self.label, task, s, elapsed / len(loaded), None) | scores | counts)
        self.timings.metrics += time.perf_counter() - start
        return rows

    def _run_batches(self, reader: SceneReader, batches: list[list[BenchmarkSet]], resolution) -> list[dict]:
        """Every task on every batch. With `overlap`, loading the next batch and scoring the last one run in two threads
        beside the forward passes (numpy and torch release the GIL), so on an accelerator they hide behind the model."""
        rows: list[dict[str, Any]] = []
        if not batches:
            return rows
        overlap = self.config.overlap if self.config.overlap is not None else self.device.type != "cpu"
        pool: type[ThreadPoolExecutor] | type[InlineExecutor] = (
            ThreadPoolExecutor if overlap else InlineExecutor
        )
        with pool(1) as loader, pool(1) as scorer:
            pending = loader.submit(self._load, reader, batches[0], resolution)
            scored = []
            for k in range(len(batches)):
                loaded, failed = pending.result()
                if k + 1 < len(batches):
                    pending = loader.submit(self._load, reader, batches[k + 1], resolution)
                for task in self.config.tasks:
                    for s, reason in failed:
                        nan_row = _row(self.label, task, s, float("nan"), reason)
                        rows.append(nan_row | dict.fromkeys(ALL_METRICS, float("nan")) | _NO_COUNTS)
                    if loaded:
                        predictions, elapsed = self._forward_batch(loaded, task)
                        scored.append(scorer.submit(self._score, loaded, predictions, task, elapsed))
            for future in scored:
                rows.extend(future.result())
        return rows

    def run(self) -> list[dict[str, Any]]:
        """Every row of this run, gathered on every process (sets are split across processes)."""
        from accelerate.utils import gather_object

        begin = time.perf_counter()
        cfg = self.config
        rows: list[dict[str, Any]] = []
        for name in cfg.datasets:
            dataset = get_benchmark_dataset(name)
            reader = SceneReader(dataset, cfg.data, cfg.cache_mb * 2**20)
            scenes = dataset_scenes(dataset, cfg.data, cfg.metadata)
            resolution = cfg.resolution or dataset.resolution
            for num_views in cfg.views:
                sets = self._sets(reader, scenes, num_views)
                batches = self._batches(sets)
                rows.extend(
                    self._run_batches(
                        reader, batches[self.state.process_index :: self.state.num_processes], resolution
                    )
                )
                log.info(
                    "%s %s %dv: %d sets (view cache: %d hits, %d misses)",
                    self.label,
                    name,
                    num_views,
                    len(sets),
                    reader.cache.hits,
                    reader.cache.misses,
                )
        if self.state.num_processes > 1:
            rows = gather_object(rows)
        rows.sort(key=lambda r: (r["task"], r["dataset"], r["views"], r["set"]))
        self.timings.total = time.perf_counter() - begin
        return rows


@dataclasses.dataclass
class BenchmarkResult:
    """What a run produced: its rows, their summary, the files written and the timings."""

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    files: list[Path]
    timings: Timings
    is_main_process: bool = True


def run_benchmark(config: BenchmarkConfig) -> BenchmarkResult:
    """Run the benchmark and (on the main process) write rows, averages, set lists and plots into `config.out`."""
    from mapa_train.benchmark import report

    runner = BenchmarkRunner(config)
    rows = runner.run()
    _warn_nonfinite(rows)
    summary = report.summarise(rows)
    files: list[Path] = []
    start = time.perf_counter()
    if runner.state.is_main_process:
        out = config.out
        files.append(report.write_rows(out / report.ROWS_FILE, rows))
        run_info = {
            "model": runner.label,
            "model_spec": config.model,
            "weights": None if config.weights is None else str(config.weights),
            "family": runner.family,
            "views": list(config.views),
            "tasks": list(config.tasks),
            "datasets": list(config.datasets),
            "reference_dataset_names": {d: get_benchmark_dataset(d).label for d in config.datasets},
            "sets_per_scene": config.sets_per_scene,
            "resolution": None if config.resolution is None else list(config.resolution),
            "precision": config.precision,
            "processes": runner.state.num_processes,
            "device": str(runner.device),
        }
        files.append(report.write_summary(out / report.RESULTS_FILE, summary, {"run": run_info}))
        files.extend(report.plot_metrics(summary, out / "plots"))
        files.extend(sorted((out / "sets").glob("*.json")))
    runner.timings.writing += time.perf_counter() - start
    runner.timings.total += time.perf_counter() - start
    return BenchmarkResult(rows, summary, files, runner.timings, runner.state.is_main_process)


def _warn_nonfinite(rows: list[dict[str, Any]]) -> None:
    """One warning naming every set whose prediction had non-finite values (their reference metrics mean nothing)."""
    bad = [r for r in rows if r.get("nonfinite_pred_pixels", 0) or r.get("nonfinite_pred_cameras", 0)]
    if not bad:
        return
    where = "; ".join(
        f"{r['task']} {r['dataset']}/{r['scene']} set {r['set']} ({r['views']} views): "
        f"{r['nonfinite_pred_pixels']} pixels, {r['nonfinite_pred_cameras']} cameras"
        for r in bad
    )
    log.warning(
        "%d of %d sets had non-finite predictions; their reference metrics are not meaningful "
        "(a non-finite error counts as 0): %s",
        len(bad),
        len(rows),
        where,
    )
