"""The shared building blocks: ViT encoder, attention, FFNs, geometric encoders, the multi-view transformer."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.models.blocks.attention import Attention
from mapa_train.models.blocks.geometric_encoders import (
    DenseRepresentationEncoder,
    GlobalRepresentationEncoder,
)
from mapa_train.models.blocks.mlp import SwiGLUFFNFused, swiglu_hidden_dim
from mapa_train.models.blocks.multiview_transformer import (
    MultiViewTransformer,
    MultiViewTransformerConfig,
    sinusoidal_table,
)
from mapa_train.models.blocks.vit_encoder import VisionTransformer, ViTConfig, dinov2_preset


def test_attention_matches_explicit_softmax() -> None:
    torch.manual_seed(0)
    attn = Attention(16, 2)
    x = torch.randn(3, 5, 16)
    qkv = attn.qkv(x).reshape(3, 5, 3, 2, 8).permute(2, 0, 3, 1, 4)
    q, k, v = qkv
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(8), dim=-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(3, 5, 16))
    torch.testing.assert_close(attn(x), expected, atol=1e-5, rtol=1e-5)


def test_swiglu_width_is_dinov2s() -> None:
    assert swiglu_hidden_dim(4 * 1536) == 4096
    ffn = SwiGLUFFNFused(1536, 6144)
    assert tuple(ffn.w12.weight.shape) == (8192, 1536) and tuple(ffn.w3.weight.shape) == (1536, 4096)


def test_vit_tokens_registers_and_interpolated_pos_embed() -> None:
    torch.manual_seed(0)
    vit = VisionTransformer(ViTConfig(embed_dim=32, depth=3, num_heads=2, img_size=56, num_register_tokens=4))
    out = vit.forward_features(torch.randn(2, 3, 42, 70))
    assert tuple(out["x_norm_patchtokens"].shape) == (2, 15, 32)
    assert tuple(out["x_norm_regtokens"].shape) == (2, 4, 32)
    assert tuple(out["x_norm_clstoken"].shape) == (2, 32)
    # At the training grid the table is used as is.
    torch.testing.assert_close(vit.interpolate_pos_encoding(56, 56, torch.float32), vit.pos_embed)
    assert tuple(vit.interpolate_pos_encoding(42, 70, torch.float32).shape) == (1, 16, 32)


def test_vit_keep_first_layers_and_identity_norm() -> None:
    config = dinov2_preset("vitg14", keep_first_n_layers=24, norm_returned_features=False)
    with torch.device("meta"):
        vit = VisionTransformer(config)
    assert len(vit.blocks) == 24
    assert not any(k.startswith("norm.") for k in vit.state_dict())
    assert "mask_token" not in vit.state_dict()
    with pytest.raises(ValueError, match="keep_first_n_layers"):
        VisionTransformer(ViTConfig(embed_dim=8, depth=2, num_heads=2, keep_first_n_layers=3))


def test_vit_rejects_size_not_multiple_of_patch() -> None:
    vit = VisionTransformer(ViTConfig(embed_dim=16, depth=1, num_heads=2, img_size=28))
    with pytest.raises(ValueError, match="multiple of the patch size 14"):
        vit.forward_features(torch.randn(1, 3, 30, 28))


def test_sinusoidal_reference_row() -> None:
    row = sinusoidal_table(1, 8)[0]
    torch.testing.assert_close(row, torch.tensor([0.0, 1, 0, 1, 0, 1, 0, 1]))


def test_dense_encoder_shapes_and_norm() -> None:
    enc = DenseRepresentationEncoder(3, 24, 14, (16, 20, 24))
    out = enc(torch.randn(2, 3, 28, 42))
    assert tuple(out.shape) == (2, 24, 2, 3)
    torch.testing.assert_close(out.mean(dim=1), torch.zeros(2, 2, 3), atol=1e-5, rtol=0)


def test_global_encoder_reference_key_nesting() -> None:
    keys = set(GlobalRepresentationEncoder(4, 32, (8, 16, 24)).state_dict())
    for prefix in ("encoder.0.0.0.0", "encoder.0.0.1", "encoder.0.1", "encoder.1", "norm_layer"):
        assert f"{prefix}.weight" in keys


def _views(num_views: int, dim: int = 16, grid: tuple[int, int] = (2, 3)) -> list[torch.Tensor]:
    return [torch.randn(2, dim, *grid) for _ in range(num_views)]


@pytest.mark.parametrize("attention", ["alternating", "global"])
def test_multiview_transformer_outputs(attention: str) -> None:
    torch.manual_seed(0)
    config = MultiViewTransformerConfig(dim=8, depth=4, num_heads=2, indices=(1, 2), attention=attention)
    mvt = MultiViewTransformer(config, input_dim=16)
    out = mvt(_views(3), [torch.randn(2, 16, 1) for _ in range(3)], torch.randn(2, 16, 1))
    assert len(out.final) == 3 and tuple(out.final[0].shape) == (2, 8, 2, 3)
    assert len(out.intermediates) == 2 and tuple(out.intermediates[1][2].shape) == (2, 8, 2, 3)
    assert tuple(out.final_extra_tokens[0].shape) == (2, 8, 1)
    assert tuple(out.global_token.shape) == (2, 8, 1)


def test_frame_layers_keep_views_independent() -> None:
    """With only frame layers in play (global layers zeroed), changing view 1 leaves view 0 unchanged."""
    torch.manual_seed(0)
    config = MultiViewTransformerConfig(dim=16, depth=2, num_heads=2, indices=(0, 1))
    mvt = MultiViewTransformer(config, input_dim=16)
    block0 = mvt.self_attention_blocks[0]
    for layer in (block0.attn.proj, block0.mlp.fc2):
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    views = _views(2)
    first = mvt(views).final[0]
    second = mvt([views[0], views[1] + 1.0]).final[0]
    torch.testing.assert_close(first, second)
    # and a global layer does mix them
    mvt_global = MultiViewTransformer(
        MultiViewTransformerConfig(dim=16, depth=1, num_heads=2, indices=(0,)), 16
    )
    assert not torch.allclose(mvt_global(views).final[0], mvt_global([views[0], views[1] + 1.0]).final[0])


def test_reference_view_embedding_buffer() -> None:
    mvt = MultiViewTransformer(MultiViewTransformerConfig(dim=8, depth=2, num_heads=2, indices=(0, 1)), 8)
    assert tuple(mvt.state_dict()["view_pos_table"].shape) == (1, 8)
    plain = MultiViewTransformerConfig(
        dim=8, depth=2, num_heads=2, indices=(0, 1), distinguish_ref_and_non_ref_views=False
    )
    assert "view_pos_table" not in MultiViewTransformer(plain, 8).state_dict()
