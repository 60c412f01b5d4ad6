"""Gradient checkpointing that a module switches on or off at run time (no class swap, no key change), and a
chunked variant for full-resolution heads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from mapa_train.errors import MapaConfigError


def maybe_checkpoint(enabled: bool, module: nn.Module | Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `module(*args)` under non-reentrant checkpointing when `enabled` and gradients are being recorded.

    Recomputing in the backward pass trades compute for activation memory; in eval or under `no_grad` there is
    nothing to save, so the module runs plainly.
    """
    if enabled and torch.is_grad_enabled():
        return checkpoint(module, *args, use_reentrant=False, **kwargs)
    return module(*args, **kwargs)


def checkpoint_in_chunks(
    enabled: bool, fn: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor], chunk_size: int
) -> torch.Tensor:
    """`fn(*inputs)` for inputs that share a leading sample dim N, run on slices of `chunk_size` samples, each slice
    under its own checkpoint, and concatenated along dim 0.

    A single checkpoint around a whole full-resolution head only moves its activations to the backward pass, where
    they all come back at once; slicing makes the backward peak that of one slice. `fn` must treat samples
    independently (convolutions, per-sample resizing). Disabled (or without autograd) it is one plain call.
    """
    if not (enabled and torch.is_grad_enabled()):
        return fn(*inputs)
    if chunk_size < 1:
        raise MapaConfigError(f"chunk_size must be >= 1, got {chunk_size}")
    total = inputs[0].shape[0]
    outputs = [
        checkpoint(fn, *(x[start : start + chunk_size] for x in inputs), use_reentrant=False)
        for start in range(0, total, chunk_size)
    ]
    return torch.cat(outputs)
