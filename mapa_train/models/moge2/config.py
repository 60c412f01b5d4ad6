"""Typed configuration of MoGe-2 and its ViT-L (with and without normal head) and tiny variants.

The ViT-L numbers are MoGe's `configs/train/v2.json` model block; `moge-2-vitl` is that layout without
the normal head.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapa_train.models.blocks.vit_encoder import ViTConfig, dinov2_preset


def _vitl14_with_mask_token() -> ViTConfig:
    return dinov2_preset("vitl14", keep_mask_token=True, layerscale_init=1.0)


@dataclass(frozen=True)
class MoGe2HeadsConfig:
    """Neck, dense heads and scale head.

    Fields:
        neck_dims: widths of the 5 pyramid levels (finest last).
        neck_res_blocks: residual conv blocks per level in the neck.
        head_res_blocks: residual conv blocks per level in each dense head.
        resamplers: upsampler of each level transition ("conv_transpose" or "bilinear").
        scale_hidden: hidden widths of the metric-scale MLP on the CLS token.
        normal_head: also predict surface normals (the `-normal` checkpoints).
        gradient_checkpointing: recompute each pyramid level of the neck and heads in the backward pass.
    """

    neck_dims: tuple[int, ...] = (1024, 256, 128, 64, 32)
    neck_res_blocks: tuple[int, ...] = (0, 2, 2, 2, 0)
    head_res_blocks: tuple[int, ...] = (0, 1, 1, 1, 0)
    resamplers: tuple[str, ...] = ("conv_transpose", "conv_transpose", "conv_transpose", "bilinear")
    scale_hidden: tuple[int, ...] = (1024, 1024)
    normal_head: bool = False
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class MoGe2Config:
    """One MoGe-2 architecture.

    Fields:
        name: variant name.
        encoder: the DINOv2 backbone (no registers, mask_token kept).
        intermediate_layers: backbone blocks whose normed outputs are projected and summed.
        feature_dim: width of the projected features (= first neck level input minus the 2 UV channels).
        pred_head: neck and heads.
        num_tokens_range: the token budgets MoGe-2 was trained with (informational; the wrapper uses the native grid).
    """

    name: str = "moge2_vitl"
    encoder: ViTConfig = field(default_factory=_vitl14_with_mask_token)
    intermediate_layers: tuple[int, ...] = (5, 11, 17, 23)
    feature_dim: int = 1024
    pred_head: MoGe2HeadsConfig = field(default_factory=MoGe2HeadsConfig)
    num_tokens_range: tuple[int, ...] = (1200, 3600)


def moge2_vitl() -> MoGe2Config:
    """`Ruicheng/moge-2-vitl`: ViT-L backbone, points + mask + scale heads."""
    return MoGe2Config(name="moge2_vitl")


def moge2_vitl_normal() -> MoGe2Config:
    """`Ruicheng/moge-2-vitl-normal`: as `moge2_vitl` plus the normal head."""
    return MoGe2Config(name="moge2_vitl_normal", pred_head=MoGe2HeadsConfig(normal_head=True))


def moge2_tiny() -> MoGe2Config:
    """A tiny MoGe-2 for CPU tests: width-32 ViT with 2 blocks, narrow pyramid, normal head on."""
    return MoGe2Config(
        name="moge2_tiny",
        encoder=ViTConfig(embed_dim=32, depth=2, num_heads=2, img_size=56, keep_mask_token=True),
        intermediate_layers=(0, 1),
        feature_dim=32,
        pred_head=MoGe2HeadsConfig(
            neck_dims=(32, 16, 8, 8, 4),
            neck_res_blocks=(0, 1, 1, 1, 0),
            head_res_blocks=(0, 1, 0, 1, 0),
            scale_hidden=(16, 16),
            normal_head=True,
        ),
    )
