"""Frame loading from a packed store (`wai pack`) against the bare decode of the folder layout's files.

    python benchmarks/bench_packed_loading.py [--frames 96] [--sizes 768x576,518x392] [--formats jpg,png] [--repeats 7]

For each size and image format it writes one scene (smooth textured images, half-float EXR depth), packs it, and
times passes over its frames, interleaved repetition by repetition (ABBA...) so drift in the machine's speed hits
every pass alike:

- floor: the folder layout's files decoded bare: ``cv2.imread`` + RGB conversion, the fastest EXR decoder found here
  (see `bench_frame_loading.fastest_exr_reader`), the pose from an already-parsed dict;
- packed: ``frame.image``, ``frame.depth``, ``frame.cam2world`` of ``wai.open_scene(<scene>.zarr)``;
- packed-fsspec: the same through a ``file://`` URL (zarr's fsspec store, the object-store code path);
- folder: the same `wai` calls on the scene folder.

It prints frames/s (median repetition) and the median of the per-repetition ratios against the floor, by wall
clock and by CPU time (the steadier figure on a shared machine). Target: packed / floor > 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import cv2  # noqa: E402
from bench_frame_loading import fastest_exr_reader, interleaved_rates, paired_ratio  # noqa: E402

import wai  # noqa: E402
from wai.camera import Camera, CameraModel  # noqa: E402
from wai.pack import run_pack  # noqa: E402
from wai.scene import STANDARD_MODALITIES, ModalitySpec  # noqa: E402


def write_scene(folder: Path, frames: int, width: int, height: int, image_suffix: str) -> Path:
    """Images of sine stripes plus noise (they compress like photos) and sloped depth, shared intrinsics."""
    rng = np.random.default_rng(1)
    f = 0.9 * width
    camera = Camera(
        CameraModel.PINHOLE, width, height, {"fl_x": f, "fl_y": f, "cx": width / 2, "cy": height / 2}
    )
    modalities = dict(STANDARD_MODALITIES, image=ModalitySpec("images", image_suffix, "image", "image"))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    with wai.SceneWriter(folder, dataset_name="bench", camera=camera, modalities=modalities) as writer:
        for i in range(frames):
            shift = rng.uniform(0.0, 6.0, 3)
            planes = [128 + 110 * np.cos(cols / (7 + 3 * c) - rows / (11 + c) + shift[c]) for c in range(3)]
            image = np.clip(np.stack(planes, -1) + rng.normal(0, 5, (height, width, 3)), 0, 255).astype(
                np.uint8
            )
            depth = (1.5 + 2.0 * rows / height + 0.2 * np.sin(cols / 23 + shift[1])).astype(np.float32)
            pose = np.eye(4)
            pose[:3, 3] = rng.normal(size=3)
            writer.add_frame(f"{i:06d}", pose, image=image, depth=depth)
    return folder


def floor_pass(scene_dir: Path, read_exr: Callable[[Path], np.ndarray]) -> int:
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    for frame in meta["frames"]:
        bgr = cv2.imread(str(scene_dir / frame["image"]), cv2.IMREAD_COLOR)
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        depth = read_exr(scene_dir / frame["depth"])
        pose = np.asarray(frame["transform_matrix"], dtype=np.float64)
        assert image.ndim == 3 and depth.ndim == 2 and pose.shape == (4, 4)
    return len(meta["frames"])


def wai_pass(location: str | Path) -> int:
    scene = wai.open_scene(location)
    for frame in scene.frames:
        image, depth, pose = frame.image, frame.depth, frame.cam2world
        assert image.ndim == 3 and depth.ndim == 2 and pose.shape == (4, 4)
    return len(scene)


def bench(root: Path, frames: int, width: int, height: int, suffix: str, repeats: int) -> None:
    scene_dir = write_scene(
        root / f"src_{suffix[1:]}_{width}x{height}" / "bench", frames, width, height, suffix
    )
    stores = root / f"stores_{suffix[1:]}_{width}x{height}"
    report = run_pack(scene_dir, stores, progress=False)
    assert not report.failed, report.summary()
    store = stores / "bench.zarr"
    exr_name, read_exr = fastest_exr_reader(sorted((scene_dir / "depth").glob("*.exr"))[:16])
    folder_mb = sum(p.stat().st_size for p in scene_dir.rglob("*") if p.is_file()) / 1e6
    store_mb = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 1e6
    passes = {
        "floor": lambda: floor_pass(scene_dir, read_exr),
        "packed": lambda: wai_pass(store),
        "packed-fsspec": lambda: wai_pass(store.as_uri()),
        "folder": lambda: wai_pass(scene_dir),
    }
    for name in passes:  # warm the page cache and the imports
        passes[name]()
    rates = interleaved_rates(passes, repeats)
    print(
        f"\n{width}x{height} {suffix[1:].upper()} + EXR, {frames} frames, depth floor decoder {exr_name}; "
        f"folder {folder_mb:.1f} MB, store {store_mb:.1f} MB"
    )
    print(f"  {'pass':<14} {'frames/s':>9} {'cpu frames/s':>13} {'x floor (wall)':>15} {'x floor (cpu)':>14}")
    for name, rate in rates.items():
        wall = sorted(rate["wall"])[len(rate["wall"]) // 2]
        cpu = sorted(rate["cpu"])[len(rate["cpu"]) // 2]
        ratio_wall = paired_ratio(rate["wall"], rates["floor"]["wall"])[0]
        ratio_cpu = paired_ratio(rate["cpu"], rates["floor"]["cpu"])[0]
        print(f"  {name:<14} {wall:>9.1f} {cpu:>13.1f} {ratio_wall:>15.2f} {ratio_cpu:>14.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--sizes", default="768x576,518x392")
    parser.add_argument("--formats", default="jpg,png")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wai-bench-pack-") as tmp:
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.lower().split("x"))
            for fmt in args.formats.split(","):
                bench(Path(tmp), args.frames, width, height, f".{fmt.strip()}", args.repeats)


if __name__ == "__main__":
    main()
