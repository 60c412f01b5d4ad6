"""What VGGT, π³ and MoGe-2 share: the common output dict and its conventions, gradient checkpointing, the
reference's override keys, saving and loading, published parameter counts and official key layouts."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from mapa_train.errors import MapaCheckpointError, MapaInputError
from mapa_train.models.pretrained import load_official_checkpoint
from mapa_train.models.registry import MODELS, build_model, count_parameters
from mapa_train.models.weights import load_pretrained, save_pretrained
from tests.mapa_train.models.official_layouts import moge2_keys, pi3_keys, vggt_keys

COMMON = {"pts3d", "pts3d_cam", "ray_directions", "depth_along_ray", "depth_z", "cam_trans", "cam_quats"}
# every registered tiny variant outside MapAnything (whose own tests are in test_mapanything.py)
TINY = sorted(n for n, e in MODELS.items() if e.variant == "tiny" and e.family != "mapanything")
MUST_LEARN = {  # one parameter per part that the wrapper's outputs depend on
    "vggt_tiny": [
        "aggregator.patch_embed.patch_embed.proj.weight",
        "aggregator.camera_token",
        "aggregator.frame_blocks.0.attn.q_norm.weight",
        "aggregator.global_blocks.1.mlp.fc2.weight",
        "camera_head.pose_branch.fc2.weight",
        "depth_head.projects.0.weight",
        "depth_head.scratch.output_conv2.2.weight",
    ],
    "pi3_tiny": [
        "encoder.patch_embed.proj.weight",
        "register_token",
        "decoder.0.attn.qkv.weight",
        "decoder.3.ls2.gamma",
        "point_decoder.projects.weight",
        "point_head.proj.weight",
        "conf_head.proj.weight",
        "camera_head.fc_rot.weight",
    ],
    "moge2_tiny": [
        "encoder.backbone.patch_embed.proj.weight",
        "encoder.output_projections.0.weight",
        "neck.input_blocks.0.weight",
        "points_head.output_blocks.4.weight",
        "mask_head.output_blocks.4.weight",
        "scale_head.4.weight",
    ],
}
CASES = [  # (model, views, batch, height, width)
    ("vggt_tiny", 1, 2, 42, 56),
    ("vggt_tiny", 2, 1, 56, 42),
    ("vggt_tiny", 4, 1, 28, 70),
    ("pi3_tiny", 1, 2, 42, 56),
    ("pi3_tiny", 2, 1, 56, 42),
    ("pi3_tiny", 4, 1, 28, 70),
    ("moge2_tiny", 1, 3, 42, 56),
    ("moge2_tiny", 1, 2, 70, 28),
]


def images(num_views: int, batch: int, height: int, width: int) -> list[dict]:
    return [{"img": torch.rand(batch, 3, height, width)} for _ in range(num_views)]


def loss_of(outputs: list[dict]) -> torch.Tensor:
    total = torch.zeros(())
    for o in outputs:
        total = total + o["pts3d"].square().mean() + o["depth_along_ray"].mean() + o["cam_trans"].sum()
        if "conf" in o:
            total = total + o["conf"].mean()
        if "non_ambiguous_mask_logits" in o:
            total = total + o["non_ambiguous_mask_logits"].mean()
    return total


@pytest.fixture(scope="module")
def tiny_models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {name: build_model(name) for name in TINY}


@pytest.mark.parametrize(("name", "num_views", "batch", "height", "width"), CASES)
def test_forward_backward_and_output_conventions(tiny_models, name, num_views, batch, height, width) -> None:
    model = tiny_models[name]
    torch.manual_seed(1)
    out = model(images(num_views, batch, height, width))
    assert len(out) == num_views
    for o in out:
        assert COMMON <= set(o)
        for key in ("pts3d", "pts3d_cam", "ray_directions"):
            assert tuple(o[key].shape) == (batch, height, width, 3), key
        assert tuple(o["depth_along_ray"].shape) == (batch, height, width, 1)
        assert tuple(o["cam_trans"].shape) == (batch, 3) and tuple(o["cam_quats"].shape) == (batch, 4)
        torch.testing.assert_close(o["ray_directions"].norm(dim=-1), torch.ones(batch, height, width))
        torch.testing.assert_close(o["cam_quats"].norm(dim=-1), torch.ones(batch))
        assert bool((o["depth_along_ray"] >= 0).all())
        # points are rays times range, in the camera frame
        torch.testing.assert_close(
            o["pts3d_cam"], o["ray_directions"] * o["depth_along_ray"], atol=1e-5, rtol=1e-4
        )
        if "conf" in o:
            assert tuple(o["conf"].shape) == (batch, height, width) and bool((o["conf"] > 0).all())
        assert all(torch.isfinite(v).all() for v in o.values() if v.dtype.is_floating_point)
    model.zero_grad()
    loss_of(out).backward()
    params = dict(model.named_parameters())
    for key in MUST_LEARN[name]:
        assert params[key].grad is not None and bool(params[key].grad.abs().sum() > 0), key


def _grads(model: torch.nn.Module, views: list[dict]) -> dict[str, torch.Tensor]:
    model.zero_grad()
    loss_of(model(views)).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("name", TINY)
def test_gradient_checkpointing_gives_equal_gradients(tiny_models, name: str) -> None:
    model = tiny_models[name]
    views = images(1 if name.startswith("moge2") else 3, 2, 42, 56)
    model.set_gradient_checkpointing(encoder=False, info_sharing=False, pred_head=False)
    plain = _grads(model, views)
    model.set_gradient_checkpointing(encoder=True, info_sharing=True, pred_head=True)
    checkpointed = _grads(model, views)
    model.set_gradient_checkpointing(encoder=False, info_sharing=False, pred_head=False)
    assert plain.keys() == checkpointed.keys()
    for key, grad in plain.items():
        torch.testing.assert_close(checkpointed[key], grad, atol=1e-6, rtol=1e-5, msg=key)


@pytest.mark.parametrize("name", ["vggt_tiny", "pi3_tiny"])
def test_reference_override_keys_switch_checkpointing(name: str) -> None:
    model = build_model(
        name,
        {
            "model.encoder.gradient_checkpointing": True,
            "model.info_sharing.module_args.gradient_checkpointing": True,
            "model.pred_head.gradient_checkpointing": True,
        },
    )
    assert model.config.encoder.gradient_checkpointing and model.config.info_sharing.gradient_checkpointing
    assert model.config.pred_head.gradient_checkpointing


@pytest.mark.parametrize("name", TINY)
def test_save_and_load_round_trip(tmp_path, name: str) -> None:
    torch.manual_seed(0)
    model = build_model(name)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    save_pretrained(model, tmp_path / name)
    loaded = load_pretrained(tmp_path / name)
    assert loaded.config == model.config
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, atol=0, rtol=0)
    views = images(1 if name.startswith("moge2") else 2, 1, 28, 42)
    with torch.no_grad():
        torch.testing.assert_close(loaded(views)[0]["pts3d"], model(views)[0]["pts3d"])


@pytest.mark.parametrize(
    ("name", "params", "keys"),
    [
        ("vggt", 1_256_537_516, vggt_keys(24, 24, 4, track_depth=6)),
        ("pi3", 958_696_732, pi3_keys(24, 36, 5)),
        ("moge2_vitl", 326_209_221, moge2_keys(24, [0, 2, 2, 2, 0], [0, 1, 1, 1, 0], normal_head=False)),
        (
            "moge2_vitl_normal",
            330_901_544,
            moge2_keys(24, [0, 2, 2, 2, 0], [0, 1, 1, 1, 0], normal_head=True),
        ),
    ],
)
def test_full_models_match_published_counts_and_layouts(name: str, params: int, keys: list[str]) -> None:
    model = build_model(name, device="meta")
    assert count_parameters(model) == params
    assert sorted(model.state_dict()) == sorted(keys)


def test_published_key_counts() -> None:
    assert len(pi3_keys(24, 36, 5)) == 1210  # spec: 1,210 keys
    assert len(moge2_keys(24, [0, 2, 2, 2, 0], [0, 1, 1, 1, 0], normal_head=False)) == 483  # spec: 483 keys


def _official(name: str, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A random state dict under the documented official names, shaped like `model`'s tensors."""
    cfg = model.config
    if name == "vggt_tiny":
        head = cfg.pred_head
        keys = vggt_keys(
            cfg.encoder.depth, cfg.info_sharing.depth, head.camera_trunk_depth, True, head.track.depth
        )
    elif name == "pi3_tiny":
        keys = pi3_keys(cfg.encoder.depth, cfg.info_sharing.depth, cfg.pred_head.depth)
    else:
        head = cfg.pred_head
        keys = moge2_keys(
            cfg.encoder.depth,
            list(head.neck_res_blocks),
            list(head.head_res_blocks),
            True,
            taps=len(cfg.intermediate_layers),
        )
    own = model.state_dict()
    return {k: torch.randn_like(own[k]) for k in keys}


