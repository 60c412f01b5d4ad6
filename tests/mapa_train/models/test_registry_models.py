"""Every registered model is tested from the registry itself: each family has a tiny variant, and every tiny
variant runs forward and backward, with finite outputs and gradients that reach its first layer, and saves less
activation memory for the backward pass with gradient checkpointing on."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from mapa_train.models.benchmark import saved_for_backward_mib
from mapa_train.models.registry import FAMILIES, MODELS, build_model

TINY = sorted(name for name, entry in MODELS.items() if entry.variant == "tiny")


def _views(name: str, batch: int, height: int, width: int) -> list[dict[str, torch.Tensor]]:
    most = FAMILIES[MODELS[name].family].max_views
    count = 2 if most is None else min(2, most)
    return [{"img": torch.rand(batch, 3, height, width)} for _ in range(count)]


def _loss(outputs: list[dict[str, Any]]) -> torch.Tensor:
    """Mean of every differentiable float output of every view."""
    terms = [
        value.float().mean()
        for out in outputs
        for value in out.values()
        if torch.is_tensor(value) and value.requires_grad
    ]
    assert terms, "no differentiable output"
    return torch.stack(terms).sum()


def test_every_family_has_a_tiny_variant() -> None:
    assert {MODELS[name].family for name in TINY} == set(FAMILIES)


@pytest.mark.parametrize("name", TINY)
def test_tiny_variant_runs_forward_and_backward(name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name).train()
    views = _views(name, batch=2, height=28, width=42)
    outputs = model(views)
    assert len(outputs) == len(views)
    for out in outputs:
        for key, value in out.items():
            if torch.is_tensor(value) and value.dtype.is_floating_point:
                assert value.shape[0] == 2 and bool(torch.isfinite(value).all()), key
    _loss(outputs).backward()
    # the gradient reaches the first layer: the image patch embedding (the first conv that reads RGB)
    patch_embed = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels == 3)
    assert patch_embed.weight.grad is not None and bool(patch_embed.weight.grad.abs().sum() > 0)
    for key, param in model.named_parameters():
        assert param.grad is None or bool(torch.isfinite(param.grad).all()), key


@pytest.mark.parametrize("name", TINY)
def test_checkpointing_cuts_the_activation_memory_kept_for_backward(name: str) -> None:
    """The evidence the peak-RSS benchmark gives at large sizes, measured exactly at a tiny size."""

    def saved(checkpointing: bool) -> float:
        torch.manual_seed(0)
        model = build_model(name).train()
        model.set_gradient_checkpointing(checkpointing, checkpointing, checkpointing)
        views = _views(name, batch=1, height=56, width=70)
        mib, outputs = saved_for_backward_mib(model, lambda: model(views))
        _loss(outputs).backward()  # the checkpointed graph still trains
        assert any(p.grad is not None for p in model.parameters())
        return mib

    plain, checkpointed = saved(False), saved(True)
    assert plain > 0.5  # MiB: large enough that the ratio means something
    assert checkpointed < 0.75 * plain, (plain, checkpointed)
