"""Typed configuration of MapAnything and the released V1 / V1.1 / tiny / mid variants."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mapa_train.models.blocks.multiview_transformer import MultiViewTransformerConfig
from mapa_train.models.blocks.vit_encoder import ViTConfig, dinov2_preset
from mapa_train.models.mapanything.representation import (
    RELEASE,
    Representation,
    RepresentationName,
    get_representation,
)
from mapa_train.models.mapanything.task import TaskConfig, get_task


@dataclass(frozen=True)
class GeometricEncoderConfig:
    """Widths of the geometric-input encoders (output width is the image encoder's C_enc).

    Fields:
        dense_intermediate_dims: conv widths of the ray / depth encoders.
        global_intermediate_dims: MLP widths of the rotation / translation / scale encoders.
    """

    dense_intermediate_dims: tuple[int, ...] = (588, 768, 1024)
    global_intermediate_dims: tuple[int, ...] = (128, 256, 512)


@dataclass(frozen=True)
class PredHeadConfig:
    """DPT + pose + scale heads.

    Fields:
        adaptor: the output representation by the reference's adaptor-config name (see
            `mapa_train.models.mapanything.representation`): it sets the DPT regressor's channel count and whether
            the pose head and the scale token + scale head exist.
        feature_dim: DPT fusion width.
        layer_dims: DPT per-level widths.
        pose_width: pose-head width; None = 4·P² as in the reference (784 at P = 14).
        num_resconv_block: residual 1×1 blocks in the pose head.
        scale_hidden_dim: scale-head MLP width.
        scale_num_mlp_layers: scale-head hidden layers.
        gradient_checkpointing: checkpoint the whole DPT (input processing, RefineNet, regressor convs and the
            full-resolution resize), one view per segment. The encoder flag (`model.encoder.
            gradient_checkpointing`) covers the ViT blocks and the dense ray / depth encoders.
    """

    feature_dim: int = 256
    layer_dims: tuple[int, ...] = (96, 192, 384, 768)
    pose_width: int | None = None
    num_resconv_block: int = 2
    scale_hidden_dim: int = 196
    scale_num_mlp_layers: int = 2
    gradient_checkpointing: bool = False
    adaptor: RepresentationName = RELEASE

    def __post_init__(self) -> None:
        get_representation(self.adaptor)  # an unknown name fails when the config is made


@dataclass(frozen=True)
class MapAnythingConfig:
    """One MapAnything architecture.

    Fields:
        name: variant name.
        encoder: the DINOv2-style image encoder.
        info_sharing: the multi-view transformer.
        geometric: widths of the geometric-input encoders.
        pred_head: heads.
        task: geometric-input sampling used by `forward` when no task is passed.
        use_register_tokens_from_encoder: feed each view's encoder CLS token through the transformer (V1.1).

    Whether a scale token / scale head and a pose head exist follows from `pred_head.adaptor`.
    """

    name: str = "mapanything_v1"
    encoder: ViTConfig = field(default_factory=lambda: dinov2_preset("vitl14"))
    info_sharing: MultiViewTransformerConfig = field(default_factory=MultiViewTransformerConfig)
    geometric: GeometricEncoderConfig = field(default_factory=GeometricEncoderConfig)
    pred_head: PredHeadConfig = field(default_factory=PredHeadConfig)
    task: TaskConfig = field(default_factory=lambda: get_task("images_only"))
    use_register_tokens_from_encoder: bool = False

    @property
    def representation(self) -> Representation:
        """The output representation `pred_head.adaptor` names."""
        return get_representation(self.pred_head.adaptor)

    @property
    def output_keys(self) -> frozenset[str]:
        """The keys of each per-view output dict of a model built from this config."""
        return self.representation.output_keys


def mapanything_v1() -> MapAnythingConfig:
    """V1: DINOv2 ViT-L (24 blocks, final norm) + AAT 24 × 768, GELU MLP, taps [11, 17]."""
    return MapAnythingConfig(name="mapanything_v1")


def mapanything_v1_1() -> MapAnythingConfig:
    """V1.1: first 24 of 40 ViT-g blocks (no final norm) + AAT 16 × 1536 SwiGLU with LayerScale, taps [7, 11]."""
    return MapAnythingConfig(
        name="mapanything_v1.1",
        encoder=dinov2_preset("vitg14", keep_first_n_layers=24, norm_returned_features=False),
        info_sharing=MultiViewTransformerConfig(
            dim=1536, depth=16, num_heads=24, ffn="swiglufused", init_values=1e-5, indices=(7, 11)
        ),
        use_register_tokens_from_encoder=True,
    )


def mapanything_tiny() -> MapAnythingConfig:
    """A ~1 M-parameter model that runs every code path on CPU in well under a second."""
    return MapAnythingConfig(
        name="mapanything_tiny",
        encoder=ViTConfig(
            embed_dim=64, depth=2, num_heads=2, img_size=56, norm_returned_features=False, ffn="mlp"
        ),
        info_sharing=MultiViewTransformerConfig(
            dim=32, depth=4, num_heads=2, ffn="swiglufused", init_values=1e-5, indices=(1, 2)
        ),
        geometric=GeometricEncoderConfig((32, 48, 64), (16, 32, 32)),
        pred_head=PredHeadConfig(
            feature_dim=16, layer_dims=(8, 16, 24, 32), pose_width=32, scale_hidden_dim=16
        ),
        use_register_tokens_from_encoder=True,
    )


def mapanything_mid() -> MapAnythingConfig:
    """A ViT-S-sized model (~40 M) for CPU benchmarks: 6 encoder blocks, AAT 8 × 384."""
    return MapAnythingConfig(
        name="mapanything_mid",
        encoder=dinov2_preset("vits14", keep_first_n_layers=6, norm_returned_features=False),
        info_sharing=MultiViewTransformerConfig(
            dim=384, depth=8, num_heads=6, ffn="swiglufused", init_values=1e-5, indices=(3, 5)
        ),
        geometric=GeometricEncoderConfig((196, 256, 384), (64, 128, 256)),
        pred_head=PredHeadConfig(
            feature_dim=128, layer_dims=(48, 96, 192, 384), pose_width=256, scale_hidden_dim=128
        ),
        use_register_tokens_from_encoder=True,
    )


def mapanything_v1_global_attention() -> MapAnythingConfig:
    """Ablation: V1 with a 24-layer global-attention transformer and a random view PE for every view."""
    base = mapanything_v1()
    aat = replace(
        base.info_sharing,
        attention="global",
        use_pe_for_non_reference_views=True,
        use_rand_idx_pe_for_non_reference_views=True,
    )
    return replace(base, name="mapanything_v1_gat", info_sharing=aat)


def mapanything_v1_no_ref_view() -> MapAnythingConfig:
    """Ablation: V1 without the reference-view embedding."""
    base = mapanything_v1()
    aat = replace(base.info_sharing, distinguish_ref_and_non_ref_views=False)
    return replace(base, name="mapanything_v1_no_ref_view", info_sharing=aat)


def mapanything_ablations() -> MapAnythingConfig:
    """`mapanything_ablations`: V1 without scale token, scale head or metric-scale output (rays + depth + pose by
    default; the ablation-1 presets choose another representation with `pred_head.adaptor`)."""
    base = mapanything_v1()
    head = replace(base.pred_head, adaptor="raydirs_depth_pose_confidence_mask")
    return replace(base, name="mapanything_ablations", pred_head=head)
