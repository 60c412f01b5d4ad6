"""MoGe-2's convolutional pyramid decoder (`ConvStack`), used for the neck and for every dense head.

Level i: a 1×1 input conv added to the running map (level 0 starts it), residual 3×3 blocks, a per-level output
(1×1 conv or Identity), then a ×2 resampler to level i+1. All 3×3 convs pad by replication; no normalisation layers
(the released `"none"` norms), which leaves the residual convs at `layers.2` and `layers.5`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mapa_train.errors import MapaConfigError, MapaInputError
from mapa_train.models.blocks.checkpointing import maybe_checkpoint


def conv3x3(in_dim: int, out_dim: int) -> nn.Conv2d:
    return nn.Conv2d(in_dim, out_dim, 3, padding=1, padding_mode="replicate")


class ResidualConvBlock(nn.Module):
    """[norm slot, ReLU, conv3×3, norm slot, ReLU, conv3×3] + identity, on `(N, c, h, w)`."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Identity(),
            nn.ReLU(),
            conv3x3(channels, channels),
            nn.Identity(),
            nn.ReLU(),
            conv3x3(channels, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.layers(x)


def resampler(kind: str, in_dim: int, out_dim: int) -> nn.Sequential:
    """×2 upsampler: transposed conv (k2, s2) or bilinear resize, each followed by a 3×3 conv."""
    if kind == "conv_transpose":
        return nn.Sequential(nn.ConvTranspose2d(in_dim, out_dim, 2, stride=2), conv3x3(out_dim, out_dim))
    if kind == "bilinear":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), conv3x3(in_dim, out_dim)
        )
    raise MapaConfigError(f"unknown resampler {kind!r}; expected 'conv_transpose' or 'bilinear'")


class ConvStack(nn.Module):
    """Five maps (level i at 2^i × the token grid; None where a level has no input) -> five level outputs."""

    def __init__(
        self,
        dim_in: Sequence[int | None],
        dims: Sequence[int],
        num_res_blocks: Sequence[int],
        resamplers: Sequence[str],
        dim_out: Sequence[int | None],
    ) -> None:
        super().__init__()
        self.gradient_checkpointing = False
        self.input_blocks = nn.ModuleList(
            nn.Conv2d(i, d, 1) if i is not None else nn.Identity() for i, d in zip(dim_in, dims, strict=True)
        )
        self.res_blocks = nn.ModuleList(
            nn.Sequential(*(ResidualConvBlock(d) for _ in range(n)))
            for d, n in zip(dims, num_res_blocks, strict=True)
        )
        self.output_blocks = nn.ModuleList(
            nn.Conv2d(d, o, 1) if o is not None else nn.Identity() for d, o in zip(dims, dim_out, strict=True)
        )
        self.resamplers = nn.ModuleList(
            resampler(kind, a, b) for kind, a, b in zip(resamplers, dims[:-1], dims[1:], strict=True)
        )

    def forward(self, inputs: Sequence[torch.Tensor | None]) -> list[torch.Tensor]:
        outputs = []
        x = None
        for i, res in enumerate(self.res_blocks):
            if inputs[i] is not None:
                feature = self.input_blocks[i](inputs[i])
                x = feature if x is None else x + feature
            if x is None:
                raise MapaInputError("the first pyramid level needs an input")
            if len(res):
                x = maybe_checkpoint(self.gradient_checkpointing, res, x)
            outputs.append(self.output_blocks[i](x))
            if i < len(self.resamplers):
                x = maybe_checkpoint(self.gradient_checkpointing, self.resamplers[i], x)
        return outputs
