"""Frame-loading throughput of the public `wai` API against the fastest bare decode of the same files.

    python benchmarks/bench_frame_loading.py [--frames 120] [--sizes 640x480,224x168] [--repeats 7]

For each size it writes one scene of PNG images and half-float EXR depth maps, then times two passes over its
frames, interleaved repetition by repetition (bare, wai, wai, bare, ...) so drift in the machine's speed hits both:

- wai: ``frame.image``, ``frame.depth``, ``frame.intrinsics`` and ``frame.cam2world`` through `wai.open_scene`;
- bare: ``cv2.imread`` + ``cv2.cvtColor`` to RGB for the image, the fastest EXR decoder available here for the
  depth (each candidate is timed on the same files first: OpenCV when it has EXR support, the OpenEXR package's
  `File` API and its legacy `InputFile` API), intrinsics and pose from an already-parsed dict.

It prints frames/s of both (the median repetition) and the median of the per-repetition ratios wai / bare (target
>= 0.9), by wall clock and by CPU time (on a busy shared machine the CPU-time figure is the steadier one). Then it times opening
a 10,000-frame scene and reading one frame's pose. The default sizes are 640x480 and `wai convert synthetic`'s
224x168, where a fixed per-frame cost shows most.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import OpenEXR  # noqa: E402

import wai  # noqa: E402
from wai.camera import Camera, CameraModel  # noqa: E402

ExrReader = Callable[[Path], np.ndarray]


def make_dataset(root: Path, frames: int, width: int, height: int) -> Path:
    """A scene of smooth textured images and depth maps (compressible like real photos, unlike noise)."""
    rng = np.random.default_rng(0)
    camera = Camera(
        CameraModel.PINHOLE,
        width,
        height,
        {"fl_x": 0.8 * width, "fl_y": 0.8 * width, "cx": (width - 1) / 2, "cy": (height - 1) / 2},
    )
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    scene_dir = root / f"bench_{width}x{height}"
    with wai.SceneWriter(scene_dir, dataset_name="bench", camera=camera) as writer:
        for i in range(frames):
            phase = rng.uniform(0, 6.28, 3)
            image = np.stack(
                [127 + 120 * np.sin(xx / (9 + c) + yy / (13 + 2 * c) + phase[c]) for c in range(3)], -1
            )
            image += rng.normal(0, 6, image.shape)
            depth = 1.0 + 3.0 * (xx + yy) / (width + height) + 0.1 * np.sin(xx / 17 + phase[0])
            pose = np.eye(4)
            pose[:3, 3] = rng.normal(size=3)
            writer.add_frame(
                f"{i:06d}",
                pose,
                image=np.clip(image, 0, 255).astype(np.uint8),
                depth=depth.astype(np.float32),
            )
    return scene_dir


def _read_cv2(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def _read_openexr_file(path: Path) -> np.ndarray:
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        return exr.channels()["Y"].pixels.astype(np.float32)


def _read_openexr_inputfile(path: Path) -> np.ndarray:
    import Imath

    exr = OpenEXR.InputFile(str(path))
    try:
        window = exr.header()["dataWindow"]
        width, height = window.max.x - window.min.x + 1, window.max.y - window.min.y + 1
        raw = exr.channel("Y", Imath.PixelType(Imath.PixelType.FLOAT))
    finally:
        exr.close()
    return np.frombuffer(raw, dtype=np.float32).reshape(height, width)


def exr_candidates(sample: Path) -> dict[str, ExrReader]:
    """The EXR decoders that work here and return the same pixels as the OpenEXR `File` API."""
    reference = _read_openexr_file(sample)
    found: dict[str, ExrReader] = {}
    for name, reader in (
        ("cv2", _read_cv2),
        ("OpenEXR.File", _read_openexr_file),
        ("OpenEXR.InputFile", _read_openexr_inputfile),
    ):
        try:
            pixels = reader(sample)
        except Exception:  # noqa: BLE001 - a decoder this machine lacks is simply not a candidate
            continue
        if pixels is not None and pixels.shape == reference.shape and np.array_equal(pixels, reference):
            found[name] = reader
    return found


def fastest_exr_reader(files: list[Path], rounds: int = 5) -> tuple[str, ExrReader]:
    """The candidate with the shortest best-of-`rounds` CPU time over `files` (candidates take turns)."""
    candidates = exr_candidates(files[0])
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(rounds):
        for name, reader in candidates.items():
            start = time.process_time()
            for path in files:
                reader(path)
            best[name] = min(best[name], time.process_time() - start)
    name = min(best, key=best.__getitem__)
    return name, candidates[name]


def bare_pass(scene_dir: Path, read_exr: ExrReader) -> int:
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    K = np.array([[meta["fl_x"], 0, meta["cx"]], [0, meta["fl_y"], meta["cy"]], [0, 0, 1]])
    for frame in meta["frames"]:
        image = cv2.cvtColor(cv2.imread(str(scene_dir / frame["image"]), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        depth = read_exr(scene_dir / frame["depth"])
        pose = np.asarray(frame["transform_matrix"], dtype=np.float64)
        assert image.ndim == 3 and depth.ndim == 2 and pose.shape == (4, 4) and K.shape == (3, 3)
    return len(meta["frames"])


def wai_pass(scene_dir: Path) -> int:
    scene = wai.open_scene(scene_dir)
    for frame in scene.frames:
        image, depth, K, pose = frame.image, frame.depth, frame.intrinsics, frame.cam2world
        assert image.ndim == 3 and depth.ndim == 2 and pose.shape == (4, 4) and K.shape == (3, 3)
    return len(scene)


def interleaved_rates(
    passes: dict[str, Callable[[], int]], repeats: int
) -> dict[str, dict[str, list[float]]]:
    """frames/s of each pass per repetition, by wall clock and by this process's CPU time, running the passes in
    alternating order (ABBA...). CPU time is what other jobs on a shared machine disturb least."""
    rates: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in passes}
    names = list(passes)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            wall, cpu = time.perf_counter(), time.process_time()
            n = passes[name]()
            rates[name]["wall"].append(n / (time.perf_counter() - wall))
            rates[name]["cpu"].append(n / (time.process_time() - cpu))
    return rates


def paired_ratio(ours: list[float], bare: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of the per-repetition ratios (each pair ran back to back)."""
    ratios = sorted(w / b for w, b in zip(ours, bare, strict=True))
    return statistics.median(ratios), ratios[0], ratios[-1]


