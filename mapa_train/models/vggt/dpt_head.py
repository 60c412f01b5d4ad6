"""VGGT's DPT head: four aggregator iterations -> a dense prediction at full resolution with a confidence channel,
or (feature-only, as the track head's feature extractor) a feature map at 1/`down_ratio` of the image resolution.

Per tapped iteration the patch tokens are LayerNormed, projected (1×1), given a 0.1-scaled sin-cos embedding of the
view plane, and resampled to ×4, ×2, ×1, ×½; RefineNet blocks fuse them coarse-to-fine (each upsampled to the next
level's size). Keys follow VGGT (`norm`, `projects`, `resize_layers`, `scratch.layer{k}_rn`, `scratch.refinenet{k}`,
`scratch.output_conv1`, `scratch.output_conv2`). The feature-only variant keeps `output_conv1` at full width and
has no `output_conv2`. `pos_embed=False` leaves out both view-plane embeddings (the track head's feature extractor is
built that way officially). The RefineNet residual units skip with the activated input, as VGGT's in-place ReLU does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks.checkpointing import maybe_checkpoint
from mapa_train.models.blocks.dpt_head import FeatureFusionBlock
from mapa_train.models.blocks.view_plane import add_uv_embedding


class _Scratch(nn.Module):
    """`layer{k}_rn` 3×3 convs, RefineNet blocks and the output convs under VGGT's `scratch.` prefix."""

    def __init__(self, out_channels: Sequence[int], features: int, output_dim: int | None) -> None:
        super().__init__()
        for k, channels in enumerate(out_channels, start=1):
            setattr(self, f"layer{k}_rn", nn.Conv2d(channels, features, 3, padding=1, bias=False))
        # VGGT's residual units skip with the activated input (the official in-place ReLU; see ResidualConvUnit).
        self.refinenet1 = FeatureFusionBlock(features, activated_skip=True)
        self.refinenet2 = FeatureFusionBlock(features, activated_skip=True)
        self.refinenet3 = FeatureFusionBlock(features, activated_skip=True)
        self.refinenet4 = FeatureFusionBlock(features, has_skip=False, activated_skip=True)
        if output_dim is None:  # feature-only: the fused map is the output
            self.output_conv1 = nn.Conv2d(features, features, 3, padding=1)
            return
        half = features // 2
        self.output_conv1 = nn.Conv2d(features, half, 3, padding=1)
        self.output_conv2 = nn.Sequential(
            nn.Conv2d(half, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, output_dim, 1)
        )


def _resize_layer(channels: int, level: int) -> nn.Module:
    if level == 0:
        return nn.ConvTranspose2d(channels, channels, 4, stride=4)
    if level == 1:
        return nn.ConvTranspose2d(channels, channels, 2, stride=2)
    if level == 2:
        return nn.Identity()
    return nn.Conv2d(channels, channels, 3, stride=2, padding=1)


class VGGTDPTHead(nn.Module):
    """Tokens `(B, V, P, dim_in)` of four iterations -> raw maps `(B·V, output_dim, H, W)`, or with
    `output_dim=None` features `(B·V, features, H/down_ratio, W/down_ratio)`."""

    def __init__(
        self,
        dim_in: int,
        output_dim: int | None,
        features: int = 256,
        out_channels: Sequence[int] = (256, 512, 1024, 1024),
        gradient_checkpointing: bool = False,
        down_ratio: int = 1,
        pos_embed: bool = True,
    ) -> None:
        super().__init__()
        if len(out_channels) != 4:
            raise MapaConfigError(f"the DPT head needs 4 level widths, got {list(out_channels)}")
        if down_ratio < 1:
            raise MapaConfigError(f"down_ratio must be >= 1, got {down_ratio}")
        self.gradient_checkpointing = gradient_checkpointing
        self.feature_only = output_dim is None
        self.down_ratio = down_ratio
        self.pos_embed = pos_embed
        self.norm = nn.LayerNorm(dim_in)
        self.projects = nn.ModuleList(nn.Conv2d(dim_in, c, 1) for c in out_channels)
        self.resize_layers = nn.ModuleList(_resize_layer(c, k) for k, c in enumerate(out_channels))
        self.scratch = _Scratch(out_channels, features, output_dim)

    def _level(
        self, k: int, tokens: torch.Tensor, grid: tuple[int, int], image: tuple[int, int]
    ) -> torch.Tensor:
        x = self.norm(tokens)
        x = x.transpose(1, 2).reshape(x.shape[0], -1, *grid)
        x = self.projects[k](x)
        if self.pos_embed:
            x = add_uv_embedding(x, *image)
        x = self.resize_layers[k](x)
        return getattr(self.scratch, f"layer{k + 1}_rn")(x)

    def forward(
        self, tapped: Sequence[torch.Tensor], patch_start_idx: int, image_size: tuple[int, int], patch: int
    ) -> torch.Tensor:
        height, width = image_size
        grid = (height // patch, width // patch)
        levels = []
        for k, tokens in enumerate(tapped):
            flat = tokens[:, :, patch_start_idx:].reshape(-1, grid[0] * grid[1], tokens.shape[-1])
            levels.append(
                maybe_checkpoint(self.gradient_checkpointing, self._level, k, flat, grid, image_size)
            )
        s, ckpt = self.scratch, self.gradient_checkpointing
        path = maybe_checkpoint(ckpt, s.refinenet4, levels[3], None, tuple(levels[2].shape[-2:]))
        path = maybe_checkpoint(ckpt, s.refinenet3, path, levels[2], tuple(levels[1].shape[-2:]))
        path = maybe_checkpoint(ckpt, s.refinenet2, path, levels[1], tuple(levels[0].shape[-2:]))
        path = maybe_checkpoint(ckpt, s.refinenet1, path, levels[0])
        path = s.output_conv1(path)
        out_size = (height // self.down_ratio, width // self.down_ratio)
        path = F.interpolate(path, size=out_size, mode="bilinear", align_corners=True)
        if self.pos_embed:
            path = add_uv_embedding(path, height, width)
        return path if self.feature_only else s.output_conv2(path)
