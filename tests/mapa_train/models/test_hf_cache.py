"""Weights from a hand-built Hugging Face cache: DINOv2 under transformers key names and official checkpoints,
found offline through `HF_HUB_CACHE`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mapa_train.errors import MapaCheckpointError, MapaWeightsNotFoundError
from mapa_train.models.blocks.vit_encoder import VisionTransformer, ViTConfig
from mapa_train.models.key_mapping import mapanything_to_reference_layout
from mapa_train.models.pretrained import (
    HubFile,
    find_in_hf_cache,
    init_encoder_from_dinov2,
    load_official_checkpoint,
    map_hf_dinov2_to_hub,
    official_hub_files,
)
from mapa_train.models.registry import MODELS, build_model

REVISION = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HF hub cache and an empty torch-hub dir, both under tmp_path."""
    cache = tmp_path / "hf_hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return cache


def _put_in_cache(cache: Path, repo_id: str, filename: str, state_dict: dict[str, torch.Tensor]) -> Path:
    """Lay a file out as huggingface_hub does: snapshots/<rev>/<file> plus refs/main naming <rev>."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / REVISION
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REVISION)
    target = snapshot / filename
    save_file({k: v.contiguous() for k, v in state_dict.items()}, str(target))
    return target


def _random_hub_state(config: ViTConfig, depth: int) -> dict[str, torch.Tensor]:
    """torch-hub-named DINOv2 weights of `depth` blocks, every tensor random (so a misplaced one shows)."""
    torch.manual_seed(0)
    full = VisionTransformer(ViTConfig(**{**config.__dict__, "keep_first_n_layers": None, "depth": depth}))
    state = {k: torch.randn_like(v) for k, v in full.state_dict().items()}
    state.setdefault("mask_token", torch.randn(1, config.embed_dim))
    state.setdefault("norm.weight", torch.randn(config.embed_dim))
    state.setdefault("norm.bias", torch.randn(config.embed_dim))
    return state


def _to_transformers_names(hub: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    """The transformers layout of torch-hub weights, written independently of the code under test."""
    top = {
        "cls_token": "embeddings.cls_token",
        "mask_token": "embeddings.mask_token",
        "register_tokens": "embeddings.register_tokens",
        "pos_embed": "embeddings.position_embeddings",
        "patch_embed.proj.weight": "embeddings.patch_embeddings.projection.weight",
        "patch_embed.proj.bias": "embeddings.patch_embeddings.projection.bias",
        "norm.weight": "layernorm.weight",
        "norm.bias": "layernorm.bias",
    }
    inner = {
        "attn.proj": "attention.output.dense",
        "ls1.gamma": "layer_scale1.lambda1",
        "ls2.gamma": "layer_scale2.lambda1",
        "mlp.w12": "mlp.weights_in",
        "mlp.w3": "mlp.weights_out",
    }
    out = {}
    for key, value in hub.items():
        if key in top:
            out[prefix + top[key]] = value
            continue
        _, layer, rest = key.split(".", 2)
        base = f"{prefix}encoder.layer.{layer}."
        if rest.startswith("attn.qkv."):
            kind = rest.rsplit(".", 1)[1]
            for part, chunk in zip(("query", "key", "value"), value.chunk(3), strict=True):
                out[f"{base}attention.attention.{part}.{kind}"] = chunk.clone()
            continue
        for old, new in inner.items():
            rest = rest.replace(old, new)
        out[base + rest] = value
    return out


def _assert_filled(vit: VisionTransformer, expected: dict[str, torch.Tensor]) -> None:
    for key, value in vit.state_dict().items():
        torch.testing.assert_close(value, expected[key], atol=0, rtol=0, msg=key)


def test_dinov2_large_from_hf_cache_fills_every_parameter(hf_cache: Path) -> None:
    config = ViTConfig(embed_dim=32, depth=2, num_heads=2, img_size=56)
    hub = _random_hub_state(config, depth=2)
    _put_in_cache(hf_cache, "facebook/dinov2-large", "model.safetensors", _to_transformers_names(hub))
    vit = VisionTransformer(config)
    report = init_encoder_from_dinov2(vit, name="dinov2_vitl14")
    assert report.ok and len(report.loaded) == len(vit.state_dict())
    _assert_filled(vit, hub)
    dim = config.embed_dim
    qkv = vit.blocks[1].attn.qkv.weight
    assert not torch.equal(qkv[:dim], qkv[dim : 2 * dim])  # q, k, v are distinct rows, in that order


def test_giant_with_registers_swiglu_prefix_and_dropped_layers(hf_cache: Path) -> None:
    config = ViTConfig(
        embed_dim=48,
        depth=3,
        num_heads=3,
        img_size=56,
        ffn="swiglufused",
        num_register_tokens=4,
        keep_first_n_layers=2,
        norm_returned_features=False,
    )
    hub = _random_hub_state(config, depth=3)
    hf = _to_transformers_names(hub, prefix="dinov2.")
    assert "dinov2.encoder.layer.2.mlp.weights_in.weight" in hf and "dinov2.embeddings.register_tokens" in hf
    _put_in_cache(hf_cache, "facebook/dinov2-with-registers-giant", "model.safetensors", hf)
    vit = VisionTransformer(config)
    report = init_encoder_from_dinov2(vit, name="dinov2_vitg14_reg")
    assert report.ok
    _assert_filled(vit, hub)


def test_qkv_is_concatenated_query_key_value() -> None:
    dim = 4
    parts = {p: torch.full((dim, dim), float(i)) for i, p in enumerate(("query", "key", "value"))}
    hf = {f"encoder.layer.0.attention.attention.{p}.weight": w for p, w in parts.items()}
    qkv = map_hf_dinov2_to_hub(hf)["blocks.0.attn.qkv.weight"]
    assert qkv.shape == (3 * dim, dim)
    assert qkv[:dim].eq(0).all() and qkv[dim : 2 * dim].eq(1).all() and qkv[2 * dim :].eq(2).all()


def test_unknown_or_incomplete_hf_keys_raise() -> None:
    with pytest.raises(MapaCheckpointError, match="unexpected key 'encoder.layer.0.adapter.weight'"):
        map_hf_dinov2_to_hub({"encoder.layer.0.adapter.weight": torch.zeros(1)})
    with pytest.raises(MapaCheckpointError, match="layer 0: attention weight lacks key, value"):
        map_hf_dinov2_to_hub({"encoder.layer.0.attention.attention.query.weight": torch.zeros(2, 2)})


def test_torch_hub_cache_is_preferred(hf_cache: Path, tmp_path: Path) -> None:
    config = ViTConfig(embed_dim=32, depth=1, num_heads=2, img_size=56)
    hub = _random_hub_state(config, depth=1)
    hub_file = tmp_path / "torch_home" / "hub" / "checkpoints" / "dinov2_vitl14_pretrain.pth"
    hub_file.parent.mkdir(parents=True)
    torch.save(hub, hub_file)
    decoy = {k: torch.zeros_like(v) for k, v in hub.items()}
    _put_in_cache(hf_cache, "facebook/dinov2-large", "model.safetensors", _to_transformers_names(decoy))
    vit = VisionTransformer(config)
    init_encoder_from_dinov2(vit)
    _assert_filled(vit, hub)


def test_missing_everywhere_names_both_caches(hf_cache: Path) -> None:
    vit = VisionTransformer(ViTConfig(embed_dim=32, depth=1, num_heads=2, img_size=56))
    with pytest.raises(MapaWeightsNotFoundError, match=r"dinov2_vitl14_pretrain\.pth.*facebook/dinov2-large"):
        init_encoder_from_dinov2(vit)
    assert find_in_hf_cache(HubFile("facebook/dinov2-large", "model.safetensors")) is None


def test_missing_huggingface_hub_is_a_clear_error(hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    vit = VisionTransformer(ViTConfig(embed_dim=32, depth=1, num_heads=2, img_size=56))
    with pytest.raises(MapaWeightsNotFoundError, match=r"needs huggingface_hub \(pip install"):
        init_encoder_from_dinov2(vit)


def test_official_mapanything_checkpoint_from_hf_cache(hf_cache: Path) -> None:
    torch.manual_seed(0)
    source = build_model("mapanything_tiny")
    state = {k: torch.randn_like(v) for k, v in source.state_dict().items()}
    # The released file holds each tensor once, under its smallest alias (the DPT as `dense_head.{0,1}.*`).
    aliases: dict[int, list[str]] = {}
    full = mapanything_to_reference_layout(state)
    for key, value in full.items():
        aliases.setdefault(id(value), []).append(key)
    released = {min(keys): full[min(keys)] for keys in aliases.values()}
    assert any(k.startswith("dense_head.1.") for k in released)
    _put_in_cache(hf_cache, "facebook/map-anything", "model.safetensors", released)
    target = build_model("mapanything_tiny")
    report = load_official_checkpoint(target, strict=True)
    assert report.ok
    for key, value in target.state_dict().items():
        torch.testing.assert_close(value, state[key], atol=0, rtol=0, msg=key)


def test_official_checkpoint_missing_from_cache_names_the_repo(hf_cache: Path) -> None:
    with pytest.raises(MapaWeightsNotFoundError, match=r"facebook/VGGT-1B/model\.safetensors.*hf_hub"):
        load_official_checkpoint(build_model("vggt_tiny"))


def test_v1_prefers_its_own_repo() -> None:
    v1 = official_hub_files(build_model("mapanything_v1", device="meta"))
    v11 = official_hub_files(build_model("mapanything_v1.1", device="meta"))
    assert v1[0].repo_id == "facebook/map-anything-v1" and v11[0].repo_id == "facebook/map-anything"


@pytest.mark.parametrize(
    ("name", "repo"),
    [("moge2_vitl_normal", "Ruicheng/moge-2-vitl-normal"), ("moge2_vitl", "Ruicheng/moge-2-vitl")],
)
def test_moge2_variants_look_up_the_repo_of_their_own_architecture(name: str, repo: str) -> None:
    files = official_hub_files(build_model(name, device="meta"))
    assert [f.repo_id for f in files] == [repo]
    assert f"({repo})" in MODELS[name].description  # the registry names the same repo


def test_moge2_normal_checkpoint_comes_from_the_normal_repo(hf_cache: Path) -> None:
    torch.manual_seed(0)
    source = build_model("moge2_tiny")  # has the normal head
    state = {k: torch.randn_like(v) for k, v in source.state_dict().items()}
    plain = _put_in_cache(hf_cache, "Ruicheng/moge-2-vitl", "model.pt", {})
    torch.save({"model_config": {}, "model": state}, plain)  # the other architecture's repo is not used
    with pytest.raises(MapaWeightsNotFoundError, match=r"Ruicheng/moge-2-vitl-normal/model\.pt"):
        load_official_checkpoint(build_model("moge2_tiny"))
    released = _put_in_cache(hf_cache, "Ruicheng/moge-2-vitl-normal", "model.pt", {})
    torch.save({"model_config": {}, "model": state}, released)
    target = build_model("moge2_tiny")
    assert load_official_checkpoint(target).ok
    for key, value in target.state_dict().items():
        torch.testing.assert_close(value, state[key], atol=0, rtol=0, msg=key)
