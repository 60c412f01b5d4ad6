"""The dense N-view benchmark's metrics, in numpy float32/float64 on CPU.

Each function reproduces one of the reference's eight metrics exactly (names and formulas of the benchmark spec,
section 4). Where the reference's definition is surprising, a corrected metric sits beside it under a different name:

- `pose_ate_rmse` is the reference's *mean* residual after rigid Horn alignment; `pose_ate_true_rmse` is the root
  mean square of the same residuals.
- `pointmaps_inlier_thres_103` compares only the distances from the view-0 camera; `pointmaps_inlier_err_103`
  counts a pixel as an inlier when its relative point error ‖x̂−x‖/‖x‖ is below 0.03.
- `ray_dirs_err_deg` averages over every pixel, unmasked, without renormalising the prediction (and is NaN when
  ‖d̂−d‖ > 2); `ray_dirs_err_deg_valid` renormalises, clips and averages over the valid pixels only.
- `pose_auc_5`'s translation angle is sign-blind (a reversed direction scores 0°); `pose_auc_5_signed` uses the
  full angle in [0°, 180°].

Per-view metrics return NaN when the mask is empty, as the reference does.
"""

from __future__ import annotations

import math

import numpy as np

from mapa_train.benchmark.alignment import AlignedSet
from wai.camera.conventions import invert_rigid, rotation_to_quaternion

#: The reference's eight per-set keys, in its order.
REFERENCE_METRICS: tuple[str, ...] = (
    "metric_scale_abs_rel",
    "pointmaps_abs_rel",
    "pointmaps_inlier_thres_103",
    "pose_ate_rmse",
    "pose_auc_5",
    "z_depth_abs_rel",
    "z_depth_inlier_thres_103",
    "ray_dirs_err_deg",
)
#: Our corrected variants (see the module docstring).
CORRECTED_METRICS: tuple[str, ...] = (
    "pointmaps_inlier_err_103",
    "pose_ate_true_rmse",
    "pose_auc_5_signed",
    "ray_dirs_err_deg_valid",
)
ALL_METRICS: tuple[str, ...] = REFERENCE_METRICS + CORRECTED_METRICS
#: Metrics where larger is better (the rest are errors).
HIGHER_IS_BETTER: frozenset[str] = frozenset(
    {
        "pointmaps_inlier_thres_103",
        "z_depth_inlier_thres_103",
        "pose_auc_5",
        "pointmaps_inlier_err_103",
        "pose_auc_5_signed",
    }
)


def _norms(x: np.ndarray) -> np.ndarray:
    """‖x‖ over the last axis, float32 (einsum: several times faster than `np.linalg.norm` on image-sized maps)."""
    x = np.asarray(x, dtype=np.float32)
    if x.shape[-1] == 1:
        return np.abs(x[..., 0])
    return np.sqrt(np.einsum("...i,...i->...", x, x))


