"""Scale and frame helpers shared by the geometry terms: log-norm compression, the avg-dis normalisation
factor, and re-expression of points and poses in view 0's frame."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mapa_train.models.geometry import quat_conjugate, quat_multiply, quat_to_rotmat


def apply_log_to_norm(x: torch.Tensor) -> torch.Tensor:
    """Keep the direction of `(…, D)` vectors and replace their norm n by log1p(n) (for 1-D depth: log1p(d))."""
    norm = x.norm(dim=-1, keepdim=True)
    return x / norm.clamp_min(1e-8) * torch.log1p(norm)


def avg_dis_factor(points: Sequence[torch.Tensor], masks: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per-sample mean distance to the origin over the valid points of all views: `(B,)`, clipped at 1e-8.

    points: V tensors `(B, H, W, 3)`; masks: V bool tensors `(B, H, W)`. Invalid points are ignored here only.
    """
    total = sum((p.norm(dim=-1) * m).flatten(1).sum(1) for p, m in zip(points, masks, strict=True))
    count = sum(m.flatten(1).sum(1) for m in masks)
    return (total / (count + 1e-8)).clamp_min(1e-8)


def per_sample(factor: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Reshape a `(B,)` factor so it broadcasts against `like` `(B, …)`."""
    return factor.reshape(-1, *([1] * (like.dim() - 1)))


def rotate(quats: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Rotate `(B, …, 3)` vectors by `(B, 4)` xyzw quaternions."""
    rot = quat_to_rotmat(quats)
    flat = vectors.reshape(vectors.shape[0], -1, 3)
    return (flat @ rot.transpose(1, 2)).reshape(vectors.shape)


def points_in_frame(quat0: torch.Tensor, trans0: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Points `(B, …, 3)` of a world frame, expressed in the frame of the cam2world pose (quat0, trans0)."""
    shift = points - trans0.reshape(trans0.shape[0], *([1] * (points.dim() - 2)), 3)
    return rotate(quat_conjugate(quat0), shift)


def relative_pose(
    quat_i: torch.Tensor, trans_i: torch.Tensor, quat_j: torch.Tensor, trans_j: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose of camera j expressed in camera i's frame: (q_i⁻¹ ⊗ q_j, R(q_i⁻¹)(t_j − t_i))."""
    inv = quat_conjugate(quat_i)
    return quat_multiply(inv, quat_j), rotate(inv, trans_j - trans_i)
