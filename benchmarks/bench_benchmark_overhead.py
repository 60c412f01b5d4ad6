"""`mapa-train benchmark`'s own cost against the model's forward time, both measured in the same run.

    python benchmarks/bench_benchmark_overhead.py [--models mapanything_tiny,vggt_tiny,pi3_tiny] [--views 24]
        [--resolution 518x336] [--sets-per-scene 5] [--repeats 2] [--size 518x336] [--frames 28] [--data ROOT]

Without --data it renders two `wai convert synthetic` scenes of --frames frames at --size, with covisibility, and
runs the benchmark on them (dataset `synthetic`, both scenes as the test split, random weights, CPU, one thread
for loading and scoring, as `mapa-train benchmark` runs on a CPU). For every model and repeat it prints the forward
seconds, the overhead (the run's wall time outside the forward passes: set selection, loading, metrics, writing
results and plots) and overhead / forward; issue 13's target is < 10 % for the tiny MapAnything at 24 views. The
repeats of the models are interleaved, so a burst of load on a shared machine hits them alike.

It also times the metrics of one set both ways on the same arrays: `scoring.score_views` (the runner's path)
against `metrics.score_set(alignment.align_set(...))` (the readable definition it is tested against).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli.wai_cli import main as wai_main
from mapa_train.benchmark.alignment import align_set
from mapa_train.benchmark.datasets import SceneReader, dataset_scenes, get_benchmark_dataset
from mapa_train.benchmark.metrics import score_set
from mapa_train.benchmark.runner import BenchmarkConfig, Timings, run_benchmark
from mapa_train.benchmark.scoring import score_views
from mapa_train.benchmark.sets import select_sets
from mapa_train.data.sample import quaternion_xyzw


def make_data(root: Path, width: int, height: int, frames: int) -> Path:
    """<root>/synthetic with two rendered scenes and their covisibility."""
    convert = ["convert", "synthetic", "--dst", str(root / "synthetic"), "--num-scenes", "2"]
    convert += ["--min-frames", str(frames), "--max-frames", str(frames), "--width", str(width)]
    convert += ["--height", str(height)]
    for args in (convert, ["covis", str(root / "synthetic")]):
        result = CliRunner().invoke(wai_main, args)
        if result.exit_code != 0:
            raise SystemExit(result.output)
    return root


def noisy_prediction(views: list[dict], rng: np.random.Generator) -> list[dict]:
    """A prediction near the GT (points 5 % further out plus noise, rays and poses perturbed), for timing metrics."""
    out = []
    for v in views:
        pose = np.asarray(v["camera_pose"], np.float64)
        noise = rng.normal(0.0, 0.01, v["pts3d"].shape).astype(np.float32)
        rays = v["ray_directions_cam"] + noise
        out.append(
            {
                "pts3d": v["pts3d"] * np.float32(1.05) + noise,
                "pts3d_cam": v["pts3d_cam"] * np.float32(1.05) + noise,
                "ray_directions": rays / np.linalg.norm(rays, axis=-1, keepdims=True),
                "cam_trans": (pose[:3, 3] + rng.normal(0.0, 0.01, 3)).astype(np.float32),
                "cam_quats": quaternion_xyzw(pose[:3, :3]),
                "metric_scaling_factor": np.array([1.2], np.float32),
            }
        )
    return out


def time_scorers(data: Path, views: int, resolution: tuple[int, int], repeats: int) -> None:
    dataset = get_benchmark_dataset("synthetic")
    reader = SceneReader(dataset, data)
    scenes = dataset_scenes(dataset, data, None)
    bench_set = select_sets(
        "synthetic",
        scenes,
        views,
        covisibility=reader.covisibility,
        frame_names=reader.frame_names,
        threshold=reader.row.covisibility_threshold,
        sets_per_scene=1,
    )[0]
    gt = reader.views(bench_set, resolution, "dinov2")
    pred = noisy_prediction(gt, np.random.default_rng(0))
    fast, slow = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        score_views(gt, pred)
        fast.append(time.perf_counter() - start)
        start = time.perf_counter()
        score_set(align_set(gt, pred))
        slow.append(time.perf_counter() - start)
    ratio = statistics.median(s / f for s, f in zip(slow, fast, strict=True))
    print(
        f"metrics of one {views}-view set at {resolution[0]}x{resolution[1]}: score_views "
        f"{statistics.median(fast):.3f} s, align_set + score_set {statistics.median(slow):.3f} s "
        f"(median of {repeats}): {ratio:.1f}x faster"
    )


def run_once(model: str, data: Path, out: Path, args: argparse.Namespace) -> Timings:
    config = BenchmarkConfig(
        model=model,
        data=data,
        out=out,
        views=(args.views,),
        datasets=("synthetic",),
        sets_per_scene=args.sets_per_scene,
        resolution=args.resolution,
        precision="fp32",
    )
    return run_benchmark(config).timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="mapanything_tiny,vggt_tiny,pi3_tiny")
    parser.add_argument("--views", type=int, default=24)
    parser.add_argument("--resolution", default="518x336", help="WxH the benchmark runs at")
    parser.add_argument("--sets-per-scene", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--size", default="518x336", help="WxH of the rendered scenes (without --data)")
    parser.add_argument("--frames", type=int, default=28, help="frames per rendered scene (without --data)")
    parser.add_argument(
        "--data", type=Path, default=None, help="a data root with a synthetic/ dataset folder"
    )
    args = parser.parse_args()
    args.resolution = tuple(int(v) for v in args.resolution.split("x"))
    models = args.models.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            width, height = (int(v) for v in args.size.split("x"))
            data = make_data(Path(tmp) / "data", width, height, args.frames)
        time_scorers(data, args.views, args.resolution, 3)
        shares: dict[str, list[float]] = {m: [] for m in models}
        for repeat in range(args.repeats):
            for model in models:
                t = run_once(model, data, Path(tmp) / f"out_{model}_{repeat}", args)
                shares[model].append(100.0 * t.overhead / t.forward)
                print(
                    f"{model} {args.views}v {args.resolution[0]}x{args.resolution[1]} repeat {repeat}: {t.summary()}"
                )
    for model, values in shares.items():
        print(
            f"{model}: overhead / forward {statistics.median(values):.1f} % (median of {len(values)}; "
            f"{min(values):.1f}-{max(values):.1f} %); target < 10 %"
        )


if __name__ == "__main__":
    main()