def _valid(gt: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """M = mask ∧ ‖x‖ > 0."""
    return np.asarray(mask, dtype=bool) & (_norms(gt) > 0)


def _per_view(values: np.ndarray, m: np.ndarray) -> float | np.ndarray:
    """Mean of `values` over `m` per view (the last two axes are H, W); NaN for an empty mask."""
    count = m.sum(axis=(-2, -1))
    total = np.where(m, values, 0.0).sum(axis=(-2, -1), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return float(out) if out.ndim == 0 else out


# Each per-view metric takes one view (pred and gt (H, W, C), mask (H, W)) and returns a float, or a stack of views
# ((V, H, W, C) and (V, H, W)) and returns the V per-view values.


def abs_rel(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> float | np.ndarray:
    """Mean of ‖x̂−x‖/‖x‖ over M. Non-finite ratios count as 0."""
    n_gt = _norms(gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = _norms(np.asarray(pred, np.float32) - np.asarray(gt, np.float32)) / n_gt
    err = np.where(np.isfinite(err), err, 0.0)
    return _per_view(err, np.asarray(mask, bool) & (n_gt > 0))


def thresh_inliers(
    pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, thresh: float = 1.03
) -> float | np.ndarray:
    """Fraction of M whose norm ratio max(‖x‖/‖x̂‖, ‖x̂‖/‖x‖) lies strictly in (0, thresh), as the reference counts.

    A non-finite ‖x‖/‖x̂‖ counts as thresh + 1 (an outlier) and a non-finite ‖x̂‖/‖x‖ as 0."""
    n_gt, n_pr = _norms(gt), _norms(pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = n_gt / n_pr
        r2 = n_pr / n_gt
    r1 = np.where(np.isfinite(r1), r1, thresh + 1.0)
    r2 = np.where(np.isfinite(r2), r2, 0.0)
    r = np.maximum(r1, r2)
    inlier = (r > 0) & (r < thresh)
    return _per_view(inlier, np.asarray(mask, bool) & (n_gt > 0))


def error_inliers(
    pred: np.ndarray, gt: np.ndarray, mask: np.ndarray, tau: float = 0.03
) -> float | np.ndarray:
    """Corrected inlier ratio: the fraction of M with ‖x̂−x‖/‖x‖ < tau (direction errors count)."""
    n_gt = _norms(gt)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = _norms(np.asarray(pred, np.float32) - np.asarray(gt, np.float32)) / n_gt
    return _per_view(np.isfinite(err) & (err < tau), np.asarray(mask, bool) & (n_gt > 0))


def ray_dirs_err_deg(pred: np.ndarray, gt: np.ndarray) -> float | np.ndarray:
    """The reference's ray error: mean of 2·asin(‖d̂−d‖/2) in degrees over all H×W pixels."""
    with np.errstate(invalid="ignore"):
        chord = _norms(np.asarray(pred, np.float32) - np.asarray(gt, np.float32))
        angle = np.degrees(2.0 * np.arcsin(chord / 2.0))
    return _per_view(angle, np.ones(angle.shape, bool))


def ray_dirs_err_deg_valid(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray) -> float | np.ndarray:
    """Corrected ray error: the prediction renormalised, the chord clipped to [0, 2], the mean over `mask` only."""
    p = np.asarray(pred, np.float32)
    p = p / np.maximum(_norms(p), 1e-12)[..., None]
    g = np.asarray(gt, np.float32)
    g = g / np.maximum(_norms(g), 1e-12)[..., None]
    chord = np.clip(_norms(p - g), 0.0, 2.0)
    return _per_view(np.degrees(2.0 * np.arcsin(chord / 2.0)), np.asarray(mask, bool))


def _relative(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs i < j of `poses` (N, 4, 4): (i, j) index arrays and T_ij = T_i⁻¹ T_j (P, 4, 4)."""
    i, j = np.triu_indices(poses.shape[0], k=1)
    return i, j, invert_rigid(poses)[i] @ poses[j]


def relative_pose_errors(
    gt_poses: np.ndarray, pred_poses: np.ndarray, *, signed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair i < j: rotation and translation errors in degrees (the reference's formulas, spec 4.5).

    With `signed=False` (the reference) the translation angle is folded into [0°, 90°]; with `signed=True` it is the
    plain angle between the two unit translations, in [0°, 180°]."""
    gt_poses = np.asarray(gt_poses, np.float64)
    pred_poses = np.asarray(pred_poses, np.float64)
    _, _, rel_gt = _relative(gt_poses)
    _, _, rel_pr = _relative(pred_poses)
    # Unit quaternions with w >= 0; only (q̂·q)² enters, so the order of the components does not matter.
    q_gt, q_pr = rotation_to_quaternion(rel_gt[:, :3, :3]), rotation_to_quaternion(rel_pr[:, :3, :3])
    loss = np.maximum(1.0 - np.sum(q_gt * q_pr, axis=1) ** 2, 1e-15)
    err_r = np.degrees(np.arccos(np.clip(1.0 - 2.0 * loss, -1.0, 1.0)))
    t_gt, t_pr = rel_gt[:, :3, 3], rel_pr[:, :3, 3]
    t_gt = t_gt / (np.linalg.norm(t_gt, axis=1, keepdims=True) + 1e-15)
    t_pr = t_pr / (np.linalg.norm(t_pr, axis=1, keepdims=True) + 1e-15)
    dot = np.sum(t_gt * t_pr, axis=1)
    with np.errstate(invalid="ignore"):
        if signed:
            err_t = np.arccos(np.clip(dot, -1.0, 1.0))
        else:
            loss_t = np.maximum(1.0 - dot**2, 1e-15)
            err_t = np.arccos(np.sqrt(1.0 - loss_t))
    err_t = np.degrees(np.where(np.isfinite(err_t), err_t, 1e6))
    if not signed:
        err_t = np.minimum(err_t, np.abs(180.0 - err_t))
    return err_r, err_t


def pose_auc(
    gt_poses: np.ndarray, pred_poses: np.ndarray, max_deg: int = 5, *, signed: bool = False
) -> float:
    """AUC@max_deg of max(e_R, e_t) over all pairs, in percent: ⅕·Σ_{k=1..5} P(e<k) (the last term P(e≤5)).

    Poses (N, 4, 4) cam2world. NaN with fewer than two views."""
    if len(gt_poses) < 2:
        return math.nan
    err_r, err_t = relative_pose_errors(gt_poses, pred_poses, signed=signed)
    err = np.maximum(err_r, err_t)
    hist, _ = np.histogram(err, bins=np.arange(max_deg + 1))
    cumulative = np.cumsum(hist / len(err))
    return float(cumulative.mean() * 100.0)


def horn_residuals(gt_centres: np.ndarray, pred_centres: np.ndarray) -> np.ndarray:
    """‖R g_i + t − p_i‖ after the rigid (no scale) Horn alignment of the GT centres onto the predicted ones.

    All NaN when a centre is not finite (a NaN prediction), where the SVD would fail."""
    g = np.asarray(gt_centres, np.float64)
    p = np.asarray(pred_centres, np.float64)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(p))):
        return np.full(len(g), np.nan)
    g_mean, p_mean = g.mean(axis=0), p.mean(axis=0)
    w = (g - g_mean).T @ (p - p_mean)
    u, _, vt = np.linalg.svd(w.T)
    s = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        s[2, 2] = -1.0
    rot = u @ s @ vt
    trans = p_mean - rot @ g_mean
    return np.linalg.norm(g @ rot.T + trans - p, axis=1)


def pose_ate_mean(gt_centres: np.ndarray, pred_centres: np.ndarray) -> float:
    """The reference's `pose_ate_rmse`: the mean Horn residual (not a root mean square)."""
    return float(horn_residuals(gt_centres, pred_centres).mean())


def pose_ate_rms(gt_centres: np.ndarray, pred_centres: np.ndarray) -> float:
    """The true ATE RMSE: sqrt(mean of the squared Horn residuals)."""
    return float(np.sqrt(np.mean(horn_residuals(gt_centres, pred_centres) ** 2)))


def metric_scale_abs_rel(pred_scale: float, gt_scale: float) -> float:
    """|s_pr − s_gt| / s_gt, a fraction."""
    return float(abs(pred_scale - gt_scale) / gt_scale)


def score_set(aligned: AlignedSet) -> dict[str, float]:
    """Every metric of one aligned set: per-view metrics are the `np.mean` over its views (NaN propagates).

    This is the readable definition; the runner scores with `scoring.score_views`, tested to give the same numbers."""
    a = aligned
    gt_z, pr_z = a.gt_pts_cam[..., 2:3], a.pr_pts_cam[..., 2:3]
    g_centres, p_centres = a.gt_poses[:, :3, 3], a.pr_poses[:, :3, 3]
    metric = math.nan
    if np.isfinite(a.pr_metric_scale):
        metric = metric_scale_abs_rel(a.pr_metric_scale, a.gt_scale)

    def views_mean(values: float | np.ndarray) -> float:
        return float(np.mean(values))

    return {
        "metric_scale_abs_rel": metric,
        "pointmaps_abs_rel": views_mean(abs_rel(a.pr_pts, a.gt_pts, a.valid)),
        "pointmaps_inlier_thres_103": views_mean(thresh_inliers(a.pr_pts, a.gt_pts, a.valid)),
        "pose_ate_rmse": pose_ate_mean(g_centres, p_centres),
        "pose_auc_5": pose_auc(a.gt_poses, a.pr_poses),
        "z_depth_abs_rel": views_mean(abs_rel(pr_z, gt_z, a.valid)),
        "z_depth_inlier_thres_103": views_mean(thresh_inliers(pr_z, gt_z, a.valid)),
        "ray_dirs_err_deg": views_mean(ray_dirs_err_deg(a.pr_rays, a.gt_rays)),
        "pointmaps_inlier_err_103": views_mean(error_inliers(a.pr_pts, a.gt_pts, a.valid)),
        "pose_ate_true_rmse": pose_ate_rms(g_centres, p_centres),
        "pose_auc_5_signed": pose_auc(a.gt_poses, a.pr_poses, signed=True),
        "ray_dirs_err_deg_valid": views_mean(ray_dirs_err_deg_valid(a.pr_rays, a.gt_rays, a.valid)),
    }
