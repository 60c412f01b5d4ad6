"""2-D rotary position embedding (RoPE) on a patch grid, as VGGT and π³ use it (frequency base 100).

Half of each head's channels is rotated by the token's row, the other half by its column; special tokens (camera,
registers) sit at position (0, 0) and patches at (row + 1, col + 1). No parameters, so no state-dict keys.
"""

from __future__ import annotations

import torch
from torch import nn

from mapa_train.errors import MapaConfigError


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    first, second = x.chunk(2, dim=-1)
    return torch.cat([-second, first], dim=-1)


def _rope_1d(x: torch.Tensor, positions: torch.Tensor, base: float) -> torch.Tensor:
    """Rotate channels `x (B, heads, N, d)` by the 1-D positions `(B, N)`."""
    dim = x.shape[-1]
    inv_freq = 1.0 / base ** (torch.arange(0, dim, 2, device=x.device, dtype=torch.float32) / dim)
    angles = positions.float()[..., None] * inv_freq  # (B, N, d/2)
    angles = torch.cat([angles, angles], dim=-1)[:, None]  # (B, 1, N, d)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    return x * cos + _rotate_half(x) * sin


class RotaryEmbedding2D(nn.Module):
    """`rope(x, positions)`: x `(B, heads, N, head_dim)`, positions `(B, N, 2)` as (row, col) -> rotated x."""

    def __init__(self, base: float = 100.0) -> None:
        super().__init__()
        self.base = float(base)

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4:
            raise MapaConfigError(f"2-D RoPE needs a head width divisible by 4, got {x.shape[-1]}")
        rows, cols = x.chunk(2, dim=-1)
        rows = _rope_1d(rows, positions[..., 0], self.base)
        cols = _rope_1d(cols, positions[..., 1], self.base)
        return torch.cat([rows, cols], dim=-1)


def grid_positions(
    batch: int, height: int, width: int, num_special: int, device: torch.device
) -> torch.Tensor:
    """Positions `(batch, num_special + height·width, 2)`: special tokens at (0, 0), patch (r, c) at (r+1, c+1)."""
    rows = torch.arange(height, device=device).repeat_interleave(width)
    cols = torch.arange(width, device=device).repeat(height)
    patches = torch.stack([rows, cols], dim=-1) + 1
    special = torch.zeros(num_special, 2, dtype=patches.dtype, device=device)
    return torch.cat([special, patches])[None].expand(batch, -1, -1)
