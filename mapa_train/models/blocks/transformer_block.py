"""The pre-norm transformer block shared by every model: `x += LS1(Attn(LN1(x)))`, `x += LS2(FFN(LN2(x)))`."""

from __future__ import annotations

import torch
from torch import nn

from mapa_train.models.blocks.attention import Attention, RopeFn
from mapa_train.models.blocks.layer_scale import layer_scale_or_identity
from mapa_train.models.blocks.mlp import FfnKind, build_ffn


class Block(nn.Module):
    """One transformer block on `(B, N, dim)`; keys `norm1, attn.*, ls1.gamma, norm2, mlp.*, ls2.gamma`."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        ffn: FfnKind = "mlp",
        qkv_bias: bool = True,
        proj_bias: bool = True,
        ffn_bias: bool = True,
        init_values: float | None = None,
        norm_eps: float = 1e-6,
        qk_norm: bool = False,
        qk_norm_eps: float = 1e-5,
        entropy_scaling: bool = False,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias, proj_bias, qk_norm, qk_norm_eps, entropy_scaling)
        self.ls1 = layer_scale_or_identity(dim, init_values)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = build_ffn(ffn, dim, mlp_ratio, bias=ffn_bias)
        self.ls2 = layer_scale_or_identity(dim, init_values)

    def forward(
        self, x: torch.Tensor, rope: RopeFn | None = None, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = x + self.ls1(self.attn(self.norm1(x), rope, positions))
        return x + self.ls2(self.mlp(self.norm2(x)))
