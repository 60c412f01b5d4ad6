"""Feed-forward layers of the transformer blocks: a GELU MLP (`fc1`/`fc2`) and DINOv2's fused SwiGLU (`w12`/`w3`)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError

FfnKind = Literal["mlp", "swiglufused"]


class Mlp(nn.Module):
    """Linear -> GELU -> Linear, hidden width `hidden_dim`."""

    def __init__(self, dim: int, hidden_dim: int, out_dim: int | None = None, bias: bool = True) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim, bias=bias)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, out_dim or dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def swiglu_hidden_dim(hidden_dim: int) -> int:
    """DINOv2's SwiGLU width: two thirds of the MLP width, rounded up to a multiple of 8 (6144 -> 4096)."""
    return (int(hidden_dim * 2 / 3) + 7) // 8 * 8


class SwiGLUFFNFused(nn.Module):
    """SwiGLU with one fused input projection `w12` (dim -> 2·hidden) and output `w3` (hidden -> dim)."""

    def __init__(self, dim: int, hidden_dim: int, bias: bool = True) -> None:
        super().__init__()
        hidden = swiglu_hidden_dim(hidden_dim)
        self.w12 = nn.Linear(dim, 2 * hidden, bias=bias)
        self.w3 = nn.Linear(hidden, dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.w12(x).chunk(2, dim=-1)
        return self.w3(F.silu(x1) * x2)


def build_ffn(kind: FfnKind, dim: int, mlp_ratio: float, bias: bool = True) -> nn.Module:
    """The feed-forward layer named by `kind`, with MLP width `dim · mlp_ratio`."""
    hidden = int(dim * mlp_ratio)
    if kind == "mlp":
        return Mlp(dim, hidden, bias=bias)
    if kind == "swiglufused":
        return SwiGLUFFNFused(dim, hidden, bias=bias)
    raise MapaConfigError(f"unknown feed-forward kind {kind!r}; expected 'mlp' or 'swiglufused'")
