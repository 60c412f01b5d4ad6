"""MapAnything tiny configs: forward + backward over view counts and aspect ratios, output conventions, ablations."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from mapa_train.errors import MapaInputError
from mapa_train.models.blocks.multiview_transformer import MultiViewTransformerConfig
from mapa_train.models.mapanything.config import PredHeadConfig, mapanything_tiny
from mapa_train.models.mapanything.model import MapAnything
from mapa_train.models.mapanything.representation import compose_outputs
from mapa_train.models.mapanything.task import get_task
from tests.mapa_train.models.conftest import make_views

KEYS = {
    "pts3d", "pts3d_cam", "ray_directions", "depth_along_ray", "cam_trans", "cam_quats", "conf",
    "non_ambiguous_mask", "non_ambiguous_mask_logits", "metric_scaling_factor",
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> MapAnything:
    torch.manual_seed(0)
    return MapAnything(mapanything_tiny())


@pytest.mark.parametrize(("num_views", "height", "width"), [(1, 42, 56), (2, 56, 42), (4, 28, 70)])
def test_forward_backward_shapes_and_conventions(
    tiny: MapAnything, num_views: int, height: int, width: int
) -> None:
    torch.manual_seed(1)
    views = make_views(num_views, batch=2, height=height, width=width)
    out = tiny(views, task=get_task("aug_training"))
    assert len(out) == num_views
    for o in out:
        assert set(o) == KEYS
        assert tuple(o["pts3d"].shape) == (2, height, width, 3)
        assert tuple(o["depth_along_ray"].shape) == (2, height, width, 1)
        assert tuple(o["conf"].shape) == (2, height, width)
        assert o["non_ambiguous_mask"].dtype == torch.bool
        assert tuple(o["cam_quats"].shape) == (2, 4) and tuple(o["metric_scaling_factor"].shape) == (2, 1)
        torch.testing.assert_close(o["ray_directions"].norm(dim=-1), torch.ones(2, height, width))
        torch.testing.assert_close(o["cam_quats"].norm(dim=-1), torch.ones(2))
        assert bool((o["depth_along_ray"] > 0).all()) and bool((o["conf"] >= 1).all())
        assert bool((o["metric_scaling_factor"] > 0).all())
    loss = sum(
        o["pts3d"].square().mean() + o["conf"].mean() + o["non_ambiguous_mask_logits"].mean() for o in out
    )
    tiny.zero_grad()
    loss.backward()
    grads = {n: p.grad for n, p in tiny.named_parameters()}
    assert grads["encoder.model.patch_embed.proj.weight"].abs().sum() > 0
    assert grads["scale_token"].abs().sum() > 0
    assert grads["info_sharing.self_attention_blocks.0.attn.qkv.weight"].abs().sum() > 0


def test_pass_through_feeds_every_encoder(tiny: MapAnything) -> None:
    torch.manual_seed(2)
    views = make_views(3)
    out = tiny(views, task=get_task("pass_through"))
    sum(o["pts3d"].sum() for o in out).backward()
    for name in (
        "ray_dirs_encoder.conv_in.weight",
        "depth_encoder.conv_in.weight",
        "cam_rot_encoder.norm_layer.bias",
    ):
        assert tiny.get_parameter(name).grad.abs().sum() > 0, name
    assert tiny.get_parameter("depth_scale_encoder.norm_layer.bias").grad.abs().sum() > 0


def test_images_only_ignores_geometric_inputs(tiny: MapAnything) -> None:
    torch.manual_seed(3)
    views = make_views(2)
    bare = [{"img": v["img"]} for v in views]
    with torch.no_grad():
        a = tiny(views, task=get_task("images_only"))
        b = tiny(bare, task=get_task("images_only"))
        c = tiny(views, task=get_task("pass_through"))
    torch.testing.assert_close(a[1]["pts3d"], b[1]["pts3d"])
    assert not torch.allclose(a[1]["pts3d"], c[1]["pts3d"])


def test_missing_pose_on_other_view_and_missing_metric_flag(tiny: MapAnything) -> None:
    torch.manual_seed(4)
    views = make_views(3, metric=None)
    del views[1]["camera_pose_quats"], views[1]["camera_pose_trans"]
    out = tiny(views, task=get_task("pass_through"))
    assert torch.isfinite(out[1]["pts3d"]).all()


def test_view0_without_pose_is_a_clear_error(tiny: MapAnything) -> None:
    views = make_views(2)
    del views[0]["camera_pose_quats"]
    with pytest.raises(MapaInputError, match="view 0 lacks camera_pose"):
        tiny(views, task=get_task("pass_through"))


def test_bad_image_sizes_are_reported(tiny: MapAnything) -> None:
    views = make_views(2)
    views[1]["img"] = torch.randn(2, 3, 56, 56)
    with pytest.raises(MapaInputError, match="view 1 image shape"):
        tiny(views)


def test_world_points_of_identity_pose_equal_camera_points() -> None:
    torch.manual_seed(5)
    dense = torch.randn(2, 6, 4, 5)
    pose = torch.zeros(2, 7)
    pose[:, 6] = 3.0  # quaternion (0, 0, 0, w) -> identity after normalisation
    out = compose_outputs(
        "raydirs_depth_pose_confidence_mask_scale", dense, pose, torch.full((1, 1), 2.0), num_views=2
    )
    torch.testing.assert_close(out[0]["pts3d"], out[0]["pts3d_cam"])
    torch.testing.assert_close(out[0]["depth_along_ray"], 2.0 * torch.exp(dense[:1, 3:4].permute(0, 2, 3, 1)))


def _tiny_variant(**changes) -> MapAnything:
    return MapAnything(replace(mapanything_tiny(), **changes))


@pytest.mark.parametrize(
    "variant",
    [
        {
            "pred_head": PredHeadConfig(
                feature_dim=16, layer_dims=(8, 16, 24, 32), pose_width=32,
                adaptor="raydirs_depth_pose_confidence_mask",
            )
        },
        {"use_register_tokens_from_encoder": False},
        {"info_sharing": MultiViewTransformerConfig(dim=32, depth=4, num_heads=2, ffn="mlp", indices=(1, 2))},
        {"info_sharing": MultiViewTransformerConfig(dim=32, depth=4, num_heads=2, indices=(0, 1, 2))},
        {
            "info_sharing": MultiViewTransformerConfig(
                dim=64, depth=2, num_heads=2, indices=(0, 1), attention="global",
                use_pe_for_non_reference_views=True, use_rand_idx_pe_for_non_reference_views=True,
            )
        },
    ],
    ids=["no_scale", "no_cls", "gelu_mlp", "three_taps", "global_attention"],
)  # fmt: skip
def test_ablation_variants_run(variant: dict) -> None:
    torch.manual_seed(6)
    model = _tiny_variant(**variant)
    out = model(make_views(2), task=get_task("aug_training"))
    assert ("metric_scaling_factor" in out[0]) == model.config.representation.scale
    sum(o["pts3d"].mean() for o in out).backward()
    if "info_sharing" in variant and variant["info_sharing"].dim == 64:
        assert "proj_embed.weight" not in model.info_sharing.state_dict()


@pytest.mark.parametrize("missing", [0, 1])
def test_a_view_without_img_is_named_before_any_image_is_read(tiny: MapAnything, missing: int) -> None:
    views = make_views(2)
    del views[missing]["img"]
    with pytest.raises(MapaInputError, match=f"view {missing} has no 'img'"):
        tiny(views)
