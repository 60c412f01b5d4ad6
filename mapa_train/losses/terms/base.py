"""What every loss term shares: its call signature, its result, and the per-view reduction settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from mapa_train.losses.context import LossContext, TermSkipped
from mapa_train.losses.reduction import Reduction, confidence_weighted, masked_mean, trimmed_mean


@dataclass
class TermResult:
    """One term's value (unweighted; the sum over views for per-view terms), its per-view values, and extra
    scalars worth logging (e.g. the plain mean under a confidence-weighted reduction)."""

    value: torch.Tensor
    per_view: list[torch.Tensor] = field(default_factory=list)
    details: dict[str, torch.Tensor] = field(default_factory=dict)


class Term(Protocol):
    """A loss term: `(predictions, batch views, context) -> TermResult`, or raise `TermSkipped(reason)`."""

    def __call__(
        self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]], ctx: LossContext
    ) -> TermResult: ...


@dataclass(frozen=True)
class ReduceSpec:
    """How a term's per-pixel losses become one value per view.

    mode: "mean" (masked mean), "conf" (confidence-weighted, c = the model's `conf`), "trim" (drop each real
        sample's top `top_n_percent` losses). conf_alpha: the weight of −log c. trim_real_only: with False,
        synthetic samples are trimmed too.
    """

    mode: Reduction = "mean"
    conf_alpha: float = 0.2
    top_n_percent: float = 5.0
    trim_real_only: bool = True


def reduce_view(
    loss: torch.Tensor, mask: torch.Tensor, ctx: LossContext, view: int, spec: ReduceSpec, term: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reduce one view's `(B, P)` losses under `(B, P)` mask -> (reduced value, plain masked mean)."""
    plain = masked_mean(loss, mask)
    if spec.mode == "mean":
        return plain, plain
    if spec.mode == "conf":
        conf = ctx.pred(view, "conf", term).reshape(loss.shape)
        return confidence_weighted(loss, conf, mask, spec.conf_alpha), plain
    if spec.trim_real_only:
        trim = ~ctx.flag("is_synthetic")
    else:
        trim = torch.ones(loss.shape[0], dtype=torch.bool, device=loss.device)
    return trimmed_mean(loss, mask, trim, spec.top_n_percent), plain


def require_any(masks: Sequence[torch.Tensor], what: str) -> None:
    """Skip the term when no view has a valid pixel (a batch without depth, say)."""
    if not any(bool(m.any()) for m in masks):
        raise TermSkipped(f"no valid {what} in the batch")
