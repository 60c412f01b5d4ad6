"""`wai depth-consistency`: multi-view agreement of a predicted depth map as a per-pixel confidence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.wai_converters.stages.depth_scene import H, W, true_depth, write_scene
from wai import io, open_scene
from wai.stages import ProcessLog
from wai_converters.testing import run_cli


def _ingest(root: Path, source: Path, depths: dict[str, list[np.ndarray]]) -> None:
    for scene, maps in depths.items():
        for i, depth in enumerate(maps):
            io.store(source / scene / f"f{i}.exr", depth, "scalar")
    result = run_cli(["ingest-depth", root, "--from", source, "--name", "mvsanywhere"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Scene 'good' with exact depth, scene 'bad' whose frame f1 has a block 30 % too far, scene 'alone' with one
    frame."""
    root = tmp_path / "wai"
    good = [true_depth(v) for v in write_scene(root / "good", n=3, seed=5)]
    bad = [true_depth(v) for v in write_scene(root / "bad", n=3, seed=5)]
    bad[1][5:20, 10:30] *= 1.3
    alone = [true_depth(v) for v in write_scene(root / "alone", n=1, seed=5)]
    _ingest(root, tmp_path / "mvs", {"good": good, "bad": bad, "alone": alone})
    return root


def _confidence(root: Path, scene: str) -> list[np.ndarray]:
    return [f.load("depth_confidence/mvsanywhere") for f in open_scene(root / scene).frames]


def test_writes_confidence_where_the_reference_does(root: Path) -> None:
    result = run_cli(["depth-consistency", root, "--target-size", "0"])
    assert result.exit_code == 0, result.output
    assert "3 done, 0 skipped, 0 failed" in result.output
    meta = json.loads((root / "good" / "scene_meta.json").read_text())
    assert meta["frame_modalities"]["depth_confidence"] == {
        "mvsanywhere": {"frame_key": "mvsanywhere_depth_confidence", "format": "scalar"}
    }
    assert meta["frames"][0]["mvsanywhere_depth_confidence"] == "mvsanywhere/v0/depth_confidence/f0.exr"
    assert ProcessLog(root / "good").state("depth_consistency_confidence") == "finished"
    for conf, frame in zip(_confidence(root, "good"), open_scene(root / "good").frames, strict=True):
        assert conf.dtype == np.float32 and conf.shape == (H, W)
        assert conf.min() >= 0 and conf.max() <= 1
        seen = conf > 0
        assert seen.mean() > 0.3
        assert np.median(conf[seen]) == 1.0  # exact depth agrees wherever another view sees it
        assert np.all(conf[frame.load("pred_depth/mvsanywhere") == 0] == 0)


def test_wrong_depth_gets_low_confidence(root: Path) -> None:
    assert run_cli(["depth-consistency", root, "--target-size", "0"]).exit_code == 0
    conf = _confidence(root, "bad")[1]
    block = conf[5:20, 10:30]
    rest = np.ones_like(conf, bool)
    rest[3:22, 8:32] = False
    same_block_exact = _confidence(root, "good")[1][5:20, 10:30]
    assert np.mean(same_block_exact > 0.5) > 0.5  # other views do see this block
    assert np.mean(block[same_block_exact > 0.5] < 0.5) > 0.9
    assert np.median(conf[rest & (conf > 0)]) > 0.9


def test_a_view_is_not_its_own_witness(root: Path) -> None:
    """The reference scores pixels seen by no other view 1 (self-inlier); here they get 0."""
    assert run_cli(["depth-consistency", root, "--scenes", "alone"]).exit_code == 0
    (conf,) = _confidence(root, "alone")
    assert conf.shape == (H, W) and np.all(conf == 0)


def test_written_at_the_image_size_from_a_smaller_working_size(root: Path) -> None:
    assert run_cli(["depth-consistency", root, "--scenes", "good", "--target-size", "20"]).exit_code == 0
    for conf in _confidence(root, "good"):
        assert conf.shape == (H, W) and (conf > 0).mean() > 0.3


def test_rerun_skips_overwrite_redoes_and_missing_depth_fails(root: Path, tmp_path: Path) -> None:
    assert run_cli(["depth-consistency", root, "--scenes", "good"]).exit_code == 0
    again = run_cli(["depth-consistency", root, "--scenes", "good"])
    assert "0 done, 1 skipped" in again.output
    before = _confidence(root, "good")[0]
    strict = ["--overwrite", "--abs-thres", "0", "--rel-thres", "0.00001"]
    redo = run_cli(["depth-consistency", root, "--scenes", "good", *strict])
    assert redo.exit_code == 0 and "1 done" in redo.output
    assert _confidence(root, "good")[0].mean() < 0.5 * before.mean()  # half-float depth fails a 1e-5 test
    other = run_cli(["depth-consistency", root, "--scenes", "good", "--method", "moge2", "--overwrite"])
    assert other.exit_code != 0 and "pred_depth/moge2" in other.output
