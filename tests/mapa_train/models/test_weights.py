"""Weights: safetensors round trip, official-layout key mapping, DINOv2 init, and the errors on bad files."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from mapa_train.errors import MapaCheckpointError, MapaWeightsNotFoundError
from mapa_train.models.blocks.vit_encoder import VisionTransformer, ViTConfig
from mapa_train.models.key_mapping import map_mapanything_state_dict, mapanything_to_reference_layout
from mapa_train.models.mapanything.task import get_task
from mapa_train.models.pretrained import (
    init_encoder_from_dinov2,
    init_info_sharing_from_dinov2,
    load_official_checkpoint,
)
from mapa_train.models.registry import build_model
from mapa_train.models.weights import (
    load_pretrained,
    load_state_dict_with_report,
    read_checkpoint,
    save_pretrained,
)
from tests.mapa_train.models.conftest import make_views


def _randomised(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(name)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    return model


def test_save_and_load_round_trip(tmp_path) -> None:
    model = _randomised("mapanything_tiny")
    save_pretrained(model, tmp_path / "ckpt")
    assert (tmp_path / "ckpt" / "model.safetensors").is_file() and (
        tmp_path / "ckpt" / "config.json"
    ).is_file()
    loaded = load_pretrained(tmp_path / "ckpt")
    assert loaded.config == model.config
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, atol=0, rtol=0)
    views = make_views(2)
    model.eval(), loaded.eval()
    torch.manual_seed(1)
    a = model(views, task=get_task("pass_through"))
    torch.manual_seed(1)
    b = loaded(views, task=get_task("pass_through"))
    torch.testing.assert_close(a[1]["pts3d"], b[1]["pts3d"])


def test_missing_weight_file_names_the_path(tmp_path) -> None:
    with pytest.raises(MapaWeightsNotFoundError, match=r"nope\.safetensors.*facebook/map-anything"):
        load_official_checkpoint(build_model("mapanything_tiny"), tmp_path / "nope.safetensors")
    with pytest.raises(MapaWeightsNotFoundError, match="config.json"):
        load_pretrained(tmp_path)


def _official_hf_layout(state_dict: dict) -> dict:
    """What `save_pretrained` of the reference writes: each shared tensor once, under its smallest alias name."""
    full = mapanything_to_reference_layout(state_dict)
    by_tensor: dict[int, list[str]] = {}
    for key, value in full.items():
        by_tensor.setdefault(id(value), []).append(key)
    return {min(keys): full[min(keys)].clone() for keys in by_tensor.values()}


@pytest.mark.parametrize("name", ["mapanything_v1", "mapanything_v1.1"])
def test_reference_layout_key_counts(name: str) -> None:
    model = build_model(name, device="meta")
    full = mapanything_to_reference_layout(model.state_dict())
    assert len(full) == {"mapanything_v1": 880, "mapanything_v1.1": 812}[name]
    official = _official_hf_layout(model.state_dict())
    assert len(official) == len(model.state_dict())
    assert not any(k.startswith(("dpt_feature_head.", "dpt_regressor_head.")) for k in official)
    assert "dense_head.0.input_process.3.1.weight" in official and "dense_head.1.conv2.2.weight" in official


@pytest.mark.parametrize("layout", ["hf_safetensors", "training_pth"])
def test_official_checkpoint_fills_every_parameter(tmp_path, layout: str) -> None:
    source = _randomised("mapanything_tiny")
    if layout == "hf_safetensors":
        path = tmp_path / "model.safetensors"
        save_file({k: v.contiguous() for k, v in _official_hf_layout(source.state_dict()).items()}, str(path))
    else:
        path = tmp_path / "checkpoint-best.pth"
        torch.save({"model": mapanything_to_reference_layout(source.state_dict()), "epoch": 3}, path)
    target = build_model("mapanything_tiny")
    report = load_official_checkpoint(target, path, strict=True)
    assert report.ok and len(report.loaded) == len(target.state_dict())
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value, atol=0, rtol=0)


def test_strict_load_fails_loudly_and_reports() -> None:
    model = build_model("mapanything_tiny")
    state = map_mapanything_state_dict(dict(model.state_dict()))
    del state["scale_token"]
    state["extra.weight"] = torch.zeros(1)
    with pytest.raises(MapaCheckpointError, match=r"1 missing: scale_token.*1 unexpected: extra\.weight"):
        load_state_dict_with_report(model, state, strict=True)
    report = load_state_dict_with_report(model, state, strict=False)
    assert report.missing == ["scale_token"] and report.unexpected == ["extra.weight"]


def test_read_checkpoint_rejects_pickled_objects(tmp_path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "obj": object()}, path)
    with pytest.raises(MapaCheckpointError, match="weights_only=True"):
        read_checkpoint(path)


def test_dinov2_init_from_local_file(tmp_path) -> None:
    torch.manual_seed(0)
    hub_like = VisionTransformer(
        ViTConfig(embed_dim=64, depth=4, num_heads=2, img_size=56, keep_mask_token=True)
    )
    path = tmp_path / "dinov2_tiny_pretrain.pth"
    torch.save(hub_like.state_dict(), path)
    model = build_model("mapanything_tiny")  # keeps 2 blocks, no final norm, no mask_token
    report = init_encoder_from_dinov2(model.encoder.model, path)
    assert report.ok
    torch.testing.assert_close(
        model.encoder.model.blocks[1].mlp.fc1.weight, hub_like.blocks[1].mlp.fc1.weight
    )
    with pytest.raises(MapaWeightsNotFoundError, match="dl.fbaipublicfiles.com"):
        init_encoder_from_dinov2(model.encoder.model, tmp_path / "absent.pth")


def test_info_sharing_dino_init_maps_late_blocks(tmp_path) -> None:
    torch.manual_seed(0)
    width = 32
    donor = VisionTransformer(
        ViTConfig(embed_dim=width, depth=6, num_heads=2, img_size=28, ffn="swiglufused")
    )
    path = tmp_path / "donor.pth"
    torch.save(donor.state_dict(), path)
    model = build_model("mapanything_tiny")  # AAT: 4 blocks of width 32, SwiGLU, LayerScale
    init_info_sharing_from_dinov2(model.info_sharing, path, first_block=2)
    torch.testing.assert_close(
        model.info_sharing.self_attention_blocks[0].mlp.w12.weight, donor.blocks[2].mlp.w12.weight
    )
    torch.testing.assert_close(model.info_sharing.norm.weight, donor.norm.weight)
