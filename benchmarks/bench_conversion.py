"""Conversion throughput of `wai convert blendedmvs` with 1 and 2 worker processes on the same raw fixture.

    python benchmarks/bench_conversion.py [--scenes 24] [--frames 24] [--width 768] [--height 576]

Writes a raw BlendedMVS tree at the release resolution (JPEG, bottom-up PFM, MVSNet cam.txt; smooth textured
content so the codecs do real work), converts it through the command line with ``--workers 1`` and ``--workers 2``
into fresh roots, and prints frames/s of each and their ratio (target >= 1.7 on a machine with two free cores).
The default 576 frames keep the pool's start-up (two fresh `spawn` interpreters, about a second) small against the
work; with few frames the ratio measures start-up, not scaling.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

from cli.wai_cli import main
from tests.wai_converters.fixtures.blendedmvs import write_cam, write_pfm


def make_raw(root: Path, scenes: int, frames: int, width: int, height: int) -> int:
    """`scenes` x `frames` raw BlendedMVS frames under `root`; returns the frame count."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    K = np.array([[0.9 * width, 0, (width - 1) / 2], [0, 0.9 * width, (height - 1) / 2], [0, 0, 1]])
    for s in range(scenes):
        base = root / f"{s:024x}"
        for sub in ("blended_images", "cams", "rendered_depth_maps"):
            (base / sub).mkdir(parents=True)
        for i in range(frames):
            phase = rng.uniform(0, 6.28, 3)
            image = np.stack(
                [127 + 110 * np.sin(xx / (9 + c) + yy / (13 + 2 * c) + phase[c]) for c in range(3)], -1
            )
            image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(base / "blended_images" / f"{i:08d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            depth = (2.0 + (xx + yy) / (width + height) + 0.1 * np.sin(xx / 17 + phase[0])).astype(np.float32)
            write_pfm(base / "rendered_depth_maps" / f"{i:08d}.pfm", depth)
            pose = np.eye(4)
            pose[:3, 3] = rng.normal(size=3)
            write_cam(base / "cams" / f"{i:08d}_cam.txt", pose, K)
        (base / "cams" / "pair.txt").write_text("0\n")
    return scenes * frames


def convert(raw: Path, dst: Path, workers: int) -> float:
    """Seconds for one `wai convert blendedmvs` run."""
    start = time.perf_counter()
    result = CliRunner().invoke(
        main, ["convert", "blendedmvs", "--src", str(raw), "--dst", str(dst), "--workers", str(workers)]
    )
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return elapsed


def run(scenes: int, frames: int, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw"
        total = make_raw(raw, scenes, frames, width, height)
        make_raw(Path(tmp) / "warm_raw", 1, 2, width, height)
        convert(Path(tmp) / "warm_raw", Path(tmp) / "warm", 1)  # imports, not measured
        one = convert(raw, Path(tmp) / "w1", 1)
        two = convert(raw, Path(tmp) / "w2", 2)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"blendedmvs, {scenes} scenes x {frames} frames at {width}x{height}; {cores} usable cores, load {load:.1f}"
    )
    print(f"  1 worker : {total / one:7.1f} frames/s ({one:.2f} s)")
    print(f"  2 workers: {total / two:7.1f} frames/s ({two:.2f} s)")
    print(f"  ratio 2/1: {one / two:.2f}x (target >= 1.7 with two free cores)")
    if cores is not None and (cores < 2 or load > cores - 1):
        print("  note: fewer than two idle cores here, so the ratio cannot show the scaling")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=24)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--width", type=int, default=768)
    parser.add_argument("--height", type=int, default=576)
    args = parser.parse_args()
    run(args.scenes, args.frames, args.width, args.height)
