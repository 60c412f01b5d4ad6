"""Pose head: per-view features `(N, D, h, w)` -> translation (3) and rotation quaternion (4), as `(N, 7)`."""

from __future__ import annotations

import torch
from torch import nn


class ResConvBlock(nn.Module):
    """Three 1×1 convs (each followed by ReLU) with an identity skip: `(N, c, h, w)` -> same."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.res_conv1 = nn.Conv2d(channels, channels, 1)
        self.res_conv2 = nn.Conv2d(channels, channels, 1)
        self.res_conv3 = nn.Conv2d(channels, channels, 1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self.res_conv1(x))
        y = self.act(self.res_conv2(y))
        return x + self.act(self.res_conv3(y))


class PoseHead(nn.Module):
    """proj 1×1 -> residual 1×1 blocks -> global average pool -> 2-layer MLP -> `fc_t` (3), `fc_rot` (rot_dim).

    The reference hard-wires the width to 4·P² (784 at P = 14); it is a constructor argument here so tiny test
    models stay small.
    """

    def __init__(self, in_dim: int, width: int = 784, num_resconv_block: int = 2, rot_dim: int = 4) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_dim, width, 1)
        self.res_conv = nn.ModuleList(ResConvBlock(width) for _ in range(num_resconv_block))
        self.more_mlps = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.fc_t = nn.Linear(width, 3)
        self.fc_rot = nn.Linear(width, rot_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x `(N, D, h, w)` -> `(N, 3 + rot_dim)` = [t_xyz, rotation]."""
        x = self.proj(x)
        for block in self.res_conv:
            x = block(x)
        x = self.more_mlps(x.mean(dim=(2, 3)))
        return torch.cat([self.fc_t(x), self.fc_rot(x)], dim=-1)
