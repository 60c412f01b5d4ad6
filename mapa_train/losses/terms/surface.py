"""Surface terms on camera-frame normalised points, for synthetic samples (clean depth) only:
a MoGe-style triangle-normal angle loss, and multi-scale gradient matching of log depth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from mapa_train.losses.context import LossContext, TermSkipped
from mapa_train.losses.terms.base import TermResult

MIN_ANGLE = math.radians(1.0)
MAX_ANGLE = math.radians(90.0)
HUBER_BETA = math.radians(3.0)
GM_SCALES = (1, 2, 4, 8)
GM_CLAMP = 100.0


def _quad_normals(points: torch.Tensor) -> list[torch.Tensor]:
    """The 4 triangle normals of each 2×2 pixel quad of `(B, H, W, 3)` points -> 4 × `(B, H−1, W−1, 3)`."""
    tl, tr = points[:, :-1, :-1], points[:, :-1, 1:]
    bl, br = points[:, 1:, :-1], points[:, 1:, 1:]
    return [
        torch.cross(tr - tl, bl - tl, dim=-1),
        torch.cross(tl - bl, br - bl, dim=-1),
        torch.cross(bl - br, tr - br, dim=-1),
        torch.cross(br - tr, tl - tr, dim=-1),
    ]


def _quad_masks(mask: torch.Tensor) -> list[torch.Tensor]:
    """Validity of the 4 triangles of each quad (all 3 corners valid), matching `_quad_normals`."""
    tl, tr = mask[:, :-1, :-1], mask[:, :-1, 1:]
    bl, br = mask[:, 1:, :-1], mask[:, 1:, 1:]
    return [tr & bl & tl, tl & br & bl, bl & tr & br, br & tl & tr]


def angle_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angle in radians between `(…, 3)` vectors: atan2(‖a×b‖, a·b)."""
    return torch.atan2(torch.cross(a, b, dim=-1).norm(dim=-1), (a * b).sum(dim=-1))


def smooth_angle(angle: torch.Tensor) -> torch.Tensor:
    """Clamp to [1°, 90°], then Huber-like: quadratic below β = 3°, linear above (continuous at β)."""
    x = angle.clamp(MIN_ANGLE, MAX_ANGLE)
    return torch.where(x < HUBER_BETA, 0.5 * x * x / HUBER_BETA, x - 0.5 * HUBER_BETA)


def normal_loss(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Σ over valid triangles of the smoothed normal angle, / (valid pixels · 4 · max(H, W)); 0 if none."""
    total = pred.new_zeros(())
    for n_pred, n_gt, m in zip(_quad_normals(pred), _quad_normals(gt), _quad_masks(mask), strict=True):
        total = total + torch.where(m, smooth_angle(angle_between(n_pred, n_gt)), 0.0).sum()
    height, width = pred.shape[1:3]
    return total / (mask.sum().clamp_min(1) * 4 * max(height, width))


def gradient_matching_loss(
    pred_depth: torch.Tensor, gt_depth: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Multi-scale gradient matching of `(B, H, W)` log depths: at strides 1, 2, 4, 8 the x/y finite differences
    of the masked difference (where both neighbours are valid, each clamped at 100), summed and divided by the
    valid pixels at that stride; summed over strides."""
    total = pred_depth.new_zeros(())
    for s in GM_SCALES:
        m = mask[:, ::s, ::s]
        diff = torch.where(m, pred_depth[:, ::s, ::s] - gt_depth[:, ::s, ::s], 0.0)
        gx = (diff[:, :, 1:] - diff[:, :, :-1]).abs().clamp_max(GM_CLAMP)
        gy = (diff[:, 1:] - diff[:, :-1]).abs().clamp_max(GM_CLAMP)
        gx = torch.where(m[:, :, 1:] & m[:, :, :-1], gx, 0.0)
        gy = torch.where(m[:, 1:] & m[:, :-1], gy, 0.0)
        total = total + (gx.sum() + gy.sum()) / m.sum().clamp_min(1)
    return total


@dataclass(frozen=True)
class SurfaceTerm:
    """ "normal" or "gradient_matching" on the normalised camera points of synthetic samples (all samples with
    `synthetic_only=False`). Log-depth for gradient matching is log1p(max(z, 0))."""

    name: str
    kind: str
    synthetic_only: bool = True

    def __call__(
        self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]], ctx: LossContext
    ) -> TermResult:
        if self.synthetic_only:
            select = ctx.flag("is_synthetic")
            if not bool(select.any()):
                raise TermSkipped("no synthetic sample in the batch")
        else:
            select = torch.ones(ctx.batch, dtype=torch.bool, device=ctx.device)
        masks = [m & select[:, None, None] for m in ctx.valid]
        if not any(bool(m.any()) for m in masks):
            raise TermSkipped("no valid GT pixels on the selected samples")
        per_view = []
        for (pred, gt), mask in zip(ctx.cam_points, masks, strict=True):
            if self.kind == "normal":
                per_view.append(normal_loss(pred, gt, mask))
            else:
                pred_z = torch.log1p(pred[..., 2].clamp_min(0.0))
                gt_z = torch.log1p(gt[..., 2].clamp_min(0.0))
                per_view.append(gradient_matching_loss(pred_z, gt_z, mask))
        return TermResult(torch.stack(per_view).sum(), per_view)
