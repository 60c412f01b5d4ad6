"""The per-pixel geometry factors: world points (view-0 frame), camera points, depth (along the ray or z),
and ray directions. Each is the configured distance between normalised prediction and label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch

from mapa_train.losses.context import LossContext
from mapa_train.losses.frames import apply_log_to_norm
from mapa_train.losses.robust import Distance
from mapa_train.losses.terms.base import ReduceSpec, TermResult, reduce_view, require_any

DenseKind = Literal["world_points", "cam_points", "depth", "rays"]


@dataclass(frozen=True)
class DenseTerm:
    """One dense factor. Points and depth are compared on GT-valid pixels (log-compressed if the geometry says
    so); rays on every pixel, as unit vectors."""

    name: str
    kind: DenseKind
    distance: Distance
    reduce: ReduceSpec

    def pairs(self, ctx: LossContext) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if self.kind == "world_points":
            return ctx.world_points
        if self.kind == "cam_points":
            return ctx.cam_points
        if self.kind == "depth":
            return ctx.depths
        return [
            (ctx.pred(i, "ray_directions", self.name), ctx.label(i, "ray_directions_cam"))
            for i in range(ctx.num_views)
        ]

    def __call__(
        self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]], ctx: LossContext
    ) -> TermResult:
        if self.kind == "rays":
            pairs = self.pairs(ctx)
            masks = [torch.ones(p.shape[:3], dtype=torch.bool, device=p.device) for p, _ in pairs]
        else:
            masks = ctx.valid
            require_any(masks, "GT pixels")
            pairs = self.pairs(ctx)
        log = ctx.settings.loss_in_log and self.kind != "rays"
        per_view, details = [], {}
        for i, ((pred, gt), mask) in enumerate(zip(pairs, masks, strict=True)):
            if log:
                pred, gt = apply_log_to_norm(pred), apply_log_to_norm(gt)
            loss = self.distance(pred, gt).flatten(1)
            value, plain = reduce_view(loss, mask.flatten(1), ctx, i, self.reduce, self.name)
            per_view.append(value)
            if self.reduce.mode != "mean":
                details[f"view{i}_plain"] = plain
        return TermResult(torch.stack(per_view).sum(), per_view, details)
