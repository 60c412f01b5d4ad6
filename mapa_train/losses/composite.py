"""A loss built from a `LossConfig`: named terms, each with a weight, computed in fp32 and summed.

loss = build_loss("overall_loss_highpm_plus_rel_pose")
out = loss(predictions, views)       # out["loss"], out["world_points"], …, out.skipped
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import torch

from mapa_train.errors import MapaConfigError, MapaUnknownNameError
from mapa_train.losses.context import GeometrySettings, LossContext, TermSkipped
from mapa_train.losses.reduction import Reduction
from mapa_train.losses.robust import ROBUST, Distance
from mapa_train.losses.terms.base import ReduceSpec, Term
from mapa_train.losses.terms.dense import DenseTerm
from mapa_train.losses.terms.mask import MaskTerm
from mapa_train.losses.terms.pose import PoseTerm
from mapa_train.losses.terms.scale import ScaleTerm
from mapa_train.losses.terms.surface import SurfaceTerm

TermKind = Literal[
    "world_points", "cam_points", "depth", "rays", "quats", "trans", "scale", "normal", "gradient_matching",
    "mask",
]  # fmt: skip
TERM_KINDS: tuple[str, ...] = TermKind.__args__


@dataclass(frozen=True)
class TermSpec:
    """One term of a loss config.

    kind: what it measures (one of `TERM_KINDS`). name: its key in the output (default: the kind).
    weight: its factor in the total. reduction: per-view reduction of dense terms ("mean", "conf", "trim").
    eval_reduction: the reduction used by the evaluation loss (default: "trim" where training uses "conf").
    train_only: leave the term out of the evaluation loss. geometry: settings for this term only (default: the
    config's; MoGe-2's surface terms normalise differently from its point term).
    """

    kind: TermKind
    weight: float = 1.0
    reduction: Reduction = "mean"
    name: str | None = None
    eval_reduction: Reduction | None = None
    train_only: bool = False
    geometry: GeometrySettings | None = None

    @property
    def key(self) -> str:
        return self.name or self.kind


@dataclass(frozen=True)
class LossConfig:
    """A named loss: its terms and the settings they share (see the module docstrings of each term)."""

    name: str
    terms: tuple[TermSpec, ...]
    geometry: GeometrySettings = field(default_factory=GeometrySettings)
    distance: Distance = ROBUST
    conf_alpha: float = 0.2
    top_n_percent: float = 5.0
    trim_real_only: bool = True
    absolute_pose: bool = True
    relative_pose: bool = False
    surface_synthetic_only: bool = True
    description: str = ""

    def __post_init__(self) -> None:
        keys = [t.key for t in self.terms]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise MapaConfigError(f"loss config {self.name!r} has duplicate term names {dupes}")
        for t in self.terms:
            if t.kind not in TERM_KINDS:
                raise MapaUnknownNameError(
                    f"loss config {self.name!r}: unknown term kind {t.kind!r}; known: {TERM_KINDS}"
                )

    def for_eval(self) -> LossConfig:
        """The evaluation variant: train-only terms dropped, confidence weighting replaced by trimming."""
        terms = []
        for t in self.terms:
            if t.train_only:
                continue
            mode = t.eval_reduction or ("trim" if t.reduction == "conf" else t.reduction)
            terms.append(replace(t, reduction=mode, eval_reduction=None))
        return replace(self, name=f"{self.name}[eval]", terms=tuple(terms))

    def with_weights(self, weights: dict[str, float]) -> LossConfig:
        """A copy with some term weights changed (by term name); an unknown name is an error."""
        known = {t.key for t in self.terms}
        unknown = sorted(set(weights) - known)
        if unknown:
            raise MapaUnknownNameError(
                f"loss config {self.name!r} has no terms {unknown}; terms: {sorted(known)}"
            )
        terms = tuple(replace(t, weight=float(weights.get(t.key, t.weight))) for t in self.terms)
        return replace(self, terms=terms)


def make_term(config: LossConfig, spec: TermSpec) -> Term:
    """The term object for one spec of a config."""
    name = spec.key
    if spec.kind in ("world_points", "cam_points", "depth", "rays"):
        reduce = ReduceSpec(spec.reduction, config.conf_alpha, config.top_n_percent, config.trim_real_only)
        return DenseTerm(name, spec.kind, config.distance, reduce)
    if spec.kind in ("quats", "trans"):
        return PoseTerm(name, spec.kind, config.distance, config.absolute_pose, config.relative_pose)
    if spec.kind == "scale":
        return ScaleTerm(name, config.distance)
    if spec.kind in ("normal", "gradient_matching"):
        return SurfaceTerm(name, spec.kind, config.surface_synthetic_only)
    return MaskTerm(name)


@dataclass
class LossOutput:
    """The result of one loss call.

    loss: the weighted total (a scalar with grad). terms: each computed term's unweighted value (summed over
    views), by name; loss == Σ weight·terms[name]. details: per-view values ("<term>/view<k>") and extras.
    skipped: term name -> why it was not computed (labels the batch lacks); skipped terms add nothing.
    """

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]
    details: dict[str, torch.Tensor]
    skipped: dict[str, str]
    weights: dict[str, float]

    def __getitem__(self, key: str) -> torch.Tensor:
        if key == "loss":
            return self.loss
        return self.terms[key]

    def as_dict(self) -> dict[str, torch.Tensor]:
        """{"loss": total, "<term>": value, …} for the computed terms."""
        return {"loss": self.loss, **self.terms}

    def log_values(self) -> dict[str, float]:
        """Plain floats of the total, the terms and the details, for logging (one device sync)."""
        items = {**self.as_dict(), **self.details}
        values = torch.stack([v.detach().float().reshape(()) for v in items.values()]).tolist()
        return dict(zip(items, values, strict=True))


def _fp32(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v for k, v in d.items()}
        for d in items
    ]


class Loss:
    """A composed loss. `loss(predictions, views)` -> `LossOutput`; always computed in fp32 with autocast off."""

    def __init__(self, config: LossConfig) -> None:
        self.config = config
        self.terms: dict[str, tuple[TermSpec, Term]] = {
            t.key: (t, make_term(config, t)) for t in config.terms
        }

    @property
    def term_names(self) -> list[str]:
        return list(self.terms)

    def __call__(self, preds: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]]) -> LossOutput:
        device = next(v for v in preds[0].values() if isinstance(v, torch.Tensor)).device
        with torch.autocast(device_type=device.type, enabled=False):
            return self._compute(_fp32(preds), _fp32(views))

    def _compute(self, preds: list[dict[str, Any]], views: list[dict[str, Any]]) -> LossOutput:
        contexts: dict[GeometrySettings, LossContext] = {}
        terms, details, skipped, weights = {}, {}, {}, {}
        total = None
        for key, (spec, term) in self.terms.items():
            settings = spec.geometry or self.config.geometry
            ctx = contexts.setdefault(settings, LossContext(preds, views, settings))
            try:
                result = term(preds, views, ctx)
            except TermSkipped as skip:
                skipped[key] = str(skip)
                continue
            terms[key] = result.value
            weights[key] = spec.weight
            for i, v in enumerate(result.per_view):
                details[f"{key}/view{i}"] = v
            for name, v in result.details.items():
                details[f"{key}/{name}"] = v
            weighted = spec.weight * result.value
            total = weighted if total is None else total + weighted
        if total is None:  # nothing computable: a zero that still reaches every prediction, so backward works
            total = sum(v.sum() * 0.0 for p in preds for v in p.values() if _is_grad_tensor(v))
            total = torch.as_tensor(total, dtype=torch.float32)
        return LossOutput(total, terms, details, skipped, weights)


def _is_grad_tensor(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.is_floating_point() and value.requires_grad
