"""The named configs on the tiny models' real outputs: finite, and the gradient reaches the parameters."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.losses import LOSS_CONFIGS, build_loss
from mapa_train.models import build_model
from tests.mapa_train.losses.scene import make_views

MODEL_FOR = {"vggt_loss": "vggt_tiny", "pi3_loss": "pi3_tiny", "moge2_loss": "moge2_tiny"}


def run(
    model_name: str, loss_name: str, num_views: int, split: str = "train"
) -> tuple[dict, torch.nn.Module]:
    torch.manual_seed(0)
    model = build_model(model_name)
    views = make_views(batch=2, num_views=num_views, height=28, width=42, seed=5, synthetic=True)
    views[0]["is_synthetic"][1] = False  # one real sample: trimming and the synthetic-only terms both run
    for v in views:
        v["is_synthetic"] = views[0]["is_synthetic"]
    preds = model([{"img": v["img"]} for v in views])
    return build_loss(loss_name, split=split)(preds, views), model


@pytest.mark.parametrize(
    "loss_name", ["overall_loss_highpm_plus_rel_pose", "overall_loss_highpm_plus_rel_pose_no_conf"]
)
def test_v11_loss_on_tiny_mapanything_backpropagates(loss_name: str) -> None:
    out, model = run("mapanything_tiny", loss_name, num_views=2)
    assert out.skipped == {}
    assert math.isfinite(out["loss"].item())
    out["loss"].backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    for head in ("dpt_regressor_head", "pose_head", "scale_head"):
        assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items() if n.startswith(head)), head


@pytest.mark.parametrize("loss_name", sorted(set(LOSS_CONFIGS) - set(MODEL_FOR)))
def test_every_mapanything_config_is_finite(loss_name: str) -> None:
    for split in ("train", "eval"):
        out, _ = run("mapanything_tiny", loss_name, num_views=2, split=split)
        assert out.skipped == {} and math.isfinite(out["loss"].item()), (split, out.skipped)


@pytest.mark.parametrize("loss_name", sorted(MODEL_FOR))
def test_external_model_configs_backpropagate(loss_name: str) -> None:
    out, model = run(MODEL_FOR[loss_name], loss_name, num_views=1 if loss_name == "moge2_loss" else 2)
    assert out.skipped == {}
    assert math.isfinite(out["loss"].item())
    out["loss"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
