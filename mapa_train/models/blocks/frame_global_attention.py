"""Running one transformer block frame-wise (each view alone) or globally (all views of a sample together) on
multi-view tokens `(B, V, P, C)`: the two halves of VGGT's and π³'s alternating attention."""

from __future__ import annotations

import torch
from torch import nn

from mapa_train.models.blocks.checkpointing import maybe_checkpoint


def frame_attention(
    block: nn.Module,
    tokens: torch.Tensor,
    positions: torch.Tensor | None,
    rope: nn.Module | None,
    checkpointing: bool = False,
) -> torch.Tensor:
    """tokens `(B, V, P, C)`, positions `(B, V, P, 2)` -> `(B, V, P, C)`, attention within each view."""
    batch, views, length, dim = tokens.shape
    x = tokens.reshape(batch * views, length, dim)
    pos = positions.reshape(batch * views, length, -1) if positions is not None else None
    return maybe_checkpoint(checkpointing, block, x, rope, pos).reshape(batch, views, length, dim)


def global_attention(
    block: nn.Module,
    tokens: torch.Tensor,
    positions: torch.Tensor | None,
    rope: nn.Module | None,
    checkpointing: bool = False,
) -> torch.Tensor:
    """tokens `(B, V, P, C)`, positions `(B, V, P, 2)` -> `(B, V, P, C)`, attention over all views of a sample."""
    batch, views, length, dim = tokens.shape
    x = tokens.reshape(batch, views * length, dim)
    pos = positions.reshape(batch, views * length, -1) if positions is not None else None
    return maybe_checkpoint(checkpointing, block, x, rope, pos).reshape(batch, views, length, dim)
