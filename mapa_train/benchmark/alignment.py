"""Bringing one set's ground truth and prediction into the frame and scale the metrics compare (spec section 3).

1. Each side is expressed in its own view 0's frame (GT with the GT pose of view 0, the prediction with its own).
   No rotation or Procrustes alignment is applied to points or depth.
2. A predicted `metric_scaling_factor` is divided out of points and translations; the metric points are kept.
3. Each side is divided by its `avg_dis` scale: the mean distance of its view-0-frame points over the GT valid
   pixels of all views together (the prediction is measured on the GT mask too).
4. The metric scale pair (s_pr, s_gt) is taken for metric-scale GT: s_gt is the GT `avg_dis`, s_pr the `avg_dis` of
   the predicted metric points (the raw points of a model without a metric factor).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from wai.camera.conventions import invert_rigid, quaternion_to_rotation

_EPS = 1e-8


@dataclasses.dataclass
class AlignedSet:
    """One set, both sides in their view-0 frame and normalised by their own `avg_dis` scale.

    Arrays: points (N, H, W, 3), camera-frame points (N, H, W, 3), rays (N, H, W, 3), valid (N, H, W), poses
    (N, 4, 4) cam2world relative to view 0 with translations normalised.
    """

    gt_pts: np.ndarray
    pr_pts: np.ndarray
    gt_pts_cam: np.ndarray
    pr_pts_cam: np.ndarray
    gt_rays: np.ndarray
    pr_rays: np.ndarray
    valid: np.ndarray
    gt_poses: np.ndarray
    pr_poses: np.ndarray
    gt_scale: float
    """The GT `avg_dis` (metres for metric data)."""
    pr_metric_scale: float
    """`avg_dis` of the predicted metric points; NaN when the GT is not metric or has no valid point."""


def avg_dis(points: np.ndarray, valid: np.ndarray) -> float:
    """Σ‖p‖ over the valid pixels of every view / (their count + 1e-8), clipped to ≥ 1e-8."""
    p = np.asarray(points, np.float32)
    norms = np.sqrt(np.einsum("...i,...i->...", p, p))
    total = float(norms[valid].sum(dtype=np.float64)) if valid.any() else 0.0
    return max(total / (float(valid.sum()) + _EPS), _EPS)


def pose_from_quat_trans(quat_xyzw: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(4, 4) cam2world from an xyzw quaternion (renormalised) and a translation."""
    q = np.asarray(quat_xyzw, np.float64)
    q = q / max(float(np.linalg.norm(q)), 1e-12)
    pose = np.eye(4)
    pose[:3, :3] = quaternion_to_rotation(np.array([q[3], q[0], q[1], q[2]]))
    pose[:3, 3] = np.asarray(trans, np.float64)
    return pose


def _stack_in_frame(views: Sequence[dict[str, Any]], key: str, world_to_ref: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) float32: every view's `key` points moved into the reference frame, written into one buffer."""
    first = np.asarray(views[0][key])
    out = np.empty((len(views), *first.shape), np.float32)
    rot_t = world_to_ref[:3, :3].T.astype(np.float32)
    trans = world_to_ref[:3, 3].astype(np.float32)
    for i, v in enumerate(views):
        np.matmul(np.asarray(v[key], np.float32), rot_t, out=out[i])
        out[i] += trans
    return out


def _stack(views: Sequence[dict[str, Any]], key: str, dtype: type) -> np.ndarray:
    return np.stack([np.asarray(v[key], dtype) for v in views])


def align_set(gt_views: Sequence[dict[str, Any]], pred_views: Sequence[dict[str, np.ndarray]]) -> AlignedSet:
    """Align one set. gt_views: per view `pts3d`, `pts3d_cam`, `ray_directions_cam`, `valid_mask`, `camera_pose`
    (4, 4) and `is_metric_scale`; pred_views: per view `pts3d`, `pts3d_cam`, `ray_directions`, `cam_trans` (3,),
    `cam_quats` (4,) xyzw cam2world and optionally `metric_scaling_factor` (1,), all numpy without a batch axis."""
    gt_poses = np.stack([np.asarray(v["camera_pose"], np.float64) for v in gt_views])
    pr_poses = np.stack([pose_from_quat_trans(v["cam_quats"], v["cam_trans"]) for v in pred_views])
    gt_to_ref, pr_to_ref = invert_rigid(gt_poses[0]), invert_rigid(pr_poses[0])
    gt_pts = _stack_in_frame(gt_views, "pts3d", gt_to_ref)
    pr_pts = _stack_in_frame(pred_views, "pts3d", pr_to_ref)  # metric points for a model with a metric factor
    gt_poses = gt_to_ref[None] @ gt_poses
    pr_poses = pr_to_ref[None] @ pr_poses
    gt_cam = _stack(gt_views, "pts3d_cam", np.float32)
    pr_cam = _stack(pred_views, "pts3d_cam", np.float32)
    valid = _stack(gt_views, "valid_mask", bool)

    factor = pred_views[0].get("metric_scaling_factor")
    m = 1.0 if factor is None else float(np.asarray(factor, np.float64).reshape(-1)[0])
    s_gt = avg_dis(gt_pts, valid)
    raw = avg_dis(pr_pts, valid)  # avg_dis of the metric (or raw) points
    s_pr = max(raw / m, _EPS)  # avg_dis once the metric factor is divided out
    total = np.float32(m * s_pr)  # metric factor and normalisation in one division
    gt_poses[:, :3, 3] /= s_gt
    pr_poses[:, :3, 3] /= m * s_pr
    for array, scale in ((gt_pts, s_gt), (gt_cam, s_gt), (pr_pts, total), (pr_cam, total)):
        array /= np.float32(scale)
    metric = bool(np.all([bool(v.get("is_metric_scale", False)) for v in gt_views]))
    pr_metric = raw if metric and s_gt > _EPS and valid.any() else math.nan
    return AlignedSet(
        gt_pts=gt_pts,
        pr_pts=pr_pts,
        gt_pts_cam=gt_cam,
        pr_pts_cam=pr_cam,
        gt_rays=_stack(gt_views, "ray_directions_cam", np.float32),
        pr_rays=_stack(pred_views, "ray_directions", np.float32),
        valid=valid,
        gt_poses=gt_poses,
        pr_poses=pr_poses,
        gt_scale=s_gt,
        pr_metric_scale=pr_metric,
    )
