"""View-0 alignment and avg_dis normalisation: a prediction equal to the GT up to a similarity scores perfectly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mapa_train.benchmark.alignment import align_set, avg_dis
from mapa_train.benchmark.metrics import score_set
from mapa_train.data.sample import quaternion_xyzw, view_geometry
from wai.geometry import as_camera

H, W = 6, 8


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def _gt_views(num_views: int = 3, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    camera = as_camera(np.array([[6.0, 0, 3.5], [0, 6.0, 2.5], [0, 0, 1]]), H, W)
    views = []
    for _ in range(num_views):
        pose = np.eye(4)
        pose[:3, :3] = _rotation(rng)
        pose[:3, 3] = rng.normal(size=3)
        depth = rng.uniform(1.0, 4.0, (H, W)).astype(np.float32)
        depth[0, 0] = 0.0  # one invalid pixel per view
        geo = view_geometry(depth, camera, pose)
        views.append(geo | {"camera_pose": pose.astype(np.float32), "is_metric_scale": True})
    return views


def _similar_prediction(views, scale, rot, trans, factor=None) -> list[dict]:
    """pts3d = s·R·X + t and poses moved alike; `factor` plays the model's metric scale (already applied)."""
    out = []
    for v in views:
        pose = v["camera_pose"].astype(np.float64)
        new_rot = rot @ pose[:3, :3]
        new_t = scale * rot @ pose[:3, 3] + trans
        pred = {
            "pts3d": (scale * v["pts3d"].astype(np.float64) @ rot.T + trans).astype(np.float32),
            "pts3d_cam": (scale * v["pts3d_cam"]).astype(np.float32),
            "ray_directions": v["ray_directions_cam"],
            "cam_trans": new_t.astype(np.float32),
            "cam_quats": quaternion_xyzw(new_rot),
        }
        if factor is not None:
            pred["metric_scaling_factor"] = np.array([factor], np.float32)
        out.append(pred)
    return out


SCALE_INVARIANT_PERFECT = {
    "pointmaps_abs_rel": 0.0,
    "pointmaps_inlier_thres_103": 1.0,
    "z_depth_abs_rel": 0.0,
    "z_depth_inlier_thres_103": 1.0,
    "ray_dirs_err_deg": 0.0,
    "pose_auc_5": 100.0,
    "pose_ate_rmse": 0.0,
    "pointmaps_inlier_err_103": 1.0,
    "pose_ate_true_rmse": 0.0,
    "pose_auc_5_signed": 100.0,
    "ray_dirs_err_deg_valid": 0.0,
}


@pytest.mark.parametrize("factor", [None, 2.5])
def test_similarity_transformed_prediction_scores_perfectly(factor):
    gt = _gt_views()
    rng = np.random.default_rng(3)
    pred = _similar_prediction(gt, 2.5, _rotation(rng), rng.normal(size=3) * 5, factor)
    scores = score_set(align_set(gt, pred))
    for name, perfect in SCALE_INVARIANT_PERFECT.items():
        assert scores[name] == pytest.approx(perfect, abs=2e-3), name
    # The metric scale is the one non-invariant metric: the prediction is 2.5x too large.
    assert scores["metric_scale_abs_rel"] == pytest.approx(1.5, rel=1e-4)


def test_a_distorted_prediction_is_not_perfect():
    gt = _gt_views()
    pred = _similar_prediction(gt, 1.0, np.eye(3), np.zeros(3))
    pred[1]["pts3d"] = pred[1]["pts3d"] * 1.2  # one view's points 20 % further out
    scores = score_set(align_set(gt, pred))
    assert scores["pointmaps_abs_rel"] > 0.05
    assert scores["pointmaps_inlier_thres_103"] < 0.9


def test_view0_frame_and_avg_dis_by_hand():
    gt = _gt_views(2)
    aligned = align_set(gt, _similar_prediction(gt, 1.0, np.eye(3), np.zeros(3), factor=1.0))
    np.testing.assert_allclose(aligned.gt_poses[0], np.eye(4), atol=1e-6)
    np.testing.assert_allclose(aligned.pr_poses[0], np.eye(4), atol=1e-5)
    # Normalised GT points have mean distance 1 over the valid pixels of both views.
    norms = np.linalg.norm(aligned.gt_pts, axis=-1)[aligned.valid]
    assert norms.mean() == pytest.approx(1.0, rel=1e-5)
    # avg_dis by hand, and metric-scale GT in metres.
    pose0 = gt[0]["camera_pose"].astype(np.float64)
    local = [(v["pts3d"] - pose0[:3, 3]) @ pose0[:3, :3] for v in gt]
    valid = np.stack([v["valid_mask"] for v in gt])
    expected = np.linalg.norm(np.stack(local), axis=-1)[valid].sum() / (valid.sum() + 1e-8)
    assert aligned.gt_scale == pytest.approx(expected, rel=1e-5)
    assert aligned.pr_metric_scale == pytest.approx(expected, rel=1e-4)


def test_empty_gt_mask_gives_nan_metrics():
    gt = _gt_views(2)
    for v in gt:
        v["valid_mask"] = np.zeros_like(v["valid_mask"])
    scores = score_set(align_set(gt, _similar_prediction(gt, 1.0, np.eye(3), np.zeros(3), 1.0)))
    for name in (
        "pointmaps_abs_rel",
        "pointmaps_inlier_thres_103",
        "z_depth_abs_rel",
        "metric_scale_abs_rel",
    ):
        assert math.isnan(scores[name]), name
    assert avg_dis(np.ones((2, 2, 3)), np.zeros((2, 2), bool)) == 1e-8


def test_non_metric_gt_has_no_metric_scale():
    gt = _gt_views(2)
    for v in gt:
        v["is_metric_scale"] = False
    scores = score_set(align_set(gt, _similar_prediction(gt, 1.0, np.eye(3), np.zeros(3), 1.0)))
    assert math.isnan(scores["metric_scale_abs_rel"])
