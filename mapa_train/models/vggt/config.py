"""Typed configuration of VGGT and its released (VGGT-1B) and tiny variants.

Sections are named after MapAnything's (`encoder`, `info_sharing`, `pred_head`), so the reference's override keys
(`model.encoder.gradient_checkpointing`, `model.info_sharing.module_args.gradient_checkpointing`,
`model.pred_head.gradient_checkpointing`) switch the same parts of every model family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapa_train.models.blocks.vit_encoder import ViTConfig, dinov2_preset


def _vitl14_reg() -> ViTConfig:
    # The `dinov2_vitl14_reg` hub model: 4 registers, antialiased pos-embed resize without offset, frozen mask_token.
    return dinov2_preset(
        "vitl14",
        num_register_tokens=4,
        interpolate_offset=0.0,
        interpolate_antialias=True,
        keep_mask_token=True,
        layerscale_init=1.0,
    )


@dataclass(frozen=True)
class VGGTAggregatorConfig:
    """The alternating-attention aggregator (frame block i then global block i, `depth` times).

    Fields:
        depth: number of frame (and of global) blocks.
        num_heads: attention heads.
        mlp_ratio: MLP width / token width.
        init_values: LayerScale init.
        qk_norm: per-head LayerNorm on q and k.
        norm_eps: epsilon of the block and q/k LayerNorms (PyTorch's default 1e-5 in VGGT).
        num_register_tokens: learned register tokens per frame (after the camera token).
        rope_base: 2-D RoPE frequency base.
        gradient_checkpointing: recompute each frame/global block in the backward pass.
    """

    depth: int = 24
    num_heads: int = 16
    mlp_ratio: float = 4.0
    init_values: float = 0.01
    qk_norm: bool = True
    norm_eps: float = 1e-5
    num_register_tokens: int = 4
    rope_base: float = 100.0
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class VGGTTrackHeadConfig:
    """The track head: a feature-only DPT at 1/`down_ratio` resolution, then an iterative point tracker
    (correlation pyramid + a time/space "update former" transformer with virtual tracks).

    Fields:
        features: width of the DPT feature map and of the track features.
        down_ratio: the feature map's resolution divisor w.r.t. the image.
        stride: the tracker's coordinate divisor (pixels -> feature-map cells); equals `down_ratio` in VGGT.
        iterations: refinement passes.
        corr_levels: correlation pyramid levels (each halves the feature map).
        corr_radius: correlation window radius (a (2r+1)² window per level).
        hidden_size: width of the update transformer (and of the correlation MLP's hidden layer).
        depth: time blocks (and space blocks) of the update transformer.
        num_heads: attention heads of the update transformer.
        num_virtual_tracks: learned tracks that carry the space attention.
        mlp_ratio: MLP width / hidden size in the update transformer.
        max_scale: the divisor of the raw flow appended to its sinusoidal embedding.
        predict_conf: also predict a per-point confidence.
    """

    features: int = 128
    down_ratio: int = 2
    stride: int = 2
    iterations: int = 4
    corr_levels: int = 7
    corr_radius: int = 4
    hidden_size: int = 384
    depth: int = 6
    num_heads: int = 8
    num_virtual_tracks: int = 64
    mlp_ratio: float = 4.0
    max_scale: float = 518.0
    predict_conf: bool = True


@dataclass(frozen=True)
class VGGTHeadsConfig:
    """Camera head and DPT depth / point heads.

    Fields:
        camera_trunk_depth: transformer blocks in the camera-head trunk.
        camera_num_heads: attention heads of the trunk.
        camera_iterations: iterative refinement passes.
        dpt_features: DPT fusion width.
        dpt_out_channels: per-level widths after the 1×1 projections.
        dpt_layers: aggregator iterations tapped by the DPT heads (4 entries).
        point_head: build the world-point head (`forward(views)` does not use it).
        track_head: build the track head (`VGGT.track`; `forward(views)` does not use it).
        track: the track head's architecture.
        gradient_checkpointing: checkpoint the DPT projections and RefineNet blocks (and the tracker's blocks).
    """

    camera_trunk_depth: int = 4
    camera_num_heads: int = 16
    camera_iterations: int = 4
    dpt_features: int = 256
    dpt_out_channels: tuple[int, ...] = (256, 512, 1024, 1024)
    dpt_layers: tuple[int, ...] = (4, 11, 17, 23)
    point_head: bool = True
    track_head: bool = True
    track: VGGTTrackHeadConfig = field(default_factory=VGGTTrackHeadConfig)
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class VGGTConfig:
    """One VGGT architecture.

    Fields:
        name: variant name.
        encoder: the DINOv2 patch embedder (ViT-L/14 with registers in VGGT-1B; its width is the token width).
        info_sharing: the aggregator.
        pred_head: the heads.
    """

    name: str = "vggt"
    encoder: ViTConfig = field(default_factory=_vitl14_reg)
    info_sharing: VGGTAggregatorConfig = field(default_factory=VGGTAggregatorConfig)
    pred_head: VGGTHeadsConfig = field(default_factory=VGGTHeadsConfig)


def vggt_1b() -> VGGTConfig:
    """VGGT-1B as released (`facebook/VGGT-1B`): camera, depth, point and track heads."""
    return VGGTConfig(name="vggt")


def vggt_tiny() -> VGGTConfig:
    """A tiny VGGT for CPU tests: width 32, 2 frame + 2 global blocks, 1-block camera trunk, a 2-block tracker
    with a 3-level correlation pyramid (images down to 28 px on a side)."""
    return VGGTConfig(
        name="vggt_tiny",
        encoder=ViTConfig(
            embed_dim=32,
            depth=2,
            num_heads=2,
            img_size=56,
            num_register_tokens=4,
            interpolate_offset=0.0,
            interpolate_antialias=True,
            keep_mask_token=True,
        ),
        info_sharing=VGGTAggregatorConfig(depth=2, num_heads=2),
        pred_head=VGGTHeadsConfig(
            camera_trunk_depth=1,
            camera_num_heads=2,
            dpt_features=16,
            dpt_out_channels=(8, 16, 32, 32),
            dpt_layers=(0, 1, 1, 1),
            track=VGGTTrackHeadConfig(
                features=16,
                iterations=2,
                corr_levels=3,
                corr_radius=2,
                hidden_size=32,
                depth=2,
                num_heads=2,
                num_virtual_tracks=4,
            ),
        ),
    )
