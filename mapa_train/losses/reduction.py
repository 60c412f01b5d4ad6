"""How a per-pixel loss map becomes one value per view: plain masked mean, confidence weighting, or the
top-n% trimming of real samples. Inputs are flattened per image: loss `(B, P)`, mask `(B, P)` bool."""

from __future__ import annotations

from typing import Literal

import torch

Reduction = Literal["mean", "conf", "trim"]


def masked_mean(loss: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `loss` over `mask` (0 if nothing is valid)."""
    count = mask.sum()
    return torch.where(mask, loss, 0.0).sum() / count.clamp_min(1)


def confidence_weighted(
    loss: torch.Tensor, conf: torch.Tensor, mask: torch.Tensor, alpha: float
) -> torch.Tensor:
    """Mean over valid pixels of `loss·c − α·log c` (c ≥ 1 is the model's confidence; 0 if nothing is valid)."""
    safe_conf = torch.where(mask, conf, 1.0)
    return masked_mean(loss * safe_conf - alpha * torch.log(safe_conf), mask)


def trimmed_mean(
    loss: torch.Tensor, mask: torch.Tensor, trim: torch.Tensor, top_n_percent: float
) -> torch.Tensor:
    """Mean over valid pixels after dropping, in each sample where `trim` `(B,)` is set, the top `top_n_percent`
    of its valid losses (it keeps the lowest floor((100 − n)/100 · n_valid)). 0 if nothing is kept."""
    n_valid = mask.sum(dim=1)
    keep_fraction = (100.0 - top_n_percent) / 100.0
    trimmed = torch.floor(n_valid.double() * keep_fraction + 1e-9).long()
    keep_count = torch.where(trim, trimmed, n_valid)
    ordered = torch.where(mask, loss, torch.inf).sort(dim=1).values
    rank = torch.arange(loss.shape[1], device=loss.device)[None, :]
    keep = rank < keep_count[:, None]
    return masked_mean(torch.where(keep, ordered, 0.0), keep)
