"""Small scenes written through the public API, shared by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import wai
from wai.camera import Camera, CameraModel

W, H = 32, 24


def pinhole(width: int = W, height: int = H, f: float = 30.0) -> Camera:
    return Camera(
        CameraModel.PINHOLE,
        width,
        height,
        {"fl_x": f, "fl_y": f, "cx": (width - 1) / 2, "cy": (height - 1) / 2},
    )


def make_scene(scene_dir: Path, n_frames: int = 3, seed: int = 0) -> Path:
    """A small valid scene: random RGB, planar depth 1..3 m, poses translated along x."""
    rng = np.random.default_rng(seed)
    with wai.SceneWriter(scene_dir, dataset_name="unit", camera=pinhole()) as writer:
        for i in range(n_frames):
            pose = np.eye(4)
            pose[0, 3] = 0.1 * i
            image = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
            depth = np.linspace(1.0, 3.0, H * W, dtype=np.float32).reshape(H, W)
            writer.add_frame(f"{i:06d}", pose, image=image, depth=depth)
    return scene_dir


def synthetic_root(root: Path, *, scenes: int, frames: int, width: int = 64, height: int = 48) -> Path:
    """`root` with a `synthetic` dataset folder of `scenes` scenes of `frames` frames, covisibility computed, as
    `wai convert synthetic` and `wai covis` write them; returns `root`."""
    from click.testing import CliRunner

    from cli.wai_cli import main

    dst = str(root / "synthetic")
    convert = ["convert", "synthetic", "--dst", dst, "--num-scenes", str(scenes)]
    convert += [
        "--min-frames",
        str(frames),
        "--max-frames",
        str(frames),
        "--width",
        str(width),
        "--height",
        str(height),
    ]
    for args in (convert, ["covis", dst]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
    return root
