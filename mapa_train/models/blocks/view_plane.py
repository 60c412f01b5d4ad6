"""Aspect-aware view-plane coordinates and their sinusoidal embedding (VGGT's DPT position embedding, MoGe-2's UV
input channels). Pixel centres are placed on a plane whose half-diagonal is 1, so the map depends only on the aspect
ratio, not on the resolution."""

from __future__ import annotations

import math

import torch

from mapa_train.errors import MapaConfigError


def view_plane_uv(
    height: int,
    width: int,
    aspect_ratio: float | None = None,
    device: torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Grid `(height, width, 2)` of (u, v) pixel-centre coordinates; u spans ±ar/√(1+ar²), v spans ±1/√(1+ar²)."""
    ratio = width / height if aspect_ratio is None else aspect_ratio
    diag = math.sqrt(1.0 + ratio * ratio)
    half_u, half_v = ratio / diag, 1.0 / diag
    u = torch.linspace(
        -half_u * (width - 1) / width, half_u * (width - 1) / width, width, device=device, dtype=dtype
    )
    v = torch.linspace(
        -half_v * (height - 1) / height, half_v * (height - 1) / height, height, device=device, dtype=dtype
    )
    grid_v, grid_u = torch.meshgrid(v, u, indexing="ij")
    return torch.stack([grid_u, grid_v], dim=-1)


def _sincos(values: torch.Tensor, dim: int, omega0: float) -> torch.Tensor:
    freqs = 1.0 / omega0 ** (torch.arange(dim // 2, device=values.device, dtype=torch.float32) / (dim / 2.0))
    angles = values.float()[..., None] * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def sincos_embedding_2d(uv: torch.Tensor, dim: int, omega0: float = 100.0) -> torch.Tensor:
    """uv `(…, 2)` -> `(…, dim)`: half the channels embed u (sin then cos), the other half v."""
    if dim % 4:
        raise MapaConfigError(f"2-D sin-cos embedding needs a width divisible by 4, got {dim}")
    return torch.cat([_sincos(uv[..., 0], dim // 2, omega0), _sincos(uv[..., 1], dim // 2, omega0)], dim=-1)


def add_uv_embedding(
    x: torch.Tensor, image_height: int, image_width: int, ratio: float = 0.1
) -> torch.Tensor:
    """x `(N, C, h, w)` plus `ratio` × the sin-cos embedding of the view-plane grid of an image of that size."""
    _, channels, height, width = x.shape
    uv = view_plane_uv(height, width, image_width / image_height, x.device)
    emb = sincos_embedding_2d(uv, channels).permute(2, 0, 1)[None]
    return x + (ratio * emb).to(x.dtype)
