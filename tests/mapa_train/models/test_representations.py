"""MapAnything's output representations (`pred_head.adaptor`): heads and channels per representation, the output
dict each produces, the composition identities, the pointmap modes on hand-made values, and the DPT key layout."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.errors import MapaConfigError
from mapa_train.models import build_model
from mapa_train.models.blocks import adaptors
from mapa_train.models.geometry import quat_to_rotmat
from mapa_train.models.key_mapping import map_mapanything_state_dict, mapanything_to_reference_layout
from mapa_train.models.mapanything.representation import REPRESENTATIONS, compose_outputs
from mapa_train.models.registry import count_parameters
from tests.mapa_train.models.conftest import make_views

EXPECTED_CHANNELS = {
    "raydirs_depth_pose_confidence_mask_scale": 6,
    "raydirs_depth_pose_confidence_mask": 6,
    "campointmap_pose_confidence_mask_scale": 5,
    "campointmap_pose_confidence_mask": 5,
    "pointmap_confidence_mask_scale": 5,
    "pointmap_confidence_mask": 5,
    "pointmap_confidence_scale": 4,
    "pointmap_confidence": 4,
}
POSED = {"pts3d", "pts3d_cam", "ray_directions", "depth_along_ray", "cam_trans", "cam_quats", "conf"}
MASK = {"non_ambiguous_mask", "non_ambiguous_mask_logits"}


def tiny(adaptor: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("mapanything_tiny", {"pred_head.adaptor": adaptor})


def test_the_table_covers_the_reference_adaptors() -> None:
    assert set(REPRESENTATIONS) == set(EXPECTED_CHANNELS)


@pytest.mark.parametrize("adaptor", sorted(EXPECTED_CHANNELS))
def test_forward_shapes_heads_and_gradients(adaptor: str) -> None:
    model = tiny(adaptor)
    pose = not adaptor.startswith("pointmap")
    scale = adaptor.endswith("_scale")
    mask = "_mask" in adaptor
    assert model.dpt_regressor_head.conv2[2].out_channels == EXPECTED_CHANNELS[adaptor]
    assert hasattr(model, "pose_head") == pose
    assert hasattr(model, "scale_head") == scale and hasattr(model, "scale_token") == scale
    expected = (POSED if pose else {"pts3d", "conf"}) | (MASK if mask else set())
    expected |= {"metric_scaling_factor"} if scale else set()
    assert model.output_keys == expected

    torch.manual_seed(1)
    out = model(make_views(2, batch=2, height=28, width=42))
    assert len(out) == 2
    for o in out:
        assert set(o) == expected
        assert tuple(o["pts3d"].shape) == (2, 28, 42, 3)
        assert tuple(o["conf"].shape) == (2, 28, 42) and bool((o["conf"] >= 1).all())
        if pose:
            assert tuple(o["pts3d_cam"].shape) == (2, 28, 42, 3)
            assert tuple(o["depth_along_ray"].shape) == (2, 28, 42, 1)
            assert tuple(o["cam_trans"].shape) == (2, 3) and tuple(o["cam_quats"].shape) == (2, 4)
            torch.testing.assert_close(o["ray_directions"].norm(dim=-1), torch.ones(2, 28, 42))
        if mask:
            assert o["non_ambiguous_mask"].dtype == torch.bool
            assert tuple(o["non_ambiguous_mask_logits"].shape) == (2, 28, 42)
        if scale:
            assert tuple(o["metric_scaling_factor"].shape) == (2, 1)
    loss = sum(o["pts3d"].square().mean() + o["conf"].mean() for o in out)
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert grads["dpt_regressor_head.conv2.2.weight"].abs().sum() > 0
    if pose:
        assert grads["pose_head.fc_t.weight"].abs().sum() > 0
    if scale:
        assert grads["scale_head.output_proj.weight"].abs().sum() > 0


@pytest.mark.parametrize(
    "adaptor", ["campointmap_pose_confidence_mask", "campointmap_pose_confidence_mask_scale"]
)
def test_campointmap_composition_identities(adaptor: str) -> None:
    model = tiny(adaptor)
    torch.manual_seed(2)
    with torch.no_grad():
        out = model(make_views(3, batch=2, height=28, width=42))
    for o in out:
        torch.testing.assert_close(o["pts3d_cam"], o["ray_directions"] * o["depth_along_ray"])
        torch.testing.assert_close(o["depth_along_ray"], o["pts3d_cam"].norm(dim=-1, keepdim=True))
        rot = quat_to_rotmat(o["cam_quats"])
        world = torch.einsum("bij,bhwj->bhwi", rot, o["pts3d_cam"]) + o["cam_trans"][:, None, None, :]
        torch.testing.assert_close(o["pts3d"], world, atol=1e-5, rtol=1e-5)
        assert bool((o["pts3d_cam"][..., 2] > 0).all())  # z = exp(c_z): in front of the camera


def test_pointmap_exp_mode_inverts_on_hand_made_points() -> None:
    points = torch.tensor([[[[4.0, 0.0, 0.0], [1.0, -2.0, 2.0]]]])  # (1, 1, 2, 3), norms 4 and 3
    raw = points / points.norm(dim=-1, keepdim=True) * torch.log1p(points.norm(dim=-1, keepdim=True))
    torch.testing.assert_close(adaptors.pointmap(raw, "exp"), points)
    conf_raw = torch.tensor([0.0, math.log(2.0)]).reshape(1, 1, 2, 1)
    dense = torch.cat([raw, conf_raw, torch.tensor([3.0, -3.0]).reshape(1, 1, 2, 1)], dim=-1)
    metric = torch.tensor([[2.5]])
    out = compose_outputs("pointmap_confidence_mask_scale", dense.permute(0, 3, 1, 2), None, metric, 1)[0]
    torch.testing.assert_close(out["pts3d"], 2.5 * points)
    torch.testing.assert_close(out["conf"], torch.tensor([[[2.0, 3.0]]]))
    assert out["non_ambiguous_mask"].tolist() == [[[True, False]]]
    assert set(out) == {
        "pts3d",
        "conf",
        "non_ambiguous_mask",
        "non_ambiguous_mask_logits",
        "metric_scaling_factor",
    }


def test_campointmap_z_exp_on_a_hand_made_tensor() -> None:
    raw = torch.tensor([1.0, -2.0, math.log(3.0)]).reshape(1, 1, 1, 3)
    torch.testing.assert_close(
        adaptors.pointmap(raw, "z_exp"), torch.tensor([3.0, -6.0, 3.0]).reshape(1, 1, 1, 3)
    )
    dense = torch.cat([raw, torch.zeros(1, 1, 1, 2)], dim=-1).permute(0, 3, 1, 2)  # conf and mask logit 0
    pose = torch.tensor([[1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 5.0]])  # translation (1, 2, 3), identity rotation
    out = compose_outputs("campointmap_pose_confidence_mask", dense, pose, None, 1)[0]
    cam = torch.tensor([3.0, -6.0, 3.0])
    torch.testing.assert_close(out["pts3d_cam"].reshape(3), cam)
    torch.testing.assert_close(out["depth_along_ray"].reshape(()), cam.norm())
    torch.testing.assert_close(out["ray_directions"].reshape(3), cam / cam.norm())
    torch.testing.assert_close(out["pts3d"].reshape(3), cam + torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(out["cam_quats"], torch.tensor([[0.0, 0.0, 0.0, 1.0]]))


def test_composition_refuses_inputs_that_do_not_match_the_representation() -> None:
    dense = torch.zeros(2, 5, 3, 4)
    with pytest.raises(MapaConfigError, match="reads 6 regressor channels, got 5"):
        compose_outputs("raydirs_depth_pose_confidence_mask", dense, torch.zeros(2, 7), None, 2)
    with pytest.raises(MapaConfigError, match="has no pose-head output"):
        compose_outputs("pointmap_confidence_mask", dense, torch.zeros(2, 7), None, 2)
    with pytest.raises(MapaConfigError, match="needs metric scale"):
        compose_outputs("campointmap_pose_confidence_mask_scale", dense, torch.zeros(2, 7), None, 2)


def test_unknown_adaptor_is_a_config_error_listing_the_known_ones() -> None:
    with pytest.raises(
        MapaConfigError, match="unknown output representation 'pointmap_conf'.*pointmap_confidence"
    ):
        build_model("mapanything_tiny", {"pred_head.adaptor": "pointmap_conf"})


@pytest.mark.parametrize("adaptor", ["campointmap_pose_confidence_mask", "pointmap_confidence"])
def test_reference_layout_round_trip_keeps_the_regressor_width(adaptor: str) -> None:
    model = tiny(adaptor)
    official = mapanything_to_reference_layout(model.state_dict())
    half = model.config.pred_head.feature_dim // 2
    assert tuple(official["dense_head.1.conv2.2.weight"].shape) == (EXPECTED_CHANNELS[adaptor], half, 1, 1)
    assert tuple(official["dpt_regressor_head.conv2.2.bias"].shape) == (EXPECTED_CHANNELS[adaptor],)
    assert any(k.startswith("pose_head.") for k in official) == adaptor.startswith("campointmap")
    fresh = tiny(adaptor)
    torch.nn.init.zeros_(fresh.dpt_regressor_head.conv2[2].weight)
    fresh.load_state_dict(map_mapanything_state_dict(official), strict=True)
    torch.testing.assert_close(
        fresh.dpt_regressor_head.conv2[2].weight, model.dpt_regressor_head.conv2[2].weight
    )


def test_full_size_ablation_parameter_counts_differ_by_the_heads() -> None:
    def count(adaptor: str) -> int:
        return count_parameters(
            build_model("mapanything_ablations", {"pred_head.adaptor": adaptor}, device="meta")
        )

    rdp = count("raydirs_depth_pose_confidence_mask")
    campm = count("campointmap_pose_confidence_mask")
    pm = count("pointmap_confidence_mask")
    assert rdp - campm == 128 + 1  # one fewer regressor output channel (128 -> 1 conv weight and bias)
    pose_head = count_parameters(build_model("mapanything_ablations", device="meta").pose_head)
    assert campm - pm == pose_head
    with_scale = count("campointmap_pose_confidence_mask_scale")
    full = count_parameters(build_model("mapanything_v1", device="meta"))
    assert full - with_scale == rdp - campm  # V1's scale token and head are the only other difference


def test_save_and_load_pretrained_keeps_the_representation(tmp_path) -> None:
    from mapa_train.models.weights import load_pretrained, save_pretrained

    model = tiny("campointmap_pose_confidence_mask")
    save_pretrained(model, tmp_path / "m")
    loaded = load_pretrained(tmp_path / "m")
    assert loaded.config.pred_head.adaptor == "campointmap_pose_confidence_mask"
    assert loaded.output_keys == model.output_keys
    torch.manual_seed(3)
    views = make_views(2, batch=1, height=28, width=28)
    with torch.no_grad():
        torch.testing.assert_close(loaded(views)[1]["pts3d"], model(views)[1]["pts3d"])
