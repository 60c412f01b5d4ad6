"""Non-finite predictions are counted per set, summed per dataset and named in a warning, since the reference's
metrics score them as perfect."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from mapa_train.benchmark import runner as runner_module
from mapa_train.benchmark.report import AVERAGE
from mapa_train.benchmark.runner import BenchmarkConfig, nonfinite_prediction, run_benchmark
from tests.factories import synthetic_root


def _views(h: int = 3, w: int = 4) -> tuple[list[dict], list[dict]]:
    gt, pred = [], []
    for _ in range(2):
        valid = np.ones((h, w), bool)
        valid[0, 0] = False
        gt.append({"valid_mask": valid})
        pred.append(
            {
                "pts3d": np.ones((h, w, 3), np.float32),
                "ray_directions": np.ones((h, w, 3), np.float32),
                "cam_quats": np.array([0, 0, 0, 1], np.float32),
                "cam_trans": np.zeros(3, np.float32),
            }
        )
    return gt, pred


def test_a_clean_prediction_counts_nothing():
    gt, pred = _views()
    assert nonfinite_prediction(gt, pred) == {"nonfinite_pred_pixels": 0, "nonfinite_pred_cameras": 0}


def test_nonfinite_values_on_valid_pixels_and_cameras_are_counted():
    gt, pred = _views()
    pred[0]["pts3d"][0, 0, 1] = np.nan  # an invalid GT pixel: not counted
    pred[0]["pts3d"][1, 2, 0] = np.nan
    pred[0]["ray_directions"][1, 2, 2] = np.inf  # same pixel again: counted once
    pred[1]["ray_directions"][2, 3, 0] = -np.inf
    pred[1]["cam_quats"][0] = np.nan
    assert nonfinite_prediction(gt, pred) == {"nonfinite_pred_pixels": 2, "nonfinite_pred_cameras": 1}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return synthetic_root(tmp_path_factory.mktemp("nonfinite"), scenes=1, frames=4)


def _run(data_root: Path, out: Path):
    config = BenchmarkConfig(
        model="mapanything_tiny",
        data=data_root,
        out=out,
        views=(2,),
        datasets=("synthetic",),
        sets_per_scene=2,
        resolution=(56, 42),
    )
    return run_benchmark(config)


def test_a_run_with_nan_predictions_reports_every_set(data_root, tmp_path, monkeypatch, caplog):
    clean = _run(data_root, tmp_path / "clean")
    assert all(r["nonfinite_pred_pixels"] == 0 and r["nonfinite_pred_cameras"] == 0 for r in clean.rows)
    assert clean.summary["mapanything_tiny"]["images_only"][2][AVERAGE]["nonfinite_sets"] == 0

    prediction_of = runner_module._prediction_of

    def poisoned(outputs, b):
        views = prediction_of(outputs, b)
        views[0]["pts3d"] = np.full_like(views[0]["pts3d"], np.nan)
        return views

    monkeypatch.setattr(runner_module, "_prediction_of", poisoned)
    with caplog.at_level(logging.WARNING, logger="mapa_train.benchmark.runner"):
        result = _run(data_root, tmp_path / "nan")
    assert len(result.rows) == 2
    assert all(r["nonfinite_pred_pixels"] > 0 for r in result.rows)
    assert result.summary["mapanything_tiny"]["images_only"][2]["synthetic"]["nonfinite_sets"] == 2
    message = " ".join(rec.getMessage() for rec in caplog.records)
    assert "2 of 2 sets had non-finite predictions" in message
    assert f"synthetic/{result.rows[0]['scene']} set {result.rows[0]['set']}" in message


def test_a_pointmap_model_scores_its_pointmap_metrics_and_leaves_the_rest_nan(data_root, tmp_path, caplog):
    from mapa_train.models import build_model
    from mapa_train.models.weights import save_pretrained

    folder = tmp_path / "pointmap_tiny"
    save_pretrained(
        build_model("mapanything_tiny", {"pred_head.adaptor": "pointmap_confidence_mask"}), folder
    )
    with caplog.at_level(logging.WARNING, logger="mapa_train.benchmark.runner"):
        config = BenchmarkConfig(
            model=str(folder),
            data=data_root,
            out=tmp_path / "out",
            views=(2,),
            datasets=("synthetic",),
            sets_per_scene=2,
            resolution=(56, 42),
        )
        rows = run_benchmark(config).rows
    assert len(rows) == 2 and all(r["error"] is None for r in rows)
    for row in rows:
        for metric in ("pointmaps_abs_rel", "pointmaps_inlier_thres_103", "metric_scale_abs_rel"):
            assert np.isfinite(row[metric]), metric
        for metric in ("pose_auc_5", "pose_ate_rmse", "z_depth_abs_rel", "ray_dirs_err_deg"):
            assert np.isnan(row[metric]), metric
    message = " ".join(rec.getMessage() for rec in caplog.records)
    assert "its pose, z-depth, ray-direction metrics are NaN" in message
