"""Scale head: the global scale token `(B, D, 1)` -> one raw metric-scale value per sample `(B, 1, 1)`."""

from __future__ import annotations

import torch
from torch import nn


class ScaleHead(nn.Module):
    """Linear `proj` (no activation) -> `num_mlp_layers` × [Linear, ReLU] -> Linear `output_proj`."""

    def __init__(
        self, in_dim: int, hidden_dim: int = 196, num_mlp_layers: int = 2, output_dim: int = 1
    ) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, hidden_dim)
        self.mlp = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden_dim, hidden_dim), nn.ReLU()) for _ in range(num_mlp_layers)
        )
        self.output_proj = nn.Linear(hidden_dim, output_dim)

    def forward(self, token: torch.Tensor) -> torch.Tensor:
        """token `(B, D, 1)` -> `(B, 1, output_dim)`."""
        x = self.proj(token.transpose(1, 2))
        for layer in self.mlp:
            x = layer(x)
        return self.output_proj(x)
