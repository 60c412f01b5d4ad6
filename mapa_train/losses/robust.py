"""Per-element distances between predicted and ground-truth vectors `(…, D)` -> `(…)`.

The reference applies one distance to every factor; the configs use Barron's general robust loss with
α = 0.5 and c = 0.05 (the no-robust ablation uses the plain Euclidean distance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mapa_train.errors import MapaConfigError

DistanceKind = Literal["robust", "l2", "l1"]


def robust_loss(
    pred: torch.Tensor, gt: torch.Tensor, alpha: float = 0.5, scale: float = 0.05
) -> torch.Tensor:
    """Barron's robust loss over the last dim: e = Σ((a−b)/c)², ρ = |α−2|/α·((e/|α−2| + 1)^(α/2) − 1).

    α must not be 0 or 2 (those are limits of the family that the configs never use).
    """
    if alpha in (0.0, 2.0):
        raise MapaConfigError(f"robust loss alpha {alpha} is a limit case; use a value other than 0 and 2")
    e = (((pred - gt) / scale) ** 2).sum(dim=-1)
    b = abs(alpha - 2.0)
    return b / alpha * ((e / b + 1.0) ** (alpha / 2.0) - 1.0)


def l2_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Euclidean distance over the last dim (for 1-D values: the absolute difference)."""
    return (pred - gt).norm(dim=-1)


def l1_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Sum of absolute differences over the last dim."""
    return (pred - gt).abs().sum(dim=-1)


@dataclass(frozen=True)
class Distance:
    """Which per-element distance a loss config uses, with the robust loss's α and c."""

    kind: DistanceKind = "robust"
    alpha: float = 0.5
    scale: float = 0.05

    def __call__(self, pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        if self.kind == "robust":
            return robust_loss(pred, gt, self.alpha, self.scale)
        if self.kind == "l2":
            return l2_loss(pred, gt)
        if self.kind == "l1":
            return l1_loss(pred, gt)
        raise MapaConfigError(f"unknown distance {self.kind!r}; expected 'robust', 'l2' or 'l1'")


ROBUST = Distance("robust", 0.5, 0.05)
L2 = Distance("l2")
