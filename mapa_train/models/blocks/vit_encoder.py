"""A DINOv2-compatible ViT image encoder: patch 14, CLS + optional register tokens, interpolated learned position
embeddings, LayerScale blocks, GELU or fused-SwiGLU FFN, and the option to keep only the first k blocks.

Parameter names equal DINOv2's torch-hub models (`cls_token`, `pos_embed`, `register_tokens`, `mask_token`,
`patch_embed.proj`, `blocks.{i}.*`, `norm`), so hub checkpoints load without renaming.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError, MapaInputError
from mapa_train.models.blocks.checkpointing import maybe_checkpoint
from mapa_train.models.blocks.mlp import FfnKind
from mapa_train.models.blocks.transformer_block import Block


@dataclass(frozen=True)
class ViTConfig:
    """Architecture of a DINOv2-style ViT.

    Fields:
        embed_dim: token width C_enc.
        depth: number of blocks of the full network (the published preset).
        num_heads: attention heads.
        patch_size: square patch side P in pixels.
        mlp_ratio: FFN width / embed_dim.
        ffn: "mlp" (ViT-S/B/L) or "swiglufused" (ViT-g).
        layerscale_init: LayerScale gamma init; None disables LayerScale.
        img_size: training resolution of the learned position grid (518 -> 37x37 grid + CLS).
        num_register_tokens: DINOv2 "with registers" tokens (0 or 4).
        keep_first_n_layers: build only the first n blocks (None = all `depth`).
        norm_returned_features: apply the final LayerNorm (False replaces it by Identity; no `norm.*` keys).
        interpolate_offset: DINOv2's pos-embed interpolation offset (0.1; 0.0 for the register variants).
        interpolate_antialias: antialiasing in the bicubic pos-embed resize (False; True for register variants).
        keep_mask_token: keep DINOv2's unused `mask_token` parameter (VGGT and MoGe do; MapAnything and π³ drop it).
        norm_eps: LayerNorm epsilon of blocks and final norm.
        gradient_checkpointing: recompute each block in the backward pass.
    """

    embed_dim: int = 1024
    depth: int = 24
    num_heads: int = 16
    patch_size: int = 14
    mlp_ratio: float = 4.0
    ffn: FfnKind = "mlp"
    layerscale_init: float | None = 1e-5
    img_size: int = 518
    num_register_tokens: int = 0
    keep_first_n_layers: int | None = None
    norm_returned_features: bool = True
    interpolate_offset: float = 0.1
    interpolate_antialias: bool = False
    keep_mask_token: bool = False
    norm_eps: float = 1e-6
    gradient_checkpointing: bool = False


def dinov2_preset(name: str, **overrides: object) -> ViTConfig:
    """The published DINOv2 shapes: "vits14", "vitb14", "vitl14", "vitg14" (overrides replace fields)."""
    presets = {
        "vits14": ViTConfig(embed_dim=384, depth=12, num_heads=6),
        "vitb14": ViTConfig(embed_dim=768, depth=12, num_heads=12),
        "vitl14": ViTConfig(embed_dim=1024, depth=24, num_heads=16),
        "vitg14": ViTConfig(embed_dim=1536, depth=40, num_heads=24, ffn="swiglufused"),
    }
    if name not in presets:
        raise MapaConfigError(f"unknown DINOv2 preset {name!r}; expected one of {sorted(presets)}")
    base = presets[name]
    return ViTConfig(**{**base.__dict__, **overrides})


class PatchEmbed(nn.Module):
    """Non-overlapping P×P patches -> tokens: `(B, 3, H, W)` -> `(B, h·w, C)`."""

    def __init__(self, patch_size: int, embed_dim: int, in_chans: int = 3) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """DINOv2-style ViT. `forward_features` returns CLS, register and patch tokens; `get_intermediate_layers`
    returns taps for MoGe-2."""

    def __init__(self, config: ViTConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.embed_dim
        self.patch_size = config.patch_size
        self.gradient_checkpointing = config.gradient_checkpointing
        grid = config.img_size // config.patch_size
        self.patch_embed = PatchEmbed(config.patch_size, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, dim))
        self.num_register_tokens = config.num_register_tokens
        if config.num_register_tokens > 0:
            self.register_tokens = nn.Parameter(torch.zeros(1, config.num_register_tokens, dim))
        if config.keep_mask_token:
            self.mask_token = nn.Parameter(torch.zeros(1, dim))
        n_blocks = config.depth if config.keep_first_n_layers is None else config.keep_first_n_layers
        if not 0 < n_blocks <= config.depth:
            raise MapaConfigError(f"keep_first_n_layers={n_blocks} must be in 1..{config.depth}")
        self.blocks = nn.ModuleList(
            Block(
                dim,
                config.num_heads,
                config.mlp_ratio,
                config.ffn,
                init_values=config.layerscale_init,
                norm_eps=config.norm_eps,
            )
            for _ in range(n_blocks)
        )
        self.norm = nn.LayerNorm(dim, eps=config.norm_eps) if config.norm_returned_features else nn.Identity()
        self._init_weights()

    def _init_weights(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        if self.num_register_tokens > 0:
            nn.init.normal_(self.register_tokens, std=1e-6)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def interpolate_pos_encoding(self, height: int, width: int, dtype: torch.dtype) -> torch.Tensor:
        """Learned position table resized bicubically to the token grid of an `height × width` image.

        Returns `(1, 1 + h·w, C)`; the CLS row is kept as is.
        """
        pos = self.pos_embed.float()
        n_patch = pos.shape[1] - 1
        h0, w0 = height // self.patch_size, width // self.patch_size
        side = int(math.sqrt(n_patch))
        if h0 == side and w0 == side:
            return self.pos_embed.to(dtype)
        cls_pos, patch_pos = pos[:, :1], pos[:, 1:]
        grid = patch_pos.reshape(1, side, side, -1).permute(0, 3, 1, 2)
        offset = self.config.interpolate_offset
        if offset:
            size_kwargs: dict = {"scale_factor": ((h0 + offset) / side, (w0 + offset) / side)}
        else:
            size_kwargs = {"size": (h0, w0)}
        grid = F.interpolate(grid, mode="bicubic", antialias=self.config.interpolate_antialias, **size_kwargs)
        if grid.shape[-2:] != (h0, w0):
            raise RuntimeError(
                f"pos-embed interpolation gave grid {tuple(grid.shape[-2:])}, expected {(h0, w0)}"
            )
        patch_pos = grid.permute(0, 2, 3, 1).reshape(1, h0 * w0, -1)
        return torch.cat([cls_pos, patch_pos], dim=1).to(dtype)

    def prepare_tokens(self, images: torch.Tensor) -> torch.Tensor:
        """images `(B, 3, H, W)` (H, W multiples of P) -> tokens `(B, 1 + R + h·w, C)` = [CLS, registers, patches]."""
        batch, _, height, width = images.shape
        if height % self.patch_size or width % self.patch_size:
            raise MapaInputError(
                f"image size {height}x{width} is not a multiple of the patch size {self.patch_size}"
            )
        x = self.patch_embed(images)
        x = torch.cat([self.cls_token.expand(batch, -1, -1), x], dim=1)
        x = x + self.interpolate_pos_encoding(height, width, x.dtype)
        if self.num_register_tokens > 0:
            x = torch.cat([x[:, :1], self.register_tokens.expand(batch, -1, -1), x[:, 1:]], dim=1)
        return x

    def run_blocks(
        self, x: torch.Tensor, taps: set[int] | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run every block on tokens `(B, N, C)`; also return the outputs of blocks listed in `taps`."""
        tapped = []
        for i, block in enumerate(self.blocks):
            x = maybe_checkpoint(self.gradient_checkpointing, block, x)
            if taps is not None and i in taps:
                tapped.append(x)
        return x, tapped

    def forward_features(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images `(B, 3, H, W)` -> `x_norm_clstoken (B, C)`, `x_norm_regtokens (B, R, C)`,
        `x_norm_patchtokens (B, h·w, C)`, `x_prenorm (B, N, C)`."""
        x, _ = self.run_blocks(self.prepare_tokens(images))
        normed = self.norm(x)
        start = 1 + self.num_register_tokens
        return {
            "x_norm_clstoken": normed[:, 0],
            "x_norm_regtokens": normed[:, 1:start],
            "x_norm_patchtokens": normed[:, start:],
            "x_prenorm": x,
        }

    def get_intermediate_layers(
        self, images: torch.Tensor, indices: list[int], norm: bool = True
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Outputs of the blocks in `indices`: a list of (patch tokens `(B, h·w, C)`, CLS token `(B, C)`)."""
        _, tapped = self.run_blocks(self.prepare_tokens(images), set(indices))
        start = 1 + self.num_register_tokens
        outputs = []
        for x in tapped:
            x = self.norm(x) if norm else x
            outputs.append((x[:, start:], x[:, 0]))
        return outputs
