"""Typed configuration of π³ and its released and tiny variants (sections named like MapAnything's so the
reference's gradient-checkpointing override keys apply)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mapa_train.models.blocks.vit_encoder import ViTConfig, dinov2_preset


def _vitl14_reg_no_mask() -> ViTConfig:
    return dinov2_preset(
        "vitl14",
        num_register_tokens=4,
        interpolate_offset=0.0,
        interpolate_antialias=True,
        layerscale_init=1.0,
    )


@dataclass(frozen=True)
class Pi3DecoderConfig:
    """The alternating frame/global decoder (even blocks frame-wise, odd blocks global).

    Fields:
        depth: number of blocks (even; the last two, one frame and one global, are concatenated).
        num_heads: attention heads.
        mlp_ratio: MLP width / token width.
        init_values: LayerScale init.
        num_register_tokens: learned register tokens per frame, shared by all frames.
        rope_base: 2-D RoPE frequency base.
        gradient_checkpointing: recompute each block in the backward pass.
    """

    depth: int = 36
    num_heads: int = 16
    mlp_ratio: float = 4.0
    init_values: float = 0.01
    num_register_tokens: int = 5
    rope_base: float = 100.0
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class Pi3HeadsConfig:
    """The three per-frame transformer decoders and their output heads.

    Fields:
        dim: width of the per-frame decoders.
        depth: blocks per decoder.
        num_heads: attention heads.
        point_out_dim: output width of the point and confidence decoders.
        camera_out_dim: output width of the camera decoder (= camera-head width).
        gradient_checkpointing: recompute each decoder block in the backward pass.
    """

    dim: int = 1024
    depth: int = 5
    num_heads: int = 16
    point_out_dim: int = 1024
    camera_out_dim: int = 512
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class Pi3Config:
    """One π³ architecture.

    Fields:
        name: variant name.
        encoder: DINOv2 ViT-L/14 with 4 registers, no mask_token (its width is the decoder width).
        info_sharing: the alternating decoder.
        pred_head: per-frame decoders and heads.
    """

    name: str = "pi3"
    encoder: ViTConfig = field(default_factory=_vitl14_reg_no_mask)
    info_sharing: Pi3DecoderConfig = field(default_factory=Pi3DecoderConfig)
    pred_head: Pi3HeadsConfig = field(default_factory=Pi3HeadsConfig)


def pi3_large() -> Pi3Config:
    """The released π³ (`yyfz233/Pi3`, decoder_size "large", RoPE 100)."""
    return Pi3Config(name="pi3")


def pi3_tiny() -> Pi3Config:
    """A tiny π³ for CPU tests: width 32, 4 alternating blocks, 1-block decoders of width 32."""
    return Pi3Config(
        name="pi3_tiny",
        encoder=ViTConfig(
            embed_dim=32,
            depth=2,
            num_heads=2,
            img_size=56,
            num_register_tokens=4,
            interpolate_offset=0.0,
            interpolate_antialias=True,
        ),
        info_sharing=Pi3DecoderConfig(depth=4, num_heads=2),
        pred_head=Pi3HeadsConfig(dim=32, depth=1, num_heads=2, point_out_dim=32, camera_out_dim=16),
    )
