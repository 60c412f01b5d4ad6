"""Tiny synthetic WAI datasets for the data tests: `wai convert synthetic` plus a covisibility matrix per scene."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from wai.geometry import reproject_depth

#: Multi-aspect target sizes (multiples of 14) that 224x168 sources cover with room for the aug_crop jitter.
SMALL_RESOLUTIONS = [(112, 112), (112, 84), (112, 70), (112, 56), (84, 112), (70, 112)]


def write_covisibility(scene_dir: Path) -> Path:
    """A simple full-denominator covisibility matrix (share of view i's pixels that agree with view j's depth)."""
    scene = wai.open_scene(scene_dir)
    frames = list(scene.frames)
    depths = [f.depth for f in frames]
    n = len(frames)
    matrix = np.zeros((n, n), dtype=np.float32)
    for i, a in enumerate(frames):
        for j, b in enumerate(frames):
            moved = reproject_depth(depths[i], a.camera, a.cam2world, b.camera, b.cam2world)
            target = depths[j]
            both = (moved > 0) & (target > 0)
            agree = both & (np.abs(moved - target) < 0.05 * np.maximum(target, 1e-6))
            matrix[i, j] = np.count_nonzero(agree) / target.size
    folder = scene_dir / "covisibility" / "v0"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pairwise_covisibility--{n}x{n}.npy"
    np.save(path, matrix)
    return path


def convert_synthetic(
    dst: Path, *, scenes: int = 2, frames: int = 6, width: int = 224, height: int = 168
) -> Path:
    args = ["convert", "synthetic", "--dst", str(dst), "--num-scenes", str(scenes)]
    args += [
        "--min-frames",
        str(frames),
        "--max-frames",
        str(frames),
        "--width",
        str(width),
        "--height",
        str(height),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    for name in wai.list_scenes(dst):
        write_covisibility(dst / name)
    return dst


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two scenes (objects_001, room_000) of six 224x168 frames, with covisibility. Read-only: copy to modify."""
    return convert_synthetic(tmp_path_factory.mktemp("data") / "synthetic")


@pytest.fixture
def synthetic_copy(synthetic_root: Path, tmp_path: Path) -> Path:
    """A private copy of `synthetic_root` that a test may break."""
    dst = tmp_path / "synthetic"
    shutil.copytree(synthetic_root, dst, symlinks=True)
    return dst
