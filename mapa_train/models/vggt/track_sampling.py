"""What VGGT's point tracker samples: feature maps and correlation volumes read at sub-pixel points, a multi-level
correlation pyramid, and the sinusoidal embeddings of track positions and motions.

Coordinates are (x, y) in cells of the map being sampled, cell centres at integers (0 … W-1), i.e.
`grid_sample(align_corners=True)` after rescaling. Sampling never back-propagates into the coordinates: in the
tracker the coordinates are an estimate being refined, not a differentiable input.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

from mapa_train.errors import MapaConfigError, MapaInputError

Padding = Literal["zeros", "border"]  # `grid_sample` padding modes used here


def sample_at(maps: torch.Tensor, coords: torch.Tensor, padding: Padding = "border") -> torch.Tensor:
    """Bilinear read of maps `(M, C, H, W)` at coords `(M, h, w, 2)` (x, y in cells) -> `(M, C, h, w)`."""
    height, width = maps.shape[-2:]
    scale = torch.tensor(
        [2.0 / max(width - 1, 1), 2.0 / max(height - 1, 1)], device=maps.device, dtype=maps.dtype
    )
    grid = coords.detach().to(maps.dtype) * scale - 1.0
    return F.grid_sample(maps, grid, mode="bilinear", padding_mode=padding, align_corners=True)


def sample_points(maps: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Features of maps `(M, C, H, W)` at points `(M, N, 2)` -> `(M, N, C)` (border padding)."""
    return sample_at(maps, points[:, :, None])[..., 0].transpose(1, 2)


def grid_sincos_embedding(
    dim: int, height: int, width: int, device: torch.device | None = None
) -> torch.Tensor:
    """The 2-D sin-cos embedding of every integer cell of an `(height, width)` grid -> `(1, dim, height, width)`.

    Channels: sin then cos of x·ω, then sin then cos of y·ω, with ω_k = 10000^(-k/(dim/4)), k < dim/4.
    """
    if dim % 4:
        raise MapaConfigError(f"grid embedding width must be divisible by 4, got {dim}")
    quarter = dim // 4
    omega = 1.0 / 10000.0 ** (torch.arange(quarter, device=device, dtype=torch.float32) / quarter)
    ys, xs = torch.meshgrid(
        torch.arange(height, device=device, dtype=torch.float32),
        torch.arange(width, device=device, dtype=torch.float32),
        indexing="ij",
    )
    parts = []
    for values in (xs, ys):
        angles = values[..., None] * omega
        parts += [angles.sin(), angles.cos()]
    return torch.cat(parts, dim=-1).permute(2, 0, 1)[None]


def motion_embedding(flows: torch.Tensor, dim: int) -> torch.Tensor:
    """flows `(…, 2)` -> `(…, 2·dim)`: per axis, `dim` channels alternating sin and cos of the flow times
    frequencies 1000·k/dim for even k < dim (x's channels, then y's)."""
    if dim % 2:
        raise MapaConfigError(f"motion embedding width must be even, got {dim}")
    freqs = torch.arange(0, dim, 2, device=flows.device, dtype=torch.float32) * (1000.0 / dim)
    parts = []
    for axis in (0, 1):
        angles = flows[..., axis : axis + 1].float() * freqs
        parts.append(torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2))
    return torch.cat(parts, dim=-1)


class CorrelationPyramid:
    """Feature maps `(B, S, C, H, W)` average-pooled into `levels` halvings; `sample` correlates per-track features
    with every level and reads a `(2r+1)²` window around each track's position.

    Each level's full correlation volume is formed, sampled and dropped in turn, so peak memory is one level's.
    """

    def __init__(self, fmaps: torch.Tensor, levels: int, radius: int) -> None:
        self.radius = radius
        self.pyramid = [fmaps]
        for _ in range(levels - 1):
            batch, frames, channels, height, width = self.pyramid[-1].shape
            if min(height, width) < 2:
                raise MapaInputError(
                    f"VGGT track head: a {levels}-level correlation pyramid cannot halve feature maps of "
                    f"{tuple(fmaps.shape[-2:])} {levels - 1} times; expected larger images or fewer levels"
                )
            pooled = F.avg_pool2d(self.pyramid[-1].reshape(batch * frames, channels, height, width), 2, 2)
            self.pyramid.append(pooled.reshape(batch, frames, channels, *pooled.shape[-2:]))
        # window offsets: the first component (added to x) varies along the window's first axis
        steps = torch.linspace(-radius, radius, 2 * radius + 1, device=fmaps.device, dtype=fmaps.dtype)
        first, second = torch.meshgrid(steps, steps, indexing="ij")
        self.window = torch.stack([first, second], dim=-1)

    @property
    def channels(self) -> int:
        """Width of a sampled correlation vector: levels · (2r+1)²."""
        return len(self.pyramid) * (2 * self.radius + 1) ** 2

    def sample(self, features: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
        """features `(B, S, N, C)`, coords `(B, S, N, 2)` in level-0 cells -> correlations `(B, S, N, channels)`."""
        batch, frames, tracks, channels = features.shape
        side = 2 * self.radius + 1
        window = self.window.to(coords.dtype).reshape(1, side, side, 2)
        out = []
        for level, fmaps in enumerate(self.pyramid):
            height, width = fmaps.shape[-2:]
            corr = torch.matmul(features, fmaps.reshape(batch, frames, channels, height * width))
            corr = (corr / math.sqrt(channels)).reshape(batch * frames * tracks, 1, height, width)
            centres = coords.reshape(batch * frames * tracks, 1, 1, 2) / 2**level
            sampled = sample_at(corr, centres + window, padding="zeros")
            out.append(sampled.reshape(batch, frames, tracks, side * side))
        return torch.cat(out, dim=-1)
