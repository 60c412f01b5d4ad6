"""Multi-head self-attention on `F.scaled_dot_product_attention`, with optional per-head qk-norm and RoPE.

Parameter names follow DINOv2 (`qkv`, `proj`, and `q_norm` / `k_norm` when qk-norm is on), so reference checkpoints
map name-for-name.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError

RopeFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class Attention(nn.Module):
    """Self-attention over tokens `(B, N, dim)` with `num_heads` heads of width `dim // num_heads`."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        qk_norm: bool = False,
        qk_norm_eps: float = 1e-5,
        entropy_scaling: bool = False,
    ) -> None:
        super().__init__()
        if dim % num_heads != 0:
            raise MapaConfigError(f"attention width {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.entropy_scaling = entropy_scaling
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.q_norm = nn.LayerNorm(self.head_dim, eps=qk_norm_eps) if qk_norm else nn.Identity()
        self.k_norm = nn.LayerNorm(self.head_dim, eps=qk_norm_eps) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim, bias=proj_bias)

    def forward(
        self, x: torch.Tensor, rope: RopeFn | None = None, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x `(B, N, dim)`; `rope(t, positions)` rotates q and k `(B, heads, N, head_dim)` when given."""
        batch, tokens, dim = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        q, k = self.q_norm(q), self.k_norm(k)
        if rope is not None and positions is not None:
            q, k = rope(q, positions), rope(k, positions)
        if self.entropy_scaling:
            # Keeps attention entropy roughly constant as the token count grows (reference constant 444 tokens).
            q = q * math.sqrt(1.4 * math.log(max(tokens, 2)) / math.log(444))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(batch, tokens, dim))
