"""Query speed of the parquet index at a million frames, against reading the whole table and scanning it.

    python benchmarks/bench_index.py [--frames 1000000] [--scenes-per-dataset 1250] [--repeat 5]

Generates a synthetic index (8 datasets, scenes of 20-180 frames, the real schema) with `write_index`, then times
three documented queries through `open_index(...)` and, in the same run, the baseline that a tool without an
index filter would do: read the full table (`pyarrow.parquet.read_table`) and scan its columns with numpy. Prints
the median times and the ratio baseline / index (higher is better).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from metadata.index import open_index
from metadata.index.build import write_index
from metadata.index.schema import FRAMES_SCHEMA, SCENES_SCHEMA

DATASETS = ["ase", "blendedmvs", "dl3dv", "megadepth", "mpsd", "scannetppv2", "spring", "tav2_wb"]


def synthetic_tables(total_frames: int, scenes_per_dataset: int, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    """A scenes and a frames table with about `total_frames` rows of frames, built column-wise."""
    rng = np.random.default_rng(seed)
    n_scenes = scenes_per_dataset * len(DATASETS)
    counts = rng.integers(20, 181, n_scenes)
    counts = np.maximum(1, np.round(counts * total_frames / counts.sum())).astype(np.int64)
    dataset = np.repeat(DATASETS, scenes_per_dataset)
    scene = np.array([f"scene_{i:06d}" for i in range(n_scenes)], dtype=object)
    metric = ~np.isin(dataset, ["blendedmvs", "dl3dv", "megadepth"])
    strings = pa.list_(pa.string())
    scenes = pa.table(
        {
            "dataset": dataset,
            "scene": scene,
            "root": np.char.add("/data/", dataset),
            "split": rng.choice(["train", "train", "train", "val", "test"], n_scenes),
            "frames": counts.astype(np.int32),
            "width": np.full(n_scenes, 640, np.int32),
            "height": np.full(n_scenes, 480, np.int32),
            "resolutions": pa.array([["640x480"]] * n_scenes, strings),
            "camera_model": np.full(n_scenes, "PINHOLE", object),
            "camera_models": pa.array([["PINHOLE"]] * n_scenes, strings),
            "scale_type": np.where(metric, "metric", "colmap"),
            "metric": metric,
            "synthetic": np.isin(dataset, ["ase", "spring", "tav2_wb"]),
            "frame_modalities": pa.array([["image", "depth"]] * n_scenes, strings),
            "scene_modalities": pa.array([["pairwise_covisibility"]] * n_scenes, strings),
            "covisibility": np.full(n_scenes, "covisibility/v0/m.npy", object),
            "covis_threshold": np.full(n_scenes, 0.25, np.float32),
            "covis_mean_degree": rng.uniform(1, 30, n_scenes).astype(np.float32),
            "covis_components": rng.integers(1, 4, n_scenes).astype(np.int32),
            "covis_isolated": rng.integers(0, 3, n_scenes).astype(np.int32),
            "meta_mtime_ns": np.zeros(n_scenes, np.int64),
            "meta_size": np.zeros(n_scenes, np.int64),
        },
        schema=SCENES_SCHEMA,
    )
    n = int(counts.sum())
    index = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)
    values = pa.array(np.tile(np.array(["image", "depth"], dtype=object), n))
    modalities = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), values)
    frames = pa.table(
        {
            "dataset": np.repeat(dataset, counts),
            "scene": np.repeat(scene, counts),
            "frame": np.char.mod("%06d", index).astype(object),
            "index": index.astype(np.int32),
            "width": np.full(n, 640, np.int32),
            "height": np.full(n, 480, np.int32),
            "camera_model": np.full(n, "PINHOLE", object),
            "fx": rng.uniform(400, 600, n),
            "fy": rng.uniform(400, 600, n),
            "cx": np.full(n, 319.5),
            "cy": np.full(n, 239.5),
            "tx": rng.normal(size=n),
            "ty": rng.normal(size=n),
            "tz": rng.normal(size=n),
            "modalities": modalities,
        },
        schema=FRAMES_SCHEMA,
    )
    return scenes, frames


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--scenes-per-dataset", type=int, default=1250)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        meta = Path(tmp)
        scenes, frames = synthetic_tables(args.frames, args.scenes_per_dataset)
        start = time.perf_counter()
        write_index(meta, scenes, frames, covis_threshold=0.25)
        print(
            f"wrote {scenes.num_rows} scenes, {frames.num_rows} frames in {time.perf_counter() - start:.2f} s"
        )
        index = open_index(meta)
        target = scenes["scene"][scenes.num_rows // 2].as_py()
        target_dataset = scenes["dataset"][scenes.num_rows // 2].as_py()

        def scan_frames() -> int:
            table = pq.read_table(index.frames_path)
            ds = table["dataset"].to_numpy(zero_copy_only=False)
            sc = table["scene"].to_numpy(zero_copy_only=False)
            return int(((ds == target_dataset) & (sc == target)).sum())

        def scan_scenes(mask: Callable[[dict[str, np.ndarray]], np.ndarray]) -> int:
            table = pq.read_table(index.scenes_path)
            cols = {
                c: table[c].to_numpy(zero_copy_only=False) for c in ("dataset", "split", "frames", "metric")
            }
            return int(mask(cols).sum())

        queries = [
            (
                "frames of one scene",
                lambda: index.frames(dataset=target_dataset, scene=target).num_rows,
                scan_frames,
            ),
            (
                "metric scenes with >= 24 frames",
                lambda: index.scenes(metric=True, min_frames=24).num_rows,
                lambda: scan_scenes(lambda c: c["metric"].astype(bool) & (c["frames"] >= 24)),
            ),
            (
                "scenes of dataset mpsd in split train",
                lambda: index.scenes(dataset="mpsd", split="train").num_rows,
                lambda: scan_scenes(lambda c: (c["dataset"] == "mpsd") & (c["split"] == "train")),
            ),
        ]
        for name, query, baseline in queries:
            t_query, rows = median_time(query, args.repeat)
            t_base, base_rows = median_time(baseline, args.repeat)
            if rows != base_rows:
                raise SystemExit(f"{name}: the index returned {rows} rows, the scan {base_rows}")
            print(
                f"{name:40s} index {1e3 * t_query:8.2f} ms   full read + numpy scan {1e3 * t_base:8.2f} ms   "
                f"ratio {t_base / t_query:6.1f}x   ({rows} rows)"
            )


if __name__ == "__main__":
    main()
