"""π³'s per-frame transformer decoders, the linear pixel-shuffle heads and the camera head (SVD-orthogonalised
rotation)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.models.blocks.checkpointing import maybe_checkpoint
from mapa_train.models.blocks.transformer_block import Block


class FrameDecoder(nn.Module):
    """`projects` Linear -> RoPE blocks (no qk-norm, no LayerScale) -> `linear_out`, on `(N, P, in_dim)`."""

    def __init__(self, in_dim: int, dim: int, depth: int, num_heads: int, out_dim: int) -> None:
        super().__init__()
        self.gradient_checkpointing = False
        self.projects = nn.Linear(in_dim, dim)
        self.blocks = nn.ModuleList(Block(dim, num_heads, 4.0, norm_eps=1e-6) for _ in range(depth))
        self.linear_out = nn.Linear(dim, out_dim)

    def forward(self, x: torch.Tensor, rope: nn.Module, positions: torch.Tensor) -> torch.Tensor:
        x = self.projects(x)
        for block in self.blocks:
            x = maybe_checkpoint(self.gradient_checkpointing, block, x, rope, positions)
        return self.linear_out(x)


class LinearPatchHead(nn.Module):
    """Patch tokens `(N, h·w, dim)` -> `(N, channels, h·P, w·P)` by one Linear and a pixel shuffle."""

    def __init__(self, dim: int, channels: int, patch: int) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Linear(dim, channels * patch * patch)

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        x = self.proj(x).transpose(1, 2).reshape(x.shape[0], -1, *grid)
        return F.pixel_shuffle(x, self.patch)


class ResidualLinearBlock(nn.Module):
    """Three Linear layers (each followed by ReLU) per token, plus identity."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.res_conv1 = nn.Linear(dim, dim)
        self.res_conv2 = nn.Linear(dim, dim)
        self.res_conv3 = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.res_conv2(F.relu(self.res_conv1(x))))
        return x + F.relu(self.res_conv3(y))


def orthogonalize(matrix: torch.Tensor) -> torch.Tensor:
    """Nearest rotation (det +1) to each `(…, 3, 3)` matrix, through the SVD."""
    u, _, vh = torch.linalg.svd(matrix)
    det = torch.det(u @ vh)
    fix = torch.ones_like(u[..., 0])
    fix = torch.cat([fix[..., :2], det[..., None]], dim=-1)
    return (u * fix[..., None, :]) @ vh


class Pi3CameraHead(nn.Module):
    """Camera tokens `(N, h·w, dim)` -> cam2world poses `(N, 4, 4)`: 2 residual blocks, mean over patches, MLP,
    `fc_t` (3) and `fc_rot` (9 -> rows normalised, then SVD-orthogonalised rotation)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.res_conv = nn.ModuleList(ResidualLinearBlock(dim) for _ in range(2))
        self.more_mlps = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.ReLU())
        self.fc_t = nn.Linear(dim, 3)
        self.fc_rot = nn.Linear(dim, 9)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.res_conv:
            x = block(x)
        x = self.more_mlps(x.mean(dim=1))
        pose = torch.zeros(x.shape[0], 4, 4, dtype=x.dtype, device=x.device)
        # As the official pose recovery: each row of the 3×3 is made unit length before the SVD.
        pose[:, :3, :3] = orthogonalize(F.normalize(self.fc_rot(x).reshape(-1, 3, 3), dim=-1))
        pose[:, :3, 3] = self.fc_t(x)
        pose[:, 3, 3] = 1.0
        return pose
