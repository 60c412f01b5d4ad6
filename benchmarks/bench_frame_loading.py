"""Frame-loading throughput of the public `wai` API against bare decoding of the same files.

    python benchmarks/bench_frame_loading.py [--frames 120] [--width 640] [--height 480]

Prints frames/s for image + depth + intrinsics + pose through `wai.open_scene(...).frames[i]`, the same for bare
`cv2.imread` + a bare EXR decode (OpenCV when it has EXR support, else the OpenEXR package) with the intrinsics and
pose read from an already-parsed dict, and the ratio between the two (target >= 0.9). Then it times opening a
10,000-frame scene and reading one frame's pose.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import OpenEXR  # noqa: E402

import wai  # noqa: E402
from wai.camera import Camera, CameraModel  # noqa: E402


def make_dataset(root: Path, frames: int, width: int, height: int) -> Path:
    """A scene of smooth textured images and depth maps (compressible like real photos, unlike noise)."""
    rng = np.random.default_rng(0)
    camera = Camera(
        CameraModel.PINHOLE,
        width,
        height,
        {"fl_x": 0.8 * width, "fl_y": 0.8 * width, "cx": width / 2, "cy": height / 2},
    )
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    with wai.SceneWriter(root / "bench", dataset_name="bench", camera=camera) as writer:
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
    return root / "bench"


def exr_reader() -> tuple[str, callable]:
    probe = np.zeros((2, 2), np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.exr")
        try:
            if cv2.imwrite(path, probe) and cv2.imread(path, cv2.IMREAD_UNCHANGED) is not None:
                return "cv2", lambda p: cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        except cv2.error:
            pass

    def read_openexr(p: Path) -> np.ndarray:
        with OpenEXR.File(str(p), separate_channels=True) as exr:
            return exr.channels()["Y"].pixels.astype(np.float32)

    return "OpenEXR", read_openexr


def bare_pass(scene_dir: Path, read_exr) -> int:
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    K = np.array([[meta["fl_x"], 0, meta["cx"]], [0, meta["fl_y"], meta["cy"]], [0, 0, 1]])
    for frame in meta["frames"]:
        image = cv2.cvtColor(cv2.imread(str(scene_dir / frame["image"]), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        depth = read_exr(scene_dir / frame["depth"])
        pose = np.asarray(frame["transform_matrix"])
        assert image.ndim == 3 and depth.ndim == 2 and pose.shape == (4, 4) and K.shape == (3, 3)
    return len(meta["frames"])


def wai_pass(scene_dir: Path) -> int:
    scene = wai.open_scene(scene_dir)
    for frame in scene.frames:
        image, depth, K, pose = frame.image, frame.depth, frame.intrinsics, frame.cam2world
        assert image.ndim == 3 and depth.ndim == 2 and pose.shape == (4, 4) and K.shape == (3, 3)
    return len(scene)


def best_rate(fn, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - start))
    return max(rates)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scene_dir = make_dataset(root, args.frames, args.width, args.height)
        backend, read_exr = exr_reader()
        bare_pass(scene_dir, read_exr)  # warm the page cache for both runs
        bare = best_rate(lambda: bare_pass(scene_dir, read_exr), args.repeats)
        ours = best_rate(lambda: wai_pass(scene_dir), args.repeats)
        print(f"frames: {args.frames} at {args.width}x{args.height} (PNG image + half-float EXR depth)")
        print(f"bare decode (cv2 + {backend}): {bare:8.1f} frames/s")
        print(f"wai public API:              {ours:8.1f} frames/s")
        print(f"ratio wai / bare:            {ours / bare:8.3f}   (target >= 0.9)")
        opened, total = big_scene_open(root)
        print(
            f"open 10,000-frame scene: {opened * 1000:.1f} ms; + read one pose by name: {total * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
