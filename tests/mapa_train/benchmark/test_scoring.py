"""The runner's one-pass scorer gives the numbers of the readable definition, align_set + score_set, per metric."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mapa_train.benchmark.alignment import align_set
from mapa_train.benchmark.metrics import ALL_METRICS, score_set
from mapa_train.benchmark.scoring import score_views
from mapa_train.data.sample import quaternion_xyzw, view_geometry
from wai.geometry import as_camera

H, W = 12, 16


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def _gt_views(rng: np.random.Generator, num_views: int, metric: bool = True) -> list[dict]:
    camera = as_camera(np.array([[14.0, 0, 7.5], [0, 14.0, 5.5], [0, 0, 1]]), H, W)
    views = []
    for _ in range(num_views):
        pose = np.eye(4)
        pose[:3, :3] = _rotation(rng)
        pose[:3, 3] = rng.normal(size=3) * 3 + 20.0  # a world origin far from the cameras
        depth = rng.uniform(1.0, 4.0, (H, W)).astype(np.float32)
        depth[rng.random((H, W)) < 0.2] = 0.0  # invalid pixels
        geo = view_geometry(depth, camera, pose)
        views.append(geo | {"camera_pose": pose.astype(np.float32), "is_metric_scale": metric})
    return views


def _prediction(rng: np.random.Generator, gt: list[dict], factor: float | None, noise: float) -> list[dict]:
    """The GT moved by a random similarity, then every point, ray and pose perturbed independently."""
    scale, rot, trans = 1.7, _rotation(rng), rng.normal(size=3)
    out = []
    for v in gt:
        pose = v["camera_pose"].astype(np.float64)
        jitter = _rotation(rng) if noise > 0.05 else np.eye(3)
        pts = scale * v["pts3d"].astype(np.float64) @ rot.T + trans
        rays = v["ray_directions_cam"] + rng.normal(0, noise, v["ray_directions_cam"].shape)
        pred = {
            "pts3d": (pts * rng.uniform(1 - noise, 1 + noise, pts.shape)).astype(np.float32),
            "pts3d_cam": (scale * v["pts3d_cam"] * rng.uniform(1 - noise, 1 + noise, (H, W, 3))).astype(
                np.float32
            ),
            "ray_directions": (1.05 * rays / np.linalg.norm(rays, axis=-1, keepdims=True)).astype(np.float32),
            "cam_trans": (scale * rot @ pose[:3, 3] + trans + rng.normal(0, noise, 3)).astype(np.float32),
            "cam_quats": quaternion_xyzw(rot @ pose[:3, :3] @ jitter),
        }
        if factor is not None:
            pred["metric_scaling_factor"] = np.array([factor], np.float32)
        out.append(pred)
    return out


def _assert_same(gt: list[dict], pred: list[dict]) -> dict[str, float]:
    expected = score_set(align_set(gt, pred))
    got = score_views(gt, pred)
    assert set(got) == set(ALL_METRICS)
    for name in ALL_METRICS:
        assert got[name] == pytest.approx(expected[name], rel=1e-5, abs=1e-6, nan_ok=True), name
    return got


@pytest.mark.parametrize(
    ("seed", "views", "factor", "noise", "metric"),
    [(0, 5, None, 0.02, True), (1, 4, 2.5, 0.2, True), (2, 2, 0.4, 0.01, False), (3, 7, 1.0, 0.3, True)],
)
def test_random_sets_score_as_the_definition(seed, views, factor, noise, metric):
    rng = np.random.default_rng(seed)
    gt = _gt_views(rng, views, metric)
    scores = _assert_same(gt, _prediction(rng, gt, factor, noise))
    # The cases are not degenerate: the errors are neither zero nor NaN (metric scale only for metric GT).
    assert 0 < scores["pointmaps_abs_rel"] < math.inf and 0 < scores["ray_dirs_err_deg"] < math.inf
    assert math.isnan(scores["metric_scale_abs_rel"]) != metric


def _valid_pixels(view: dict, count: int) -> list[tuple[int, int]]:
    return [tuple(int(c) for c in p) for p in np.argwhere(view["valid_mask"])[:count]]


def test_edge_pixels_and_empty_views_score_as_the_definition():
    rng = np.random.default_rng(7)
    gt = _gt_views(rng, 4)
    pred = _prediction(rng, gt, 1.3, 0.02)
    gt[1]["valid_mask"] = np.zeros((H, W), bool)  # a view without valid pixels: NaN per-view values
    pts = pred[2]["pts3d"].copy()
    (a, b) = _valid_pixels(gt[2], 1)[0]
    pts[a, b] = pred[0]["cam_trans"]  # a predicted point at view 0's camera: ‖x̂‖ = 0
    invalid = np.argwhere(~gt[2]["valid_mask"])[0]
    pts[tuple(invalid)] = np.nan  # outside the mask: no effect
    pred[2]["pts3d"] = pts
    cam = pred[3]["pts3d_cam"].copy()
    pixels = _valid_pixels(gt[3], 4)
    for p in pixels[:3]:
        cam[p] = 0.0  # predicted depth 0: ‖x‖/‖x̂‖ is infinite
    cam[pixels[3]][2] = np.inf  # infinite predicted depth: ‖x̂‖/‖x‖ and the error are infinite
    pred[3]["pts3d_cam"] = cam
    rays = pred[0]["ray_directions"].copy()
    rays[0, 0] = -3.0 * gt[0]["ray_directions_cam"][0, 0]  # chord > 2: the reference's ray error is NaN
    pred[0]["ray_directions"] = rays
    gt_pts = gt[3]["pts3d"].copy()
    gt_pts[pixels[0]] = gt[0]["camera_pose"][:3, 3]  # a GT point at view 0's camera: outside M though valid
    gt[3]["pts3d"] = gt_pts
    scores = _assert_same(gt, pred)
    assert math.isnan(scores["pointmaps_abs_rel"])  # the empty view's NaN propagates, as in the reference
    assert math.isnan(scores["ray_dirs_err_deg"])
    assert math.isfinite(scores["pose_auc_5"]) and math.isfinite(scores["pose_ate_rmse"])


def test_a_non_finite_predicted_point_makes_the_set_nan_not_an_error():
    """It enters the avg_dis scale, so every normalised value is NaN in both paths: the pose and scale metrics are NaN
    and, by the reference's per-pixel rule (a non-finite error counts 0), abs_rel scores 0 and no pixel is an inlier."""
    rng = np.random.default_rng(8)
    gt = _gt_views(rng, 3)
    pred = _prediction(rng, gt, None, 0.02)
    pts = pred[1]["pts3d"].copy()
    pts[_valid_pixels(gt[1], 1)[0]] = np.nan
    pred[1]["pts3d"] = pts
    scores = _assert_same(gt, pred)
    for name in ("pose_ate_rmse", "pose_ate_true_rmse", "metric_scale_abs_rel"):
        assert math.isnan(scores[name]), name
    assert scores["pointmaps_abs_rel"] == 0.0 and scores["pointmaps_inlier_thres_103"] == 0.0


def test_all_invalid_set_scores_as_the_definition():
    rng = np.random.default_rng(9)
    gt = _gt_views(rng, 3)
    for v in gt:
        v["valid_mask"] = np.zeros((H, W), bool)
    scores = _assert_same(gt, _prediction(rng, gt, 2.0, 0.02))
    assert math.isnan(scores["metric_scale_abs_rel"]) and math.isnan(scores["z_depth_inlier_thres_103"])
