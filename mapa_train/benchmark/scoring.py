"""Every metric of one set, computed view by view on planar channels: the runner's fast path.

`metrics.score_set(alignment.align_set(...))` is the readable definition: it builds both sides' normalised
(N, H, W, 3) stacks and walks them once per metric. `score_views` gives the same numbers (tests pin it to that path on
random sets and edge cases) at a fraction of the cost, because:

- it reads each view's arrays where they lie, one view at a time, so a view's working set stays in the CPU cache,
  and nothing the size of a whole set is stacked or copied;
- it works on the x, y, z channels as separate (H·W,) vectors: numpy runs those at memory speed, while
  broadcasting over a trailing axis of length 3 is several times slower;
- the distance from view 0's camera does not depend on its rotation (‖R₀ᵀ(x − t₀)‖ = ‖x − t₀‖), so the `avg_dis`
  scales need only one pass of norms, and those norms serve again as ‖x‖ and ‖x̂‖ of the pointmap metrics;
- the view-0 transforms and both normalisations fold into one 3×3 matrix and one offset applied to the prediction,
  so the pointmap difference x̂ − x costs one pass;
- the reference's per-pixel NaN/inf rules are applied as masks on those vectors (the module `metrics` has the rules).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mapa_train.benchmark.alignment import pose_from_quat_trans
from mapa_train.benchmark.metrics import (
    horn_residuals,
    metric_scale_abs_rel,
    pose_auc,
)
from wai.camera.conventions import invert_rigid

_EPS = 1e-8
_THRESH = np.float32(1.03)
_TAU = np.float32(0.03)
Channels = tuple[np.ndarray, np.ndarray, np.ndarray]


def _channels(array: Any) -> Channels:
    """The x, y, z channels of an (..., 3) array as (H·W,) views (a copy only when it is not float32)."""
    flat = np.asarray(array, np.float32).reshape(-1, 3)
    return flat[:, 0], flat[:, 1], flat[:, 2]


def _norm(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.sqrt(x * x + y * y + z * z)


def _offset_norm(c: Channels, origin: np.ndarray) -> np.ndarray:
    """‖x − origin‖ per pixel."""
    return _norm(c[0] - origin[0], c[1] - origin[1], c[2] - origin[2])


def _mean(values: np.ndarray, count: int) -> float:
    """Σ values / count in float64 (as the reference sums), NaN for an empty mask."""
    return float(np.add.reduce(values, dtype=np.float64)) / count if count else math.nan


def _ratio_metrics(
    n_gt: np.ndarray, n_pr: np.ndarray, n_diff: np.ndarray, mask: np.ndarray
) -> dict[str, float]:
    """abs_rel, norm-ratio inliers and error inliers of one view from ‖x‖, ‖x̂‖, ‖x̂ − x‖ (all normalised).

    M = mask ∧ ‖x‖ > 0. Inside M, ‖x‖/‖x̂‖ and ‖x̂‖/‖x‖ are both finite exactly when the reference would not replace
    them, and then the reference's inlier test max(r1, r2) ∈ (0, 1.03) is r1 < 1.03 ∧ r2 < 1.03; a replaced ratio
    (thresh + 1, or 0 beside an infinite other ratio) always makes an outlier, as a failed comparison does here."""
    m = mask & (n_gt > 0)
    count = int(np.count_nonzero(m))
    with np.errstate(divide="ignore", invalid="ignore"):
        err = n_diff / n_gt
        r1 = n_gt / n_pr
        r2 = n_pr / n_gt
    inliers = m & (r1 < _THRESH) & (r2 < _THRESH)
    if not count:
        return {"abs_rel": math.nan, "inliers": math.nan, "err_inliers": math.nan}
    return {
        "abs_rel": _mean(np.where(m & np.isfinite(err), err, np.float32(0)), count),
        "inliers": np.count_nonzero(inliers) / count,
        "err_inliers": np.count_nonzero(m & (err < _TAU)) / count,
    }


def _ray_metrics(gt: Channels, pred: Channels, valid: np.ndarray) -> tuple[float, float]:
    """(reference ray error over all pixels, corrected ray error over `valid`), in degrees, of one view."""
    with np.errstate(invalid="ignore"):
        chord = _norm(pred[0] - gt[0], pred[1] - gt[1], pred[2] - gt[2])
        angle = np.arcsin(chord * np.float32(0.5))
    reference = math.degrees(2.0 * _mean(angle, chord.size))
    inv_p = np.float32(1) / np.maximum(_norm(*pred), np.float32(1e-12))
    inv_g = np.float32(1) / np.maximum(_norm(*gt), np.float32(1e-12))
    unit = [p * inv_p - g * inv_g for p, g in zip(pred, gt, strict=True)]
    chord = np.minimum(_norm(*unit), np.float32(2))  # ≥ 0 already
    angle = np.arcsin(chord * np.float32(0.5))
    count = int(np.count_nonzero(valid))
    corrected = math.degrees(2.0 * _mean(np.where(valid, angle, np.float32(0)), count)) if count else math.nan
    return reference, corrected


def _avg_dis(total: float, count: int) -> float:
    return max(total / (count + _EPS), _EPS)


def score_views(gt_views: Sequence[dict[str, Any]], pred_views: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Every metric of one set (the keys of `metrics.ALL_METRICS`); inputs as `alignment.align_set` takes them.

    A prediction without poses (a world-pointmap model) is taken to be in view 0's frame, as the reference's
    pointmap-only benchmark does: the pointmap and metric-scale metrics are scored and the pose metrics are NaN.
    Without camera points the z-depth metrics are NaN, without rays the ray metrics.
    """
    gt_poses = np.stack([np.asarray(v["camera_pose"], np.float64) for v in gt_views])
    has_poses = all("cam_quats" in v and "cam_trans" in v for v in pred_views)
    if has_poses:
        pr_poses = np.stack([pose_from_quat_trans(v["cam_quats"], v["cam_trans"]) for v in pred_views])
    else:
        pr_poses = np.tile(np.eye(4), (len(pred_views), 1, 1))
    gt_to_ref, pr_to_ref = invert_rigid(gt_poses[0]), invert_rigid(pr_poses[0])
    factor = pred_views[0].get("metric_scaling_factor")
    m = 1.0 if factor is None else float(np.asarray(factor, np.float64).reshape(-1)[0])

    # Pass 1: distances from each side's view-0 camera, and the avg_dis scales over the GT valid pixels.
    gt_origin, pr_origin = gt_poses[0, :3, 3].astype(np.float32), pr_poses[0, :3, 3].astype(np.float32)
    valid = [np.asarray(v["valid_mask"], bool).reshape(-1) for v in gt_views]
    gt_norms, pr_norms = [], []
    gt_sum = pr_sum = 0.0
    count = 0
    for g, p, mask in zip(gt_views, pred_views, valid, strict=True):
        gt_norms.append(_offset_norm(_channels(g["pts3d"]), gt_origin))
        pr_norms.append(_offset_norm(_channels(p["pts3d"]), pr_origin))
        gt_sum += float(np.add.reduce(np.where(mask, gt_norms[-1], np.float32(0)), dtype=np.float64))
        pr_sum += float(np.add.reduce(np.where(mask, pr_norms[-1], np.float32(0)), dtype=np.float64))
        count += int(np.count_nonzero(mask))
    s_gt = _avg_dis(gt_sum, count)
    raw = _avg_dis(pr_sum, count)  # of the metric (or raw) points
    total = m * max(raw / m, _EPS)  # the metric factor and the normalisation together
    inv_gt, inv_pr = np.float32(1.0 / s_gt), np.float32(1.0 / total)

    # x̂ − x turned by the GT's view-0 rotation (which leaves every norm unchanged): A (p − t̂₀) − (g − t₀) / s_gt,
    # both sides taken from their view-0 camera first, as in pass 1, so no large offsets cancel in float32.
    a = (gt_poses[0, :3, :3] @ pr_to_ref[:3, :3] / total).astype(np.float32)

    per_view: dict[str, list[float]] = {k: [] for k in ("pm", "z", "ray", "ray_valid")}
    for i, (g, p, mask) in enumerate(zip(gt_views, pred_views, valid, strict=True)):
        gc = [c - o for c, o in zip(_channels(g["pts3d"]), gt_origin, strict=True)]
        pc = [c - o for c, o in zip(_channels(p["pts3d"]), pr_origin, strict=True)]
        diff = [a[r, 0] * pc[0] + a[r, 1] * pc[1] + a[r, 2] * pc[2] - gc[r] * inv_gt for r in range(3)]
        per_view["pm"].append(_ratio_metrics(gt_norms[i] * inv_gt, pr_norms[i] * inv_pr, _norm(*diff), mask))
        if "pts3d_cam" in p:
            gz = _channels(g["pts3d_cam"])[2] * inv_gt
            pz = _channels(p["pts3d_cam"])[2] * inv_pr
            per_view["z"].append(_ratio_metrics(np.abs(gz), np.abs(pz), np.abs(pz - gz), mask))
        else:
            per_view["z"].append({"abs_rel": math.nan, "inliers": math.nan})
        if "ray_directions" in p:
            per_view["ray"].append(
                _ray_metrics(_channels(g["ray_directions_cam"]), _channels(p["ray_directions"]), mask)
            )
        else:
            per_view["ray"].append((math.nan, math.nan))

    gt_rel, pr_rel = gt_to_ref[None] @ gt_poses, pr_to_ref[None] @ pr_poses
    gt_rel[:, :3, 3] /= s_gt
    pr_rel[:, :3, 3] /= total
    residuals = horn_residuals(gt_rel[:, :3, 3], pr_rel[:, :3, 3])
    metric = all(bool(v.get("is_metric_scale", False)) for v in gt_views)
    scale_err = metric_scale_abs_rel(raw, s_gt) if metric and s_gt > _EPS and count else math.nan

    def views_mean(values: list[float]) -> float:
        return float(np.mean(values))

    pm, z, rays = per_view["pm"], per_view["z"], per_view["ray"]
    pose_nan = {"pose_ate_rmse", "pose_auc_5", "pose_ate_true_rmse", "pose_auc_5_signed"}
    scores = {
        "metric_scale_abs_rel": scale_err,
        "pointmaps_abs_rel": views_mean([v["abs_rel"] for v in pm]),
        "pointmaps_inlier_thres_103": views_mean([v["inliers"] for v in pm]),
        "pose_ate_rmse": float(residuals.mean()),
        "pose_auc_5": pose_auc(gt_rel, pr_rel),
        "z_depth_abs_rel": views_mean([v["abs_rel"] for v in z]),
        "z_depth_inlier_thres_103": views_mean([v["inliers"] for v in z]),
        "ray_dirs_err_deg": views_mean([r[0] for r in rays]),
        "pointmaps_inlier_err_103": views_mean([v["err_inliers"] for v in pm]),
        "pose_ate_true_rmse": float(np.sqrt(np.mean(residuals**2))),
        "pose_auc_5_signed": pose_auc(gt_rel, pr_rel, signed=True),
        "ray_dirs_err_deg_valid": views_mean([r[1] for r in rays]),
    }
    return scores if has_poses else scores | dict.fromkeys(pose_nan, math.nan)
