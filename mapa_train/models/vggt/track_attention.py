"""The track head's update transformer: per-track attention over time, and attention over space routed through a
few learned "virtual" tracks (CoTracker-style), predicting coordinate and feature updates for every track.

Attention keeps `torch.nn.MultiheadAttention`'s parameter names (`in_proj_weight`, `in_proj_bias`, `out_proj`), the
names VGGT's checkpoints use, but runs `scaled_dot_product_attention`. The blocks normalise their input and add the
attention output to the *normalised* tokens, as VGGT's tracker blocks do (so released weights behave the same).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks.checkpointing import maybe_checkpoint
from mapa_train.models.blocks.mlp import Mlp


class PackedAttention(nn.Module):
    """Multi-head attention with one packed q/k/v projection: query `(N, Lq, E)`, context `(N, Lk, E)` ->
    `(N, Lq, E)`."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        if dim % num_heads:
            raise MapaConfigError(f"attention width {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim))
        self.out_proj = nn.Linear(dim, dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        n, length, dim = x.shape
        return x.reshape(n, length, self.num_heads, dim // self.num_heads).transpose(1, 2)

    def forward(self, query: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        w_q, w_kv = self.in_proj_weight.split([query.shape[-1], 2 * query.shape[-1]])
        b_q, b_kv = self.in_proj_bias.split([query.shape[-1], 2 * query.shape[-1]])
        q = F.linear(query, w_q, b_q)
        k, v = F.linear(query if context is None else context, w_kv, b_kv).chunk(2, dim=-1)
        out = F.scaled_dot_product_attention(self._heads(q), self._heads(k), self._heads(v))
        return self.out_proj(out.transpose(1, 2).reshape(query.shape))


class TrackSelfAttentionBlock(nn.Module):
    """x `(N, L, E)` -> LN -> + self-attention -> + MLP(LN)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = PackedAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x)
        x = x + self.attn(x)
        return x + self.mlp(self.norm2(x))


class TrackCrossAttentionBlock(nn.Module):
    """x `(N, L, E)` attends to context `(N, M, E)`: LN both -> + cross-attention -> + MLP(LN)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.norm_context = nn.LayerNorm(dim)
        self.cross_attn = PackedAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = self.norm1(x)
        x = x + self.cross_attn(x, self.norm_context(context))
        return x + self.mlp(self.norm2(x))


class UpdateFormer(nn.Module):
    """Track tokens `(B, N, S, input_dim)` -> updates `(B, N, S, output_dim)`.

    Each of the `depth` rounds runs a time block (every track attends over its S frames), then a space step per
    frame: the virtual tracks gather from the real ones, attend among themselves, and the real tracks read back from
    them (cost linear in N). The input projection is added back before the output norm and linear head.
    Key names follow VGGT (`virual_tracks` is spelled as in the released checkpoints).
    """

    def __init__(
        self,
        input_dim: int,
        hidden_size: int,
        output_dim: int,
        depth: int,
        num_heads: int,
        num_virtual_tracks: int,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        self.gradient_checkpointing = False
        self.input_norm = nn.LayerNorm(input_dim)
        self.input_transform = nn.Linear(input_dim, hidden_size)
        self.output_norm = nn.LayerNorm(hidden_size)
        self.flow_head = nn.Linear(hidden_size, output_dim)
        self.virual_tracks = nn.Parameter(torch.randn(1, num_virtual_tracks, 1, hidden_size))

        def selfs() -> nn.ModuleList:
            return nn.ModuleList(
                TrackSelfAttentionBlock(hidden_size, num_heads, mlp_ratio) for _ in range(depth)
            )

        def crosses() -> nn.ModuleList:
            return nn.ModuleList(
                TrackCrossAttentionBlock(hidden_size, num_heads, mlp_ratio) for _ in range(depth)
            )

        self.time_blocks = selfs()
        self.space_virtual_blocks = selfs()
        self.space_point2virtual_blocks = crosses()
        self.space_virtual2point_blocks = crosses()
        self._init_linears()

    def _init_linears(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.flow_head.weight, std=0.001)  # start with near-zero updates

    def _space(self, j: int, tokens: torch.Tensor, num_real: int) -> torch.Tensor:
        """tokens `(B·S, N + K, E)`: real tracks first, then the K virtual ones."""
        real, virtual = tokens[:, :num_real], tokens[:, num_real:]
        virtual = self.space_virtual2point_blocks[j](virtual, real)
        virtual = self.space_virtual_blocks[j](virtual)
        real = self.space_point2virtual_blocks[j](real, virtual)
        return torch.cat([real, virtual], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        projected = self.input_transform(self.input_norm(x))
        batch, num_real, frames, _ = projected.shape
        virtual = self.virual_tracks.expand(batch, -1, frames, -1).to(projected.dtype)
        tokens = torch.cat([projected, virtual], dim=1)
        tracks = tokens.shape[1]
        ckpt = self.gradient_checkpointing
        for j, time_block in enumerate(self.time_blocks):
            tokens = maybe_checkpoint(ckpt, time_block, tokens.reshape(batch * tracks, frames, -1))
            per_frame = (
                tokens.reshape(batch, tracks, frames, -1).transpose(1, 2).reshape(batch * frames, tracks, -1)
            )
            per_frame = maybe_checkpoint(ckpt, self._space, j, per_frame, num_real)
            tokens = per_frame.reshape(batch, frames, tracks, -1).transpose(1, 2)
        tokens = tokens[:, :num_real] + projected
        return self.flow_head(self.output_norm(tokens))
