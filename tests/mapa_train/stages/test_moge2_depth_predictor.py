"""MoGe-2 behind the generic `DepthPredictor` interface gives the MoGe-2 stage's depth, via the generic stage."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import wai
from mapa_train.stages.moge2 import MoGe2StageConfig, moge2_stage
from mapa_train.stages.moge2_depth import MoGe2DepthPredictor
from tests.mapa_train.stages.test_moge2_stage import FRAMES, converted, weights  # noqa: F401  (fixtures)
from wai.predicted_depth import pred_depth_stage
from wai.stages import ProcessLog, run_stage


@pytest.fixture
def roots(converted: Path, tmp_path: Path) -> tuple[Path, Path]:  # noqa: F811
    return Path(shutil.copytree(converted, tmp_path / "a")), Path(shutil.copytree(converted, tmp_path / "b"))


def test_same_depth_as_the_moge2_stage(roots: tuple[Path, Path], weights: Path) -> None:  # noqa: F811
    generic, full = roots
    config = MoGe2StageConfig(weights=weights, device="cpu", batch_size=2, num_tokens=24)
    predictor = MoGe2DepthPredictor(config)
    predictor.check()
    report = run_stage(pred_depth_stage(predictor), generic, progress=False)
    assert len(report.done) == 2 and not report.failed, report.summary()
    run_stage(moge2_stage(config), full, progress=False)
    for name in wai.list_scenes(generic):
        ours, theirs = wai.open_scene(generic / name), wai.open_scene(full / name)
        assert len(ours) == FRAMES and ProcessLog(generic / name).state("moge2_depth") == "finished"
        assert ours.meta["frame_modalities"]["pred_depth"]["moge2"] == {
            "frame_key": "moge2_depth",
            "format": "depth",
        }
        assert "pred_mask" not in ours.meta["frame_modalities"]
        for a, b in zip(ours.frames, theirs.frames, strict=True):
            assert a.raw["moge2_depth"] == b.raw["moge2_depth"] == f"moge/v0/depth/moge2/{a.name}.exr"
            da, db = a.load("pred_depth/moge2"), b.load("pred_depth/moge2")
            assert (da > 0).mean() > 0.5
            np.testing.assert_allclose(da, db, rtol=1e-3, atol=1e-4)
