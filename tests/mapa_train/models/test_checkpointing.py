"""Gradient checkpointing (per part) changes memory, never results."""

from __future__ import annotations

import torch

from mapa_train.models.mapanything.model import MapAnything
from mapa_train.models.mapanything.task import get_task
from mapa_train.models.registry import build_model
from tests.mapa_train.models.conftest import make_views


def _grads(model: MapAnything, views: list[dict]) -> dict[str, torch.Tensor]:
    model.zero_grad()
    out = model(views, task=get_task("pass_through"))
    loss = sum(o["pts3d"].square().mean() + o["conf"].mean() + o["metric_scaling_factor"].sum() for o in out)
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def test_checkpointing_gives_equal_gradients() -> None:
    torch.manual_seed(0)
    model = build_model("mapanything_tiny")
    views = make_views(3)
    model.set_gradient_checkpointing(encoder=False, info_sharing=False, pred_head=False)
    plain = _grads(model, views)
    model.set_gradient_checkpointing(encoder=True, info_sharing=True, pred_head=True)
    checkpointed = _grads(model, views)
    for name, grad in plain.items():
        torch.testing.assert_close(checkpointed[name], grad, atol=1e-6, rtol=1e-5, msg=name)


def test_reference_override_keys_switch_parts() -> None:
    model = build_model(
        "mapanything_tiny",
        {
            "model.encoder.gradient_checkpointing": True,
            "model.info_sharing.module_args.gradient_checkpointing": False,
            "model.pred_head.gradient_checkpointing": True,
        },
    )
    assert model.encoder.model.gradient_checkpointing
    assert not model.info_sharing.gradient_checkpointing
    assert model.dpt_feature_head.gradient_checkpointing and model.dpt_regressor_head.gradient_checkpointing
