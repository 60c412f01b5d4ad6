"""Gradient checkpointing that a module switches on or off at run time (no class swap, no key change)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def maybe_checkpoint(enabled: bool, module: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """Run `module(*args)` under non-reentrant checkpointing when `enabled` and gradients are being recorded.

    Recomputing in the backward pass trades compute for activation memory; in eval or under `no_grad` there is
    nothing to save, so the module runs plainly.
    """
    if enabled and torch.is_grad_enabled():
        return checkpoint(module, *args, use_reentrant=False, **kwargs)
    return module(*args, **kwargs)
