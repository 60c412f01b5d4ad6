"""LayerScale: a learned per-channel gain on a residual branch (parameter `gamma`, as in DINOv2)."""

from __future__ import annotations

import torch
from torch import nn


class LayerScale(nn.Module):
    """Multiply `(…, dim)` by `gamma`, initialised to `init_values`."""

    def __init__(self, dim: int, init_values: float) -> None:
        super().__init__()
        self.init_values = float(init_values)
        self.gamma = nn.Parameter(torch.full((dim,), self.init_values))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma


def layer_scale_or_identity(dim: int, init_values: float | None) -> nn.Module:
    """LayerScale when `init_values` is set, else Identity (no parameter, no state-dict key)."""
    return LayerScale(dim, init_values) if init_values is not None else nn.Identity()
