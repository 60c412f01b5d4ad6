"""DPT dense head: four token maps at the patch grid are brought to four scales, fused coarse-to-fine by RefineNet
blocks, and regressed to per-pixel channels at full image resolution.

`ResidualConvUnit` and `FeatureFusionBlock` are shared with VGGT's DPT; `DPTFeatureHead` / `DPTRegressionHead` use
MapAnything's key layout (`input_process.{k}.{0,1}`, `scratch.refinenet{1..4}`, `conv1`, `conv2.{0,2}`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks.checkpointing import maybe_checkpoint


class ResidualConvUnit(nn.Module):
    """ReLU -> conv3×3 -> ReLU -> conv3×3, plus a skip: `(N, c, h, w)` -> same.

    `activated_skip` chooses what the skip carries. MapAnything's DPT (non-inplace ReLU) adds the input `x`. VGGT's
    official DPT applies an in-place ReLU to the input first, so its skip carries `relu(x)`; its released weights were
    trained that way. Both are computed out of place here (safe under checkpointing and autograd).
    """

    def __init__(self, channels: int, activated_skip: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = nn.ReLU()
        self.activated_skip = activated_skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.act(x)
        out = self.conv2(self.act(self.conv1(first)))
        return out + (first if self.activated_skip else x)


class FeatureFusionBlock(nn.Module):
    """RefineNet fusion: add a refined skip map, refine, upsample ×2 (bilinear, align_corners), 1×1 conv.
    `activated_skip` is passed to both residual units (True for VGGT, see `ResidualConvUnit`)."""

    def __init__(self, channels: int, has_skip: bool = True, activated_skip: bool = False) -> None:
        super().__init__()
        if has_skip:
            self.resConfUnit1 = ResidualConvUnit(channels, activated_skip)
        self.resConfUnit2 = ResidualConvUnit(channels, activated_skip)
        self.out_conv = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None, size: tuple[int, int] | None = None):
        if skip is not None:
            x = x + self.resConfUnit1(skip)
        x = self.resConfUnit2(x)
        if size is None:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
        else:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        return self.out_conv(x)


class _Scratch(nn.Module):
    """Holder of the four RefineNet blocks (keeps the reference's `scratch.` key prefix)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.refinenet1 = FeatureFusionBlock(channels)
        self.refinenet2 = FeatureFusionBlock(channels)
        self.refinenet3 = FeatureFusionBlock(channels)
        self.refinenet4 = FeatureFusionBlock(channels, has_skip=False)


def _resample(in_dim: int, width: int, level: int) -> nn.Sequential:
    """1×1 projection then the level's resampling: ×4 up, ×2 up, ×1, ×½ (levels 0..3)."""
    layers: list[nn.Module] = [nn.Conv2d(in_dim, width, 1)]
    if level == 0:
        layers.append(nn.ConvTranspose2d(width, width, 4, stride=4))
    elif level == 1:
        layers.append(nn.ConvTranspose2d(width, width, 2, stride=2))
    elif level == 3:
        layers.append(nn.Conv2d(width, width, 3, stride=2, padding=1))
    return nn.Sequential(*layers)


def fuse_pyramid(scratch: _Scratch, levels: Sequence[torch.Tensor], checkpointing: bool) -> torch.Tensor:
    """RefineNet fusion of maps at 4h, 2h, h, h/2 -> `(N, F, 8h, 8w)`."""
    l0, l1, l2, l3 = levels
    path = maybe_checkpoint(checkpointing, scratch.refinenet4, l3)
    path = path[:, :, : l2.shape[2], : l2.shape[3]]
    path = maybe_checkpoint(checkpointing, scratch.refinenet3, path, l2)
    path = maybe_checkpoint(checkpointing, scratch.refinenet2, path, l1)
    return maybe_checkpoint(checkpointing, scratch.refinenet1, path, l0)


class DPTFeatureHead(nn.Module):
    """Four maps `(N, in_k, h, w)` -> fused features `(N, feature_dim, 8h, 8w)`."""

    def __init__(
        self,
        input_dims: Sequence[int],
        feature_dim: int = 256,
        layer_dims: Sequence[int] = (96, 192, 384, 768),
        gradient_checkpointing: bool = False,
    ) -> None:
        super().__init__()
        if len(input_dims) != 4 or len(layer_dims) != 4:
            raise MapaConfigError(
                f"DPT needs 4 input and 4 layer dims, got {list(input_dims)} / {list(layer_dims)}"
            )
        self.gradient_checkpointing = gradient_checkpointing
        self.input_process = nn.ModuleList(
            nn.Sequential(_resample(i, w, k), nn.Conv2d(w, feature_dim, 3, padding=1, bias=False))
            for k, (i, w) in enumerate(zip(input_dims, layer_dims, strict=True))
        )
        self.scratch = _Scratch(feature_dim)

    def forward(self, features: Sequence[torch.Tensor], checkpointing: bool | None = None) -> torch.Tensor:
        """`checkpointing` overrides the module's flag for this call (None keeps it)."""
        ckpt = self.gradient_checkpointing if checkpointing is None else checkpointing
        levels = [
            maybe_checkpoint(ckpt, proc, f) for proc, f in zip(self.input_process, features, strict=True)
        ]
        return fuse_pyramid(self.scratch, levels, ckpt)


class DPTRegressionHead(nn.Module):
    """Fused features `(N, F, 8h, 8w)` -> `(N, output_dim, H, W)`: conv, resize to the image, conv-ReLU-conv.

    With checkpointing the whole head (conv1, the full-resolution resize and conv2) is one recomputed segment, so
    only its input is kept between the passes.
    """

    def __init__(self, feature_dim: int, output_dim: int, gradient_checkpointing: bool = False) -> None:
        super().__init__()
        self.gradient_checkpointing = gradient_checkpointing
        half = feature_dim // 2
        self.conv1 = nn.Conv2d(feature_dim, half, 3, padding=1)
        self.conv2 = nn.Sequential(
            nn.Conv2d(half, half, 3, padding=1), nn.ReLU(), nn.Conv2d(half, output_dim, 1)
        )

    def _regress(self, x: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        x = F.interpolate(self.conv1(x), size=image_size, mode="bilinear", align_corners=True)
        return self.conv2(x)

    def forward(
        self, x: torch.Tensor, image_size: tuple[int, int], checkpointing: bool | None = None
    ) -> torch.Tensor:
        """`checkpointing` overrides the module's flag for this call (None keeps it)."""
        ckpt = self.gradient_checkpointing if checkpointing is None else checkpointing
        return maybe_checkpoint(ckpt, self._regress, x, tuple(image_size))
