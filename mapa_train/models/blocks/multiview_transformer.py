"""The multi-view transformer ("info sharing"): alternating frame-wise and global attention over the patch tokens
of all views (MapAnything's AAT), or global attention only (the ablation).

Token layout per sample: for each view its h·w patch tokens then its extra tokens (e.g. the encoder CLS), and after
all views an optional global token (MapAnything's scale token). Even layers attend over all tokens, odd layers within
one view (the global token sits out). Outputs after the layers in `indices` and the last layer go through the final
norm and are split back into per-view maps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks.checkpointing import maybe_checkpoint
from mapa_train.models.blocks.mlp import FfnKind
from mapa_train.models.blocks.transformer_block import Block


@dataclass(frozen=True)
class MultiViewTransformerConfig:
    """Architecture of the multi-view transformer.

    Fields:
        dim: token width D (inputs of another width go through `proj_embed`).
        depth: number of layers.
        num_heads: attention heads.
        mlp_ratio: FFN width / D.
        ffn: "mlp" (V1) or "swiglufused" (V1.1).
        init_values: LayerScale init; None disables LayerScale (V1).
        indices: 0-based layers whose (normed) outputs are also returned.
        attention: "alternating" (global on even layers, frame on odd) or "global" (every layer global).
        distinguish_ref_and_non_ref_views: add a fixed sinusoidal embedding to view 0 (`view_pos_table` row 0).
        use_pe_for_non_reference_views: also embed the other views with later table rows.
        max_num_views_for_pe: rows in the view embedding table when non-reference views are embedded.
        use_rand_idx_pe_for_non_reference_views: draw non-reference rows at random from 1..max-1 each forward.
        entropy_scaling: scale q by sqrt(1.4·ln N / ln 444) (the `*_escaling` ablations).
        gradient_checkpointing: recompute each block in the backward pass.
    """

    dim: int = 768
    depth: int = 24
    num_heads: int = 12
    mlp_ratio: float = 4.0
    ffn: FfnKind = "mlp"
    init_values: float | None = None
    indices: tuple[int, ...] = field(default=(11, 17))
    attention: Literal["alternating", "global"] = "alternating"
    distinguish_ref_and_non_ref_views: bool = True
    use_pe_for_non_reference_views: bool = False
    max_num_views_for_pe: int = 1000
    use_rand_idx_pe_for_non_reference_views: bool = False
    entropy_scaling: bool = False
    gradient_checkpointing: bool = False


def sinusoidal_table(rows: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Table `(rows, dim)`: sin(p / base^(2i/dim)) in even columns, cos in odd ones (row 0 = [0, 1, 0, 1, …])."""
    position = torch.arange(rows, dtype=torch.float64)[:, None]
    exponent = torch.arange(0, dim, 2, dtype=torch.float64) / dim
    angle = position / base**exponent
    table = torch.zeros(rows, dim, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : dim // 2])
    return table.float()


@dataclass
class MultiViewTransformerOutput:
    """Per-view maps `(B, D, h, w)` of the final and the tapped layers, the per-view extra tokens `(B, D, T)` and
    the global token `(B, D, 1)` (None when no global token was given)."""

    final: list[torch.Tensor]
    intermediates: list[list[torch.Tensor]]
    final_extra_tokens: list[torch.Tensor]
    global_token: torch.Tensor | None


class MultiViewTransformer(nn.Module):
    """Alternating-attention (or global-attention) transformer over V views."""

    def __init__(self, config: MultiViewTransformerConfig, input_dim: int) -> None:
        super().__init__()
        self.config = config
        self.gradient_checkpointing = config.gradient_checkpointing
        dim = config.dim
        self.proj_embed = nn.Linear(input_dim, dim) if input_dim != dim else nn.Identity()
        if config.distinguish_ref_and_non_ref_views:
            rows = config.max_num_views_for_pe if config.use_pe_for_non_reference_views else 1
            self.register_buffer("view_pos_table", sinusoidal_table(rows, dim), persistent=True)
        self.self_attention_blocks = nn.ModuleList(
            Block(
                dim,
                config.num_heads,
                config.mlp_ratio,
                config.ffn,
                init_values=config.init_values,
                norm_eps=1e-6,
                entropy_scaling=config.entropy_scaling,
            )
            for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        if any(not 0 <= i < config.depth for i in config.indices):
            raise MapaConfigError(
                f"intermediate indices {config.indices} out of range for depth {config.depth}"
            )
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def _view_embedding(self, num_views: int, device: torch.device) -> torch.Tensor | None:
        """Rows of the view table for each view `(V, D)`, or None when views are not distinguished."""
        if not self.config.distinguish_ref_and_non_ref_views:
            return None
        table = self.view_pos_table
        if not self.config.use_pe_for_non_reference_views:
            emb = torch.zeros(num_views, table.shape[1], device=device, dtype=table.dtype)
            emb[0] = table[0]
            return emb
        if self.config.use_rand_idx_pe_for_non_reference_views:
            rest = torch.randint(1, table.shape[0], (num_views - 1,), device=device)
        else:
            rest = torch.arange(1, num_views, device=device)
        return table[torch.cat([torch.zeros(1, dtype=torch.long, device=device), rest])]

    def _split(self, x: torch.Tensor, num_views: int, grid: tuple[int, int], n_extra: int) -> tuple:
        batch, _, dim = x.shape
        height, width = grid
        per_view = height * width + n_extra
        views = x[:, : num_views * per_view].reshape(batch, num_views, per_view, dim)
        maps = [
            views[:, v, : height * width].transpose(1, 2).reshape(batch, dim, height, width)
            for v in range(num_views)
        ]
        extras = [views[:, v, height * width :].transpose(1, 2) for v in range(num_views)]
        glob = x[:, num_views * per_view :].transpose(1, 2) if x.shape[1] > num_views * per_view else None
        return maps, extras, glob

    def forward(
        self,
        features: list[torch.Tensor],
        extra_tokens: list[torch.Tensor] | None = None,
        global_token: torch.Tensor | None = None,
    ) -> MultiViewTransformerOutput:
        """features: V maps `(B, C, h, w)`; extra_tokens: V tensors `(B, C, T)`; global_token `(B, C, 1)`."""
        num_views = len(features)
        batch, _, height, width = features[0].shape
        tokens = [f.flatten(2).transpose(1, 2) for f in features]
        if extra_tokens is not None:
            tokens = [
                torch.cat([t, e.transpose(1, 2)], dim=1) for t, e in zip(tokens, extra_tokens, strict=True)
            ]
        n_extra = tokens[0].shape[1] - height * width
        per_view = tokens[0].shape[1]
        x = self.proj_embed(torch.stack(tokens, dim=1))  # (B, V, N_v, D)
        view_emb = self._view_embedding(num_views, x.device)
        if view_emb is not None:
            x = x + view_emb.to(x.dtype)[None, :, None, :]
        dim = x.shape[-1]
        x = x.reshape(batch, num_views * per_view, dim)
        if global_token is not None:
            x = torch.cat([x, self.proj_embed(global_token.transpose(1, 2))], dim=1)
        n_main = num_views * per_view
        taps = set(self.config.indices)
        intermediates = []
        for i, block in enumerate(self.self_attention_blocks):
            if self.config.attention == "global" or i % 2 == 0:
                x = maybe_checkpoint(self.gradient_checkpointing, block, x)
            else:
                main = x[:, :n_main].reshape(batch * num_views, per_view, dim)
                main = maybe_checkpoint(self.gradient_checkpointing, block, main)
                x = torch.cat([main.reshape(batch, n_main, dim), x[:, n_main:]], dim=1)
            if i in taps:
                maps, _, _ = self._split(self.norm(x), num_views, (height, width), n_extra)
                intermediates.append(maps)
        maps, extras, glob = self._split(self.norm(x), num_views, (height, width), n_extra)
        return MultiViewTransformerOutput(maps, intermediates, extras, glob)
