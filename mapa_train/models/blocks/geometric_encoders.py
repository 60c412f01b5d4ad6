"""Encoders of optional geometric inputs into image-token space: a dense encoder for per-pixel maps (rays, depth)
and a global MLP encoder for per-view vectors (rotation quaternion, translation, log scale).

Module and parameter names follow the reference layout (`conv_in`, `encoder.{0,1,2}`, `norm_layer`; the global
encoder's nested `encoder.0.0.0.0 … encoder.1`) so official checkpoints load name-for-name.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mapa_train.models.blocks.checkpointing import maybe_checkpoint


class ResidualBlock(nn.Module):
    """conv3×3 -> GELU -> conv3×3 plus a 1×1 (or identity) shortcut, then GELU: `(N, a, h, w)` -> `(N, b, h, w)`."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_dim, out_dim, 3, padding=1)
        self.conv2 = nn.Conv2d(out_dim, out_dim, 3, padding=1)
        self.shortcut = nn.Conv2d(in_dim, out_dim, 1) if in_dim != out_dim else nn.Identity()
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.act(self.conv1(x))) + self.shortcut(x))


class DenseRepresentationEncoder(nn.Module):
    """Per-pixel map `(N, c, H, W)` -> token features `(N, C_enc, h, w)` with h = H / P.

    PixelUnshuffle folds each P×P patch into channels, a 3×3 conv and residual blocks mix them, and a LayerNorm over
    channels matches the statistics of the image tokens the result is added to. With `gradient_checkpointing` the
    whole encoder is one recomputed segment (only the input map is kept for the backward pass).
    """

    def __init__(
        self,
        in_chans: int,
        embed_dim: int,
        patch_size: int,
        intermediate_dims: Sequence[int] = (588, 768, 1024),
        norm_eps: float = 1e-6,
        gradient_checkpointing: bool = False,
    ) -> None:
        super().__init__()
        self.gradient_checkpointing = gradient_checkpointing
        dims = list(intermediate_dims)
        self.unshuffle = nn.PixelUnshuffle(patch_size)
        self.conv_in = nn.Conv2d(in_chans * patch_size * patch_size, dims[0], 3, padding=1)
        layers: list[nn.Module] = [ResidualBlock(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True)]
        layers.append(nn.Conv2d(dims[-1], embed_dim, 1))
        self.encoder = nn.Sequential(*layers)
        self.norm_layer = nn.LayerNorm(embed_dim, eps=norm_eps)

    def _encode(self, x: torch.Tensor) -> torch.Tensor:
        x = self.encoder(self.conv_in(self.unshuffle(x)))
        return self.norm_layer(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return maybe_checkpoint(self.gradient_checkpointing, self._encode, x)


class GlobalRepresentationEncoder(nn.Module):
    """Per-view vector `(N, in_dim)` -> `(N, C_enc)`: GELU MLP through `intermediate_dims`, then LayerNorm."""

    def __init__(
        self,
        in_dim: int,
        embed_dim: int,
        intermediate_dims: Sequence[int] = (128, 256, 512),
        norm_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        dims = list(intermediate_dims)
        # The reference nests each Linear+GELU inside the previous Sequential; its key layout depends on that.
        stack: nn.Module = nn.Sequential(nn.Linear(in_dim, dims[0]), nn.GELU())
        for prev, width in zip(dims[:-1], dims[1:], strict=True):
            stack = nn.Sequential(stack, nn.Linear(prev, width), nn.GELU())
        self.encoder = nn.Sequential(stack, nn.Linear(dims[-1], embed_dim))
        self.norm_layer = nn.LayerNorm(embed_dim, eps=norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm_layer(self.encoder(x))
