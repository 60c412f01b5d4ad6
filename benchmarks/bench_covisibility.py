"""Covisibility throughput and memory: `metadata.covisibility` against a plain per-pair numpy loop.

    python benchmarks/bench_covisibility.py [--orbit-frames 200] [--walk-frames 200 2000] [--backend numpy|torch]

Scenes are synthesised in memory at the working size (224 x 168, what every config resizes to) with analytic depth:

- orbit: cameras on a 60-degree arc around a box in a room, all looking at it, so every pair overlaps (the
  pre-filter can skip nothing);
- walk:  a camera walking down a long corridor, 0.25 m a frame, with a 5 m depth range (an RGB-D sensor), so most
  pairs see nothing of each other.

The baseline is the loop anyone would write first: for every pair, unproject the source with
`wai.geometry.depth_to_world_points`, project into the target with `wai.geometry.project_points`, and test the
nearest pixel. It is timed on a sample of pairs; its rate holds for all pairs (it has no pre-filter). Pairs/s
counts all N^2 pairs of the scene for both. Peak memory is the traced (numpy + Python) peak of the whole
computation, including the depth stack, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from metadata.covisibility import CONFIGS, FrameStack, candidate_pairs, covisibility_matrix
from wai.camera import Camera, CameraModel
from wai.geometry import depth_to_world_points, pixel_rays, project_points

W, H, F = 224, 168, 160.0
PARAMS = CONFIGS["gt_depth"].params


def camera() -> Camera:
    return Camera(CameraModel.PINHOLE, W, H, {"fl_x": F, "fl_y": F, "cx": (W - 1) / 2, "cy": (H - 1) / 2})


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, -1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    out = np.eye(4)
    out[:3, :3] = np.stack([right, down, forward], axis=1)
    out[:3, 3] = eye
    return out


def box_depth(rays: np.ndarray, c2w: np.ndarray, lo: np.ndarray, hi: np.ndarray, inside: bool) -> np.ndarray:
    """Ray parameter (= z-depth for z = 1 rays) to an axis-aligned box, seen from inside or outside; inf on a miss."""
    dirs = rays @ c2w[:3, :3].T
    origin = c2w[:3, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - origin) / dirs
        t2 = (hi - origin) / dirs
    near = np.nanmax(np.minimum(t1, t2), axis=-1)
    far = np.nanmin(np.maximum(t1, t2), axis=-1)
    if inside:
        return far
    return np.where((far >= near) & (near > 0), near, np.inf)


def orbit_scene(n: int) -> FrameStack:
    cam = camera()
    rays = pixel_rays(cam)
    centre = np.array([0.0, -0.5, 0.0])
    depths, poses = [], []
    for k in range(n):
        angle = np.radians(-30 + 60 * k / max(1, n - 1))
        eye = np.array([3 * np.sin(angle), -1.2, -3 * np.cos(angle)])
        c2w = look_at(eye, centre)
        room = box_depth(rays, c2w, np.array([-6.0, -3.0, -6.0]), np.array([6.0, 0.0, 6.0]), inside=True)
        obj = box_depth(rays, c2w, np.array([-0.6, -1.2, -0.6]), np.array([0.6, 0.0, 0.6]), inside=False)
        depths.append(np.minimum(room, obj).astype(np.float32))
        poses.append(c2w)
    return FrameStack.from_arrays(depths, [cam] * n, np.stack(poses))


def walk_scene(n: int, max_range: float = 5.0) -> FrameStack:
    cam = camera()
    rays = pixel_rays(cam)
    rng = np.random.default_rng(0)
    lo, hi = np.array([-1.5, -2.5, -5.0]), np.array([1.5, 0.0, 0.25 * n + 5.0])
    depths, poses = [], []
    for k in range(n):
        eye = np.array([rng.uniform(-0.3, 0.3), -1.5, 0.25 * k])
        c2w = look_at(eye, eye + np.array([rng.uniform(-0.4, 0.4), rng.uniform(-0.1, 0.1), 1.0]))
        depth = box_depth(rays, c2w, lo, hi, inside=True)
        depths.append(np.where(depth <= max_range, depth, 0).astype(np.float32))
        poses.append(c2w)
    return FrameStack.from_arrays(depths, [cam] * n, np.stack(poses))


def plain_pair(frames: FrameStack, i: int, j: int) -> float:
    """One pair, the straightforward way."""
    world, valid = depth_to_world_points(frames.depths[i], frames.cameras[i], frames.cam2world[i])
    uv, z, ok = project_points(world[valid], frames.cameras[j], frames.cam2world[j])
    col, row = np.rint(uv[:, 0]), np.rint(uv[:, 1])
    inside = ok & (z > PARAMS.min_depth) & (col >= 0) & (col <= W - 1) & (row >= 0) & (row <= H - 1)
    target = frames.depths[j][row[inside].astype(int), col[inside].astype(int)].astype(np.float64)
    zz = z[inside]
    agree = (target > 0) & (np.abs(zz - target) < PARAMS.slack + PARAMS.rel_thres * zz)
    return np.count_nonzero(agree) / (H * W)


def baseline_rate(frames: FrameStack, matrix: np.ndarray, samples: int) -> tuple[float, float]:
    """Pairs/s of the plain loop on `samples` pairs, and its largest difference from `matrix` there."""
    rng = np.random.default_rng(1)
    n = len(frames)
    pairs = [(int(a), int(b)) for a, b in rng.integers(0, n, size=(samples, 2))]
    start = time.perf_counter()
    values = [plain_pair(frames, i, j) for i, j in pairs]
    elapsed = time.perf_counter() - start
    diff = max(abs(v - float(matrix[i, j])) for v, (i, j) in zip(values, pairs, strict=True))
    return samples / elapsed, diff


def measure(name: str, build, n: int, backend: str, samples: int) -> dict[str, float]:
    tracemalloc.start()
    frames = build(n)
    start = time.perf_counter()
    matrix = covisibility_matrix(frames, PARAMS, backend=backend)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = float(np.count_nonzero(candidate_pairs(frames, PARAMS))) / n**2
    ours = n * n / elapsed
    base, diff = baseline_rate(frames, matrix, samples)
    rss_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"{name:>5} {n:>5} frames: {ours:10.0f} pairs/s vs plain loop {base:7.0f} pairs/s = {ours / base:6.1f}x | "
        f"pairs computed {100 * kept:5.1f}% | {elapsed:7.1f} s | peak traced {peak / 2**30:.2f} GiB, "
        f"peak RSS so far {rss_gib:.2f} GiB | max diff vs loop {diff:.1e}",
        flush=True,
    )
    return {"ratio": ours / base, "peak_gib": peak / 2**30}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orbit-frames", type=int, nargs="*", default=[200])
    parser.add_argument("--walk-frames", type=int, nargs="*", default=[200, 2000])
    parser.add_argument("--backend", choices=["numpy", "torch"], default="numpy")
    parser.add_argument("--baseline-pairs", type=int, default=40, help="pairs the plain loop is timed on")
    args = parser.parse_args()
    print(f"working size {W}x{H}, config gt_depth, backend {args.backend}")
    for n in args.orbit_frames:
        measure("orbit", orbit_scene, n, args.backend, args.baseline_pairs)
    for n in args.walk_frames:
        measure("walk", walk_scene, n, args.backend, args.baseline_pairs)


if __name__ == "__main__":
    main()
