"""The build-time check of a loss config against a model's outputs, and that it agrees with what the terms read."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.errors import MapaConfigError, MapaInputError
from mapa_train.losses import LOSS_CONFIGS, build_loss, check_model_outputs, missing_outputs
from mapa_train.models import build_model
from mapa_train.models.mapanything.representation import REPRESENTATIONS
from tests.mapa_train.losses.scene import make_views

EXTERNAL = {"vggt_loss", "pi3_loss", "moge2_loss"}


@pytest.fixture(scope="module")
def outputs_by_representation() -> dict[str, tuple[list[dict], list[dict]]]:
    """Each representation's tiny-model predictions on one batch (2 views, a metric and a real sample)."""
    views = make_views(batch=2, num_views=2, height=28, width=42, seed=5, synthetic=True)
    views[0]["is_synthetic"][1] = False
    for v in views:
        v["is_synthetic"] = views[0]["is_synthetic"]
    result = {}
    for name in REPRESENTATIONS:
        torch.manual_seed(0)
        model = build_model("mapanything_tiny", {"pred_head.adaptor": name})
        with torch.no_grad():
            result[name] = (model([{"img": v["img"]} for v in views]), views)
    return result


def test_pointmap_model_fits_its_loss_and_not_the_factored_ones() -> None:
    keys = REPRESENTATIONS["pointmap_confidence_mask"].output_keys
    check_model_outputs("conf_pm_mask_loss", keys, "mapanything_ablations")
    with pytest.raises(MapaConfigError) as err:
        check_model_outputs("overall_loss", keys, "mapanything_ablations")
    text = str(err.value)
    assert "loss 'overall_loss' does not fit model mapanything_ablations" in text
    assert "cam_points needs pts3d_cam" in text and "quats needs cam_quats" in text
    assert "scale needs metric_scaling_factor" in text and "world_points" not in text.split(":")[1]
    assert missing_outputs("conf_pm_mask_loss", REPRESENTATIONS["pointmap_confidence"].output_keys) == {
        "mask": ["non_ambiguous_mask_logits"]
    }


def test_models_that_do_not_declare_outputs_are_not_checked() -> None:
    check_model_outputs("overall_loss", None)
    assert getattr(build_model("vggt_tiny"), "output_keys", None) is None


@pytest.mark.parametrize("loss_name", sorted(set(LOSS_CONFIGS) - EXTERNAL))
def test_the_check_agrees_with_what_the_terms_read(outputs_by_representation, loss_name: str) -> None:
    """For every representation: the check passes exactly when the loss (train and eval) runs without a
    missing-output error, so a passing check means no such error mid-step."""
    for name, (preds, views) in outputs_by_representation.items():
        missing = missing_outputs(loss_name, REPRESENTATIONS[name].output_keys)
        for split in ("train", "eval"):
            loss = build_loss(loss_name, split=split)
            if missing:
                with pytest.raises(MapaInputError, match="needs model output"):
                    loss(preds, views)
            else:
                out = loss(preds, views)
                assert math.isfinite(out["loss"].item()), (name, split)
