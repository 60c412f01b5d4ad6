"""The metric-scale term: the predicted metric scale times the (detached) scale of the raw prediction, against
the GT scene scale, on metric-scale samples only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from mapa_train.errors import MapaInputError
from mapa_train.losses.context import LossContext, TermSkipped
from mapa_train.losses.robust import Distance
from mapa_train.losses.terms.base import TermResult, require_any


@dataclass(frozen=True)
class ScaleTerm:
    """d(log1p(m·f_pred), log1p(f_gt)) averaged over samples whose view 0 is metric and whose f_gt > 1e-8.

    f_pred is the avg-dis factor of the prediction divided by m, detached, so the gradient reaches m only.
    """

    name: str
    distance: Distance

    def __call__(
        self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]], ctx: LossContext
    ) -> TermResult:
        if ctx.metric_scale is None:
            raise MapaInputError(f"loss term {self.name!r} needs model output 'metric_scaling_factor'")
        metric = ctx.flag("is_metric_scale")
        if not bool(metric.any()):
            raise TermSkipped("no metric-scale sample in the batch")
        require_any(ctx.valid, "GT pixels")
        factors = ctx.factors
        use = metric & (factors.gt > 1e-8) & torch.stack([m.flatten(1).any(1) for m in ctx.valid]).any(0)
        if not bool(use.any()):
            raise TermSkipped("no metric-scale sample with valid GT pixels in the batch")
        pred = factors.pred_raw.detach() * ctx.metric_scale
        gt = factors.gt
        if ctx.settings.loss_in_log:
            pred, gt = torch.log1p(pred), torch.log1p(gt)
        loss = self.distance(pred[use, None], gt[use, None])
        return TermResult(loss.mean(), details={"num_samples": use.sum().float()})
