"""VGGT's aggregator: DINOv2 patch tokens per frame, a camera token and register tokens prepended (the first frame
gets its own copies), then alternating frame-wise and global attention with 2-D RoPE.

Each iteration i emits concat(frame-block-i output, global-block-i output): `(B, V, P, 2C)` with P = 1 + R + h·w.
"""

from __future__ import annotations

import torch
from torch import nn

from mapa_train.models.blocks.frame_global_attention import frame_attention, global_attention
from mapa_train.models.blocks.image_views import IMAGENET_MEAN, IMAGENET_STD
from mapa_train.models.blocks.rope import RotaryEmbedding2D, grid_positions
from mapa_train.models.blocks.transformer_block import Block
from mapa_train.models.blocks.vit_encoder import VisionTransformer, ViTConfig
from mapa_train.models.vggt.config import VGGTAggregatorConfig


def first_frame_tokens(param: torch.Tensor, batch: int, views: int) -> torch.Tensor:
    """param `(1, 2, T, C)` -> `(B, V, T, C)`: copy 0 for the first frame, copy 1 for every other frame."""
    first = param[:, :1].expand(batch, 1, -1, -1)
    rest = param[:, 1:].expand(batch, views - 1, -1, -1)
    return torch.cat([first, rest], dim=1)


class Aggregator(nn.Module):
    """Images `(B, V, 3, H, W)` in [0, 1] -> the aggregated tokens of the requested iterations."""

    def __init__(self, encoder: ViTConfig, config: VGGTAggregatorConfig) -> None:
        super().__init__()
        self.config = config
        dim = encoder.embed_dim
        self.patch_embed = VisionTransformer(encoder)
        if self.patch_embed.config.keep_mask_token:
            self.patch_embed.mask_token.requires_grad_(False)  # unused by the forward pass, frozen as in VGGT
        self.gradient_checkpointing = config.gradient_checkpointing
        self.rope = RotaryEmbedding2D(config.rope_base)
        blocks = [
            Block(
                dim,
                config.num_heads,
                config.mlp_ratio,
                init_values=config.init_values,
                norm_eps=config.norm_eps,
                qk_norm=config.qk_norm,
                qk_norm_eps=config.norm_eps,
            )
            for _ in range(2 * config.depth)
        ]
        self.frame_blocks = nn.ModuleList(blocks[: config.depth])
        self.global_blocks = nn.ModuleList(blocks[config.depth :])
        self.camera_token = nn.Parameter(torch.zeros(1, 2, 1, dim))
        self.register_token = nn.Parameter(torch.zeros(1, 2, config.num_register_tokens, dim))
        nn.init.normal_(self.camera_token, std=1e-6)
        nn.init.normal_(self.register_token, std=1e-6)
        self.patch_start_idx = 1 + config.num_register_tokens
        self.register_buffer("_mean", torch.tensor(IMAGENET_MEAN).reshape(1, 1, 3, 1, 1), persistent=False)
        self.register_buffer("_std", torch.tensor(IMAGENET_STD).reshape(1, 1, 3, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor, keep: set[int]) -> dict[int, torch.Tensor]:
        """images `(B, V, 3, H, W)` -> {iteration i: tokens `(B, V, P, 2C)`} for every i in `keep`."""
        batch, views, _, height, width = images.shape
        patch = self.patch_embed.patch_size
        x = ((images - self._mean) / self._std).reshape(batch * views, 3, height, width)
        patches = self.patch_embed.forward_features(x)["x_norm_patchtokens"]
        patches = patches.reshape(batch, views, patches.shape[1], -1)
        special = torch.cat(
            [
                first_frame_tokens(self.camera_token, batch, views),
                first_frame_tokens(self.register_token, batch, views),
            ],
            dim=2,
        ).to(patches.dtype)
        tokens = torch.cat([special, patches], dim=2)
        positions = grid_positions(
            batch * views, height // patch, width // patch, self.patch_start_idx, x.device
        )
        positions = positions.reshape(batch, views, -1, 2)
        out = {}
        for i, (frame_block, global_block) in enumerate(
            zip(self.frame_blocks, self.global_blocks, strict=True)
        ):
            tokens = frame_attention(frame_block, tokens, positions, self.rope, self.gradient_checkpointing)
            frame_out = tokens
            tokens = global_attention(global_block, tokens, positions, self.rope, self.gradient_checkpointing)
            if i in keep:
                out[i] = torch.cat([frame_out, tokens], dim=-1)
        return out
