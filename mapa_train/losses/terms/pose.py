"""Camera pose terms: rotation (xyzw quaternion, sign-ambiguous) and translation (in avg-dis units), each as
the absolute pose (relative to view 0) and/or all-pairs relative poses, concatenated per view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from mapa_train.errors import MapaConfigError
from mapa_train.losses.context import LossContext, TermSkipped
from mapa_train.losses.frames import relative_pose
from mapa_train.losses.robust import Distance
from mapa_train.losses.terms.base import TermResult
from mapa_train.models.geometry import quat_conjugate, quat_multiply


def quaternion_distance(distance: Distance, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """min(d(q, q_gt), d(q, −q_gt)): q and −q are the same rotation."""
    return torch.minimum(distance(pred, gt), distance(pred, -gt))


@dataclass(frozen=True)
class PoseTerm:
    """Rotation ("quats") or translation ("trans") loss.

    For view i the entries are its pose relative to view 0 (if `absolute`) and, for every j ≠ i (if
    `relative`), the pose of j in i's frame; the per-view value is their mean. Translation entries count only
    where the views involved have at least one valid GT pixel (the scale is undefined otherwise).
    """

    name: str
    kind: Literal["quats", "trans"]
    distance: Distance
    absolute: bool = True
    relative: bool = False

    def __post_init__(self) -> None:
        if not (self.absolute or self.relative):
            raise MapaConfigError(f"pose term {self.name!r} has neither absolute nor relative entries")

    def __call__(
        self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]], ctx: LossContext
    ) -> TermResult:
        n = ctx.num_views
        if self.relative and n < 2 and not self.absolute:
            raise TermSkipped("relative pose needs at least 2 views")
        gt_q = [q for q, _ in ctx.gt_poses]
        pr_q = [q for q, _ in ctx.pred_poses]
        if self.kind == "trans":
            has_depth = [m.flatten(1).any(dim=1) for m in ctx.valid]
            if not any(bool(h.any()) for h in has_depth):
                raise TermSkipped("no valid GT pixels in the batch to fix the translation scale")
            pr_t, gt_t = zip(*ctx.normalised_translations(), strict=True)
        per_view = []
        for i in range(n):
            losses, keeps = [], []
            if self.absolute:
                if self.kind == "quats":
                    losses.append(quaternion_distance(self.distance, pr_q[i], gt_q[i]))
                    keeps.append(torch.ones_like(losses[-1], dtype=torch.bool))
                else:
                    losses.append(self.distance(pr_t[i], gt_t[i]))
                    keeps.append(has_depth[i])
            if self.relative:
                for j in range(n):
                    if j == i:
                        continue
                    if self.kind == "quats":
                        p = quat_multiply(quat_conjugate(pr_q[i]), pr_q[j])
                        g = quat_multiply(quat_conjugate(gt_q[i]), gt_q[j])
                        losses.append(quaternion_distance(self.distance, p, g))
                        keeps.append(torch.ones_like(losses[-1], dtype=torch.bool))
                    else:
                        _, p = relative_pose(pr_q[i], pr_t[i], pr_q[j], pr_t[j])
                        _, g = relative_pose(gt_q[i], gt_t[i], gt_q[j], gt_t[j])
                        losses.append(self.distance(p, g))
                        keeps.append(has_depth[i] & has_depth[j])
            loss, keep = torch.cat(losses), torch.cat(keeps)
            per_view.append(torch.where(keep, loss, 0.0).sum() / keep.sum().clamp_min(1))
        return TermResult(torch.stack(per_view).sum(), per_view)
