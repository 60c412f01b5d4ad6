"""Each term on a known scene: zero where the term is invariant (rigid transform and scale of the prediction),
and the hand-computed value for a known perturbation."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.losses import GeometrySettings, LossConfig, TermSpec, build_loss
from mapa_train.losses.terms.surface import gradient_matching_loss
from tests.mapa_train.losses.scene import make_views, perfect_predictions, random_quats
from tests.mapa_train.losses.test_building_blocks import rho

GEOMETRY_TERMS = ("world_points", "cam_points", "depth", "rays", "quats", "trans")


def one_term(kind: str, reduction: str = "mean", **config) -> LossConfig:
    geometry = config.pop("geometry", GeometrySettings())
    return LossConfig("test", (TermSpec(kind, 1.0, reduction),), geometry, **config)


def gt_factor(views) -> torch.Tensor:
    """avg-dis of the GT points in view 0's frame, computed independently: distances to camera 0's centre."""
    t0 = views[0]["camera_pose_trans"]
    dists = [((v["pts3d"] - t0[:, None, None]).norm(dim=-1), v["valid_mask"]) for v in views]
    return torch.stack([sum((d * m).sum((1, 2)) for d, m in dists) / sum(m.sum((1, 2)) for _, m in dists)])[0]


@pytest.mark.parametrize("kind", GEOMETRY_TERMS)
@pytest.mark.parametrize("relative", [False, True])
def test_scaled_prediction_gives_zero(kind: str, relative: bool) -> None:
    views = make_views(batch=2, num_views=3)
    out = build_loss(one_term(kind, relative_pose=relative))(perfect_predictions(views, scale=2.5), views)
    assert out.skipped == {}
    assert out[kind].item() == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("kind", GEOMETRY_TERMS)
def test_prediction_in_arbitrary_frame_gives_zero_when_reexpressed(kind: str) -> None:
    views = make_views(batch=2, num_views=3, seed=3)
    gen = torch.Generator().manual_seed(7)
    frame = (random_quats(2, gen), torch.randn(2, 3, generator=gen))
    preds = perfect_predictions(views, scale=0.4, frame=frame)
    geometry = GeometrySettings(predictions_to_view0=True)
    moved = build_loss(one_term(kind, relative_pose=True, geometry=geometry))(preds, views)
    assert moved[kind].item() == pytest.approx(0.0, abs=1e-5)
    if kind in ("world_points", "quats", "trans"):  # without re-expression the frame shows
        plain = build_loss(one_term(kind, relative_pose=False))(preds, views)
        assert plain[kind].item() > 1e-2


def test_metric_scale_divided_out_of_geometry() -> None:
    views = make_views()
    preds = perfect_predictions(views, scale=1.0, metric_scale=3.0)
    for kind in ("world_points", "depth", "trans"):
        assert build_loss(one_term(kind))(preds, views)[kind].item() == pytest.approx(0.0, abs=1e-5)


def test_rays_offset_hand_value() -> None:
    views = make_views(num_views=2)
    preds = perfect_predictions(views)
    preds[1]["ray_directions"] = preds[1]["ray_directions"] + torch.tensor([0.05, 0.0, 0.0])
    out = build_loss(one_term("rays"))(preds, views)
    assert out["rays"].item() == pytest.approx(rho(1.0), rel=1e-4)  # every pixel of view 1, none of view 0
    assert out.details["rays/view0"].item() == pytest.approx(0.0, abs=1e-6)


def test_depth_perturbation_hand_value_and_trimming() -> None:
    views = make_views(batch=1, num_views=1, height=5, width=6)  # 29 valid pixels
    preds = perfect_predictions(views, scale=2.0)
    delta = 0.3
    preds[0]["depth_along_ray"][0, 2, 3, 0] += 2.0 * delta  # pts3d untouched, so the factors are unchanged
    f = gt_factor(views).item()
    d = views[0]["depth_along_ray"][0, 2, 3, 0].item()
    e = ((math.log1p((d + delta) / f) - math.log1p(d / f)) / 0.05) ** 2
    mean = build_loss(one_term("depth"))(preds, views)["depth"].item()
    assert mean == pytest.approx(rho(e) / 29, rel=1e-4)
    # real sample: floor(0.95·29) = 27 lowest kept, the perturbed pixel is dropped
    assert build_loss(one_term("depth", "trim"))(preds, views)["depth"].item() == pytest.approx(0.0, abs=1e-6)
    views[0]["is_synthetic"][:] = True  # synthetic samples are not trimmed
    assert build_loss(one_term("depth", "trim"))(preds, views)["depth"].item() == pytest.approx(
        rho(e) / 29, rel=1e-4
    )


def test_depth_z_and_no_log() -> None:
    views = make_views(batch=1, num_views=1, height=4, width=5)
    preds = perfect_predictions(views)
    preds[0]["depth_z"][0, 1, 1, 0] += 0.1
    geometry = GeometrySettings(depth_type="depth_z", loss_in_log=False)
    e = (0.1 / gt_factor(views).item() / 0.05) ** 2
    assert build_loss(one_term("depth", geometry=geometry))(preds, views)["depth"].item() == pytest.approx(
        rho(e) / 19, rel=1e-4
    )


def test_quaternion_sign_ambiguity() -> None:
    views = make_views(num_views=3)
    preds = perfect_predictions(views)
    for p in preds:
        p["cam_quats"] = -p["cam_quats"]
    out = build_loss(one_term("quats", relative_pose=True))(preds, views)
    assert out["quats"].item() == pytest.approx(0.0, abs=1e-5)


def test_quaternion_perturbation_hand_value() -> None:
    views = make_views(batch=1, num_views=1)
    preds = perfect_predictions(views)  # view 0's predicted rotation is the identity (0, 0, 0, 1)
    preds[0]["cam_quats"] = torch.tensor([[0.05, 0.0, 0.0, 1.0]])
    assert build_loss(one_term("quats"))(preds, views)["quats"].item() == pytest.approx(rho(1.0), rel=1e-5)


def test_translation_perturbation_hand_value() -> None:
    views = make_views(batch=1, num_views=2)
    preds = perfect_predictions(views, scale=2.0)
    delta = torch.tensor([[0.0, 0.02, 0.0]])
    preds[1]["cam_trans"] = preds[1]["cam_trans"] + 2.0 * delta
    f = gt_factor(views).item()
    e = (0.02 / f / 0.05) ** 2
    absolute = build_loss(one_term("trans"))(preds, views)
    assert absolute["trans"].item() == pytest.approx(rho(e), rel=1e-4)  # view 1's one entry
    # relative entries: for view 0, the pose of 1 in 0's frame (off by delta), for view 1, the pose of 0 in
    # 1's frame, off by R1ᵀ·delta (same length): each view averages its abs and rel entries
    both = build_loss(one_term("trans", relative_pose=True))(preds, views)
    assert both["trans"].item() == pytest.approx(rho(e) / 2 + rho(e), rel=1e-4)


def test_scale_term_hand_value() -> None:
    views = make_views(batch=2, num_views=2)
    views[0]["is_metric_scale"][1] = False  # only sample 0 is metric
    preds = perfect_predictions(views, scale=1.0, metric_scale=1.5)
    f = gt_factor(views)[0].item()
    e = ((math.log1p(1.5 * f) - math.log1p(f)) / 0.05) ** 2
    scale = preds[0]["metric_scaling_factor"].requires_grad_()
    points = [p["pts3d"].requires_grad_() for p in preds]
    out = build_loss(one_term("scale"))(preds, views)
    assert out["scale"].item() == pytest.approx(rho(e), rel=1e-4)
    out["loss"].backward()  # the gradient reaches only the metric scale, of the metric sample
    assert all(p.grad is None for p in points)
    assert scale.grad[0, 0] > 0 and scale.grad[1, 0] == 0


def test_gradient_matching_hand_value() -> None:
    gt = torch.zeros(1, 4, 4)
    pred = gt.clone()
    pred[0, 1, 1] = 0.5  # in 2 x-differences and 2 y-differences at stride 1; not sampled at strides 2, 4, 8
    mask = torch.ones(1, 4, 4, dtype=torch.bool)
    assert gradient_matching_loss(pred, gt, mask).item() == pytest.approx(4 * 0.5 / 16)
    assert gradient_matching_loss(pred + 3.0, gt, mask).item() == pytest.approx(4 * 0.5 / 16)  # offset-free


def test_surface_terms_invariant_and_normal_floor() -> None:
    views = make_views(batch=1, num_views=2, height=4, width=5, synthetic=True)
    preds = perfect_predictions(views, scale=3.0)
    gm = build_loss(one_term("gradient_matching"))(preds, views)
    assert gm["gradient_matching"].item() == pytest.approx(0.0, abs=1e-5)
    normal = build_loss(one_term("normal"))(preds, views)
    # exact normals still cost the 1° floor: 0.5·(1°)²/3° per valid triangle; pixel (0, 0) is invalid, which
    # removes 3 of the 4 triangles of the first quad: 12 quads·4 − 3 = 45 triangles, 19 valid pixels per view
    floor = 0.5 * math.radians(1) ** 2 / math.radians(3)
    assert normal["normal"].item() == pytest.approx(2 * 45 * floor / (19 * 4 * 5), rel=1e-4)