@pytest.mark.parametrize("name", TINY)
def test_official_layout_fills_every_parameter(tmp_path, name: str) -> None:
    model = build_model(name)
    official = _official(name, model)
    if name == "vggt_tiny":
        path = tmp_path / "model.safetensors"
        save_file(official, str(path))
    elif name == "pi3_tiny":
        path = tmp_path / "model.safetensors"
        save_file({f"module.{k}": v for k, v in official.items()}, str(path))  # DDP-prefixed copy
    else:  # MoGe's model.pt: constructor kwargs + state dict, buffers and mask_token possibly absent
        for key in ("encoder.image_mean", "encoder.image_std", "encoder.backbone.mask_token"):
            del official[key]
        path = tmp_path / "model.pt"
        torch.save({"model_config": {"encoder": {"backbone": "dinov2_vitl14"}}, "model": official}, path)
    report = load_official_checkpoint(model, path, strict=True)
    assert report.ok and len(report.loaded) == len(model.state_dict())
    state = model.state_dict()
    for key, value in official.items():
        torch.testing.assert_close(state[key.removeprefix("module.")], value, atol=0, rtol=0)


@pytest.mark.parametrize("name", TINY)
def test_strict_official_load_fails_loudly(tmp_path, name: str) -> None:
    model = build_model(name)
    official = _official(name, model)
    dropped = sorted(official)[0]
    del official[dropped]
    official["unknown.weight"] = torch.zeros(2)
    path = tmp_path / "broken.pth"
    torch.save(official, path)
    with pytest.raises(MapaCheckpointError, match=r"1 missing: .*1 unexpected: unknown\.weight"):
        load_official_checkpoint(model, path, strict=True)
    report = load_official_checkpoint(model, path, strict=False)
    assert report.unexpected == ["unknown.weight"]


@pytest.mark.parametrize("name", TINY)
def test_bad_inputs_are_reported(tiny_models, name: str) -> None:
    model = tiny_models[name]
    with pytest.raises(MapaInputError, match="multiple of the patch"):
        model([{"img": torch.rand(1, 3, 30, 42)}])
    with pytest.raises(MapaInputError, match="no 'img'"):
        model([{"image": torch.rand(1, 3, 28, 42)}])
