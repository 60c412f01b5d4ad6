"""The non-ambiguous-mask term: binary cross-entropy of the mask logits against the GT mask, over all pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from mapa_train.losses.context import LossContext
from mapa_train.losses.terms.base import TermResult


@dataclass(frozen=True)
class MaskTerm:
    """Σ_views mean BCE(`non_ambiguous_mask_logits`, `non_ambiguous_mask`)."""

    name: str

    def __call__(
        self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]], ctx: LossContext
    ) -> TermResult:
        per_view = []
        for i in range(ctx.num_views):
            gt = ctx.label(i, "non_ambiguous_mask")
            logits = ctx.pred(i, "non_ambiguous_mask_logits", self.name)
            per_view.append(F.binary_cross_entropy_with_logits(logits, gt.reshape(logits.shape).float()))
        return TermResult(torch.stack(per_view).sum(), per_view)