def big_scene_open(root: Path, n: int = 10_000) -> tuple[float, float]:
    frames = [
        {
            "frame_name": f"{i:06d}",
            "file_path": f"images/{i:06d}.png",
            "image": f"images/{i:06d}.png",
            "depth": f"depth/{i:06d}.exr",
            "transform_matrix": np.eye(4).tolist(),
        }
        for i in range(n)
    ]
    meta = {
        "scene_name": "big",
        "dataset_name": "bench",
        "shared_intrinsics": True,
        "camera_model": "PINHOLE",
        "fl_x": 500.0,
        "fl_y": 500.0,
        "cx": 320.0,
        "cy": 240.0,
        "w": 640,
        "h": 480,
        "frames": frames,
        "frame_modalities": {
            "image": {"frame_key": "image", "format": "image"},
            "depth": {"frame_key": "depth", "format": "depth"},
        },
    }
    (root / "big").mkdir()
    (root / "big" / "scene_meta.json").write_text(json.dumps(meta, indent=2))
    start = time.perf_counter()
    scene = wai.open_scene(root / "big")
    opened = time.perf_counter() - start
    pose = scene.frame("007777").cam2world
    total = time.perf_counter() - start
    assert pose.shape == (4, 4)
    return opened, total


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [tuple(int(v) for v in item.lower().split("x")) for item in text.split(",")]  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--sizes", type=parse_sizes, default=parse_sizes("640x480,224x168"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for width, height in args.sizes:
            scene_dir = make_dataset(root, args.frames, width, height)
            depth_files = sorted((scene_dir / "depth").glob("*.exr"))
            backend, read_exr = fastest_exr_reader(depth_files)
            bare_pass(scene_dir, read_exr)  # warm the page cache for both sides
            rates = interleaved_rates(
                {
                    "bare": lambda d=scene_dir, r=read_exr: bare_pass(d, r),
                    "wai": lambda d=scene_dir: wai_pass(d),
                },
                args.repeats,
            )
            print(
                f"{width}x{height}, {args.frames} frames (PNG image + half-float EXR depth), {args.repeats} reps"
            )
            for clock in ("wall", "cpu"):
                bare = statistics.median(rates["bare"][clock])
                ours = statistics.median(rates["wai"][clock])
                ratio, low, high = paired_ratio(rates["wai"][clock], rates["bare"][clock])
                print(
                    f"  {clock:4s}: bare (cv2.imread + {backend}) {bare:7.1f} frames/s, wai {ours:7.1f} frames/s; "
                    f"wai / bare {ratio:.3f} (reps {low:.3f}-{high:.3f}; target >= 0.9)"
                )
        opened, total = big_scene_open(root)
        print(
            f"open 10,000-frame scene: {opened * 1000:.1f} ms; + read one pose by name: {total * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
