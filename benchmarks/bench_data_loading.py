"""Training-loader throughput against the bare decode of the same files (the floor), folder and packed layouts.

    python benchmarks/bench_data_loading.py [--root ROOT --dataset ROW] [--size 768x576] [--views 4]
                                            [--resolution 518x392] [--workers 0,1,2] [--samples 32]
                                            [--repeats 3] [--no-packed]

Without --root it renders two `wai convert synthetic` scenes (PNG images, EXR depth) at --size and computes their
covisibility with `metadata.covisibility`. It prints views/s of the bare decode (image + depth of exactly the
frames the loader reads, one process) and of the loader with each worker count (sampling, cleaning, crop and
resize, colour augmentation, geometry, collation), and the ratio loader / floor (target >= 0.7 with 0 workers
on an idle machine). Unless --no-packed, the scenes are also packed (`wai pack`, at the resolution plus the
aug_crop jitter) and the same passes on the stores are compared with the same folder floor (target: > 1).
Figures are medians of --repeats interleaved repetitions (`mapa_train.data.profile`, as `mapa-train profile-data`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from click.testing import CliRunner

import wai
from cli.wai_cli import main as wai_main
from mapa_train.data.crop import INTERPOLATIONS
from mapa_train.data.profile import profile_data
from metadata.covisibility import compute_scene_covisibility


def make_root(root: Path, width: int, height: int, frames: int) -> Path:
    args = ["convert", "synthetic", "--dst", str(root), "--num-scenes", "2", "--min-frames", str(frames)]
    args += ["--max-frames", str(frames), "--width", str(width), "--height", str(height)]
    result = CliRunner().invoke(wai_main, args)
    if result.exit_code != 0:
        raise SystemExit(result.output)
    for name in wai.list_scenes(root):
        compute_scene_covisibility(root / name, "gt_depth")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--size", default="768x576", help="WxH of the rendered scenes (without --root)")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--resolution", default="518x392")
    parser.add_argument("--workers", default="0,1,2")
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--interpolation", choices=INTERPOLATIONS, default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-packed", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    resolution = tuple(int(v) for v in args.resolution.split("x"))
    workers = [int(v) for v in args.workers.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root
        if root is None:
            width, height = (int(v) for v in args.size.split("x"))
            root = make_root(Path(tmp) / "synthetic", width, height, args.frames)
        result = profile_data(
            root,
            dataset=args.dataset,
            num_views=args.views,
            resolution=resolution,  # type: ignore[arg-type]
            workers=workers,
            samples=args.samples,
            batch_size=args.batch_size,
            interpolation=args.interpolation,
            pack=not args.no_packed,
            repeats=args.repeats,
        )
    print(json.dumps(result.as_dict(), indent=2) if args.json else "\n".join(result.lines()))


if __name__ == "__main__":
    main()
