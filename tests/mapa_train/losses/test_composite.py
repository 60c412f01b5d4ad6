"""The composite loss: totals, skipped terms, confidence and mask terms, fp32 under autocast, named configs."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from mapa_train.errors import MapaInputError, MapaUnknownNameError
from mapa_train.losses import LOSS_CONFIGS, LossConfig, TermSpec, build_loss, get_loss_config, loss_table
from tests.mapa_train.losses.scene import make_views, perfect_predictions

DEPTH_LABELS = ("depthmap", "pts3d", "pts3d_cam", "depth_along_ray", "valid_mask")


def test_total_is_weighted_sum_of_terms() -> None:
    views = make_views(num_views=3, synthetic=True)
    preds = perfect_predictions(views, scale=1.3, metric_scale=2.0)
    preds[2]["pts3d"] = preds[2]["pts3d"] + 0.05
    out = build_loss("overall_loss_highpm_plus_rel_pose")(preds, views)
    assert out.skipped == {}
    assert set(out.terms) == {t.key for t in get_loss_config("overall_loss_highpm_plus_rel_pose").terms}
    total = sum(out.weights[k] * v for k, v in out.terms.items())
    assert out["loss"].item() == pytest.approx(total.item(), rel=1e-6)
    assert out["world_points"].item() > 0
    assert set(out.as_dict()) == {"loss", *out.terms}
    assert all(math.isfinite(v) for v in out.log_values().values())


def test_pose_only_capture_skips_depth_terms_and_reports_them() -> None:
    views = make_views(num_views=2, synthetic=True)
    preds = perfect_predictions(views, metric_scale=1.0)
    for v in views:
        for key in DEPTH_LABELS:
            del v[key]
    for p in preds:
        p["cam_quats"] = p["cam_quats"].clone().requires_grad_()
    out = build_loss("overall_loss_highpm_plus_rel_pose")(preds, views)
    assert set(out.terms) == {"quats", "rays", "mask"}
    assert set(out.skipped) == {
        "world_points",
        "cam_points",
        "depth",
        "trans",
        "scale",
        "normal",
        "gradient_matching",
    }
    assert "valid_mask" in out.skipped["world_points"]
    out["loss"].backward()
    assert torch.isfinite(preds[1]["cam_quats"].grad).all()


def test_all_invalid_depth_is_skipped_not_zero() -> None:
    views = make_views(num_views=2)
    for v in views:
        v["valid_mask"][:] = False
    out = build_loss("vggt_loss")(perfect_predictions(views), views)
    assert "no valid GT pixels" in out.skipped["world_points"]
    assert "world_points" not in out.terms and "quats" in out.terms


def test_non_synthetic_batch_skips_surface_terms() -> None:
    views = make_views(synthetic=False)
    out = build_loss("vggt_loss")(perfect_predictions(views), views)
    assert out.skipped["normal"] == "no synthetic sample in the batch"


def test_nothing_computable_gives_a_zero_that_backpropagates() -> None:
    views = [{"img": v["img"], "is_synthetic": v["is_synthetic"]} for v in make_views()]
    preds = perfect_predictions(make_views())
    preds[0]["pts3d"].requires_grad_()
    loss = build_loss(LossConfig("pts", (TermSpec("world_points"),)))
    out = loss(preds, views)
    assert out["loss"].item() == 0.0 and set(out.skipped) == {"world_points"}
    out["loss"].backward()
    assert preds[0]["pts3d"].grad is not None


def test_confidence_term_hand_value() -> None:
    views = make_views(batch=1, num_views=1, height=4, width=5)  # 19 valid pixels
    preds = perfect_predictions(views)
    preds[0]["conf"] = torch.full((1, 4, 5), 2.0)
    out = build_loss(LossConfig("c", (TermSpec("world_points", 1.0, "conf"),)))(preds, views)
    assert out["world_points"].item() == pytest.approx(-0.2 * math.log(2.0), rel=1e-5)  # L = 0 everywhere


def test_mask_term_is_bce_over_all_pixels() -> None:
    views = make_views(num_views=2)
    preds = perfect_predictions(views)
    preds[1]["non_ambiguous_mask_logits"] = torch.full((2, 8, 10), 2.0)
    out = build_loss(LossConfig("m", (TermSpec("mask"),)))(preds, views)
    gt = views[1]["non_ambiguous_mask"].float()
    expected = math.log(2.0) + F.binary_cross_entropy_with_logits(torch.full((2, 8, 10), 2.0), gt).item()
    assert out["mask"].item() == pytest.approx(expected, rel=1e-5)


def test_missing_model_output_is_an_error() -> None:
    views = make_views()
    preds = perfect_predictions(views)
    with pytest.raises(MapaInputError, match="metric_scaling_factor"):
        build_loss("overall_loss")(preds, views)


def test_loss_is_fp32_under_bf16_autocast() -> None:
    views = make_views(synthetic=True)
    preds = [{k: v.bfloat16() for k, v in p.items()} for p in perfect_predictions(views, metric_scale=1.0)]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = build_loss("overall_loss_highpm_plus_rel_pose")(preds, views)
    assert out["loss"].dtype == torch.float32
    assert all(v.dtype == torch.float32 for v in out.terms.values())


def test_eval_variant_trims_instead_of_confidence() -> None:
    train = get_loss_config("overall_loss_highpm_plus_rel_pose")
    test = build_loss("overall_loss_highpm_plus_rel_pose", split="eval").config
    assert {t.key: t.reduction for t in train.terms}["world_points"] == "conf"
    assert {t.key: t.reduction for t in test.terms}["world_points"] == "trim"
    no_points = build_loss("no_points_loss", split="eval").config
    assert [t.key for t in no_points.terms if t.kind == "depth"] == ["depth"]  # counted once in eval


def test_named_configs_and_unknown_names() -> None:
    assert {"overall_loss_highpm_plus_rel_pose", "vggt_loss", "pi3_loss", "moge2_loss"} <= set(LOSS_CONFIGS)
    v11 = {t.key: t.weight for t in get_loss_config("overall_loss_highpm_plus_rel_pose").terms}
    assert v11 == {
        "world_points": 1.0, "cam_points": 0.1, "depth": 0.1, "rays": 0.1, "quats": 0.1, "trans": 0.1,
        "scale": 0.1, "normal": 0.3, "gradient_matching": 0.3, "mask": 0.03,
    }  # fmt: skip
    assert get_loss_config("no_points_loss").terms[0].key == "depth_conf"
    rows = {r["name"]: r for r in loss_table()}
    assert rows["moge2_loss"]["terms"] == {"world_points": 1.0, "normal": 3.0, "gradient_matching": 3.0}
    assert all(r["description"] for r in rows.values())
    with pytest.raises(MapaUnknownNameError, match="did you mean 'vggt_loss'"):
        build_loss("vgt_loss")
    with pytest.raises(MapaUnknownNameError, match="no terms"):
        build_loss("vggt_loss", weights={"scale": 1.0})
    assert {t.key: t.weight for t in build_loss("vggt_loss", weights={"normal": 1.0}).config.terms}[
        "normal"
    ] == 1.0


@pytest.mark.parametrize("name", sorted(LOSS_CONFIGS))
def test_perfect_prediction_leaves_only_the_normal_floor_and_mask(name: str) -> None:
    views = make_views(num_views=1 if name == "moge2_loss" else 2, synthetic=True)
    preds = perfect_predictions(views, scale=1.0, metric_scale=1.0)
    leaves = [
        p[k].requires_grad_() for p in preds for k in ("pts3d", "pts3d_cam", "depth_along_ray", "cam_quats")
    ]
    out = build_loss(name)(preds, views)
    assert out.skipped == {}
    for key, value in out.terms.items():
        if key not in ("normal", "mask"):
            assert value.item() == pytest.approx(0.0, abs=1e-5), key
    expected = sum(out.weights[k] * out.terms[k] for k in ("normal", "mask") if k in out.terms)
    assert out["loss"].item() == pytest.approx(float(expected.detach()), rel=1e-6)
    out["loss"].backward()
    assert all(leaf.grad is None or torch.isfinite(leaf.grad).all() for leaf in leaves)


def test_entangled_metric_compares_metric_samples_in_metres() -> None:
    views = make_views(batch=2, num_views=2)
    views[0]["is_metric_scale"][1] = False
    preds = perfect_predictions(views, scale=2.0)  # twice too large: wrong in metres, right up to scale
    entangled = build_loss(
        LossConfig("e", (TermSpec("world_points"),), get_loss_config("entangled_metric_loss").geometry)
    )
    out = entangled(preds, views)
    assert out.details["world_points/view0"].item() > 1e-2
    views[0]["is_metric_scale"][0] = False  # no metric sample left: scale-invariant again
    assert entangled(preds, views)["world_points"].item() == pytest.approx(0.0, abs=1e-5)
