"""The MapAnything network: per-view image encoding, geometric-input fusion, multi-view transformer, and DPT /
pose / scale heads whose outputs compose into metric world points. Which heads exist and what the DPT regresses
follow from the config's output representation (`pred_head.adaptor`, see `representation.py`).

Module names equal the reference's state-dict prefixes (`encoder.model`, `ray_dirs_encoder`, …, `info_sharing`,
`dpt_feature_head`, `dpt_regressor_head`, `pose_head`, `scale_head`), without the reference's aliased copies of
the DPT modules (`dense_head.*`, `scratch.layer*_rn`); `mapa_train.models.key_mapping` converts between the two.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mapa_train.errors import MapaConfigError, MapaInputError
from mapa_train.models.blocks import adaptors
from mapa_train.models.blocks.checkpointing import checkpoint_in_chunks
from mapa_train.models.blocks.dpt_head import DPTFeatureHead, DPTRegressionHead
from mapa_train.models.blocks.geometric_encoders import (
    DenseRepresentationEncoder,
    GlobalRepresentationEncoder,
)
from mapa_train.models.blocks.multiview_transformer import MultiViewTransformer
from mapa_train.models.blocks.pose_head import PoseHead
from mapa_train.models.blocks.scale_head import ScaleHead
from mapa_train.models.blocks.vit_encoder import VisionTransformer
from mapa_train.models.mapanything.config import MapAnythingConfig
from mapa_train.models.mapanything.geometric_inputs import GeometricEncoders, View, encode_and_fuse
from mapa_train.models.mapanything.representation import compose_outputs
from mapa_train.models.mapanything.task import TaskConfig


class ImageEncoder(nn.Module):
    """Holder that keeps the reference's `encoder.model.*` key prefix around the ViT."""

    def __init__(self, model: VisionTransformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images `(N, 3, H, W)` -> patch features `(N, C, h, w)` and CLS token `(N, C)`."""
        out = self.model.forward_features(images)
        patches = out["x_norm_patchtokens"]
        n, _, height, width = images.shape
        p = self.model.patch_size
        features = patches.transpose(1, 2).reshape(n, -1, height // p, width // p)
        return features, out["x_norm_clstoken"]


class MapAnything(nn.Module):
    """MapAnything. `forward(views)` returns one output dict per view (keys as in the reference's model outputs)."""

    def __init__(self, config: MapAnythingConfig) -> None:
        super().__init__()
        self.config = config
        rep = self.representation = config.representation
        enc_cfg = config.encoder
        c_enc = enc_cfg.embed_dim
        patch = enc_cfg.patch_size
        self.encoder = ImageEncoder(VisionTransformer(enc_cfg))
        dense_dims = config.geometric.dense_intermediate_dims
        global_dims = config.geometric.global_intermediate_dims
        # The encoder flag also covers the dense geometric-input encoders (they run at the image encoder's input).
        enc_ckpt = enc_cfg.gradient_checkpointing
        self.ray_dirs_encoder = DenseRepresentationEncoder(
            3, c_enc, patch, dense_dims, gradient_checkpointing=enc_ckpt
        )
        self.depth_encoder = DenseRepresentationEncoder(
            1, c_enc, patch, dense_dims, gradient_checkpointing=enc_ckpt
        )
        self.depth_scale_encoder = GlobalRepresentationEncoder(1, c_enc, global_dims)
        self.cam_rot_encoder = GlobalRepresentationEncoder(4, c_enc, global_dims)
        self.cam_trans_encoder = GlobalRepresentationEncoder(3, c_enc, global_dims)
        self.cam_trans_scale_encoder = GlobalRepresentationEncoder(1, c_enc, global_dims)
        self.fusion_norm_layer = nn.LayerNorm(c_enc, eps=1e-6)
        if rep.scale:
            self.scale_token = nn.Parameter(torch.zeros(c_enc))
            nn.init.trunc_normal_(self.scale_token, std=0.02)
        self.info_sharing = MultiViewTransformer(config.info_sharing, c_enc)
        dim = config.info_sharing.dim
        n_taps = len(config.info_sharing.indices)
        if n_taps not in (2, 3):
            raise MapaConfigError(f"info_sharing.indices must have 2 or 3 entries for the DPT, got {n_taps}")
        self.use_encoder_features_for_dpt = n_taps == 2
        dpt_in = [c_enc, dim, dim, dim] if self.use_encoder_features_for_dpt else [dim] * 4
        head = config.pred_head
        self.dpt_feature_head = DPTFeatureHead(
            dpt_in, head.feature_dim, head.layer_dims, head.gradient_checkpointing
        )
        self.dpt_regressor_head = DPTRegressionHead(
            head.feature_dim, rep.channels, head.gradient_checkpointing
        )
        if rep.pose:
            pose_width = head.pose_width if head.pose_width is not None else 4 * patch * patch
            self.pose_head = PoseHead(dim, pose_width, head.num_resconv_block)
        if rep.scale:
            self.scale_head = ScaleHead(dim, head.scale_hidden_dim, head.scale_num_mlp_layers)

    @property
    def output_keys(self) -> frozenset[str]:
        """The keys of each per-view output dict (the losses check their needs against these at build time)."""
        return self.representation.output_keys

    # -- switches -------------------------------------------------------------------------------------------------

    def set_gradient_checkpointing(
        self, encoder: bool | None = None, info_sharing: bool | None = None, pred_head: bool | None = None
    ) -> None:
        """Switch checkpointing per part (None leaves a part unchanged).

        `encoder` covers the image ViT and the dense ray / depth encoders; `pred_head` covers the whole DPT (feature
        head, regressor, full-resolution resize), which then runs one view at a time, each view its own segment.
        """
        if encoder is not None:
            self.encoder.model.gradient_checkpointing = encoder
            self.ray_dirs_encoder.gradient_checkpointing = encoder
            self.depth_encoder.gradient_checkpointing = encoder
        if info_sharing is not None:
            self.info_sharing.gradient_checkpointing = info_sharing
        if pred_head is not None:
            self.dpt_feature_head.gradient_checkpointing = pred_head
            self.dpt_regressor_head.gradient_checkpointing = pred_head

    @property
    def geometric_encoders(self) -> GeometricEncoders:
        return GeometricEncoders(
            self.ray_dirs_encoder,
            self.depth_encoder,
            self.depth_scale_encoder,
            self.cam_rot_encoder,
            self.cam_trans_encoder,
            self.cam_trans_scale_encoder,
            self.fusion_norm_layer,
        )

    # -- forward --------------------------------------------------------------------------------------------------

    def _dense_head(
        self, inputs: list[torch.Tensor], image_size: tuple[int, int], chunk_size: int
    ) -> torch.Tensor:
        """DPT feature head + regressor: four maps `(V·B, C_k, h, w)` -> `(V·B, channels, H, W)`.

        With pred-head checkpointing the pair runs in slices of `chunk_size` samples (one view), each slice one
        checkpoint segment with the inner checkpoints off: the backward pass then recomputes and holds the
        full-resolution maps of one view at a time instead of all V. The DPT treats samples independently, so the
        result is the same as one call.
        """
        feature_head, regressor = self.dpt_feature_head, self.dpt_regressor_head
        if not (feature_head.gradient_checkpointing and regressor.gradient_checkpointing):
            return regressor(feature_head(inputs), image_size)

        def run(*maps: torch.Tensor) -> torch.Tensor:
            return regressor(feature_head(maps, checkpointing=False), image_size, checkpointing=False)

        return checkpoint_in_chunks(True, run, inputs, chunk_size)

    def _check_views(self, views: Sequence[View]) -> None:
        if not views:
            raise MapaInputError("MapAnything.forward needs at least one view")
        for i, view in enumerate(views):  # every view has an image before any image is read
            if "img" not in view:
                raise MapaInputError(f"view {i} has no 'img' (B, 3, H, W)")
        shape = tuple(views[0]["img"].shape)
        if len(shape) != 4:
            raise MapaInputError(f"view 0 'img' must be (B, 3, H, W), got {shape}")
        patch = self.config.encoder.patch_size
        for i, view in enumerate(views):
            if tuple(view["img"].shape) != shape:
                raise MapaInputError(
                    f"view {i} image shape {tuple(view['img'].shape)} differs from view 0 {shape}"
                )
        if shape[-1] % patch or shape[-2] % patch:
            raise MapaInputError(
                f"image size {shape[-2]}x{shape[-1]} is not a multiple of the patch size {patch}"
            )

    def forward(self, views: Sequence[View], task: TaskConfig | None = None) -> list[dict[str, torch.Tensor]]:
        """views: V dicts with `img (B, 3, H, W)` (DINOv2-normalised) and optional `ray_directions_cam (B, H, W, 3)`,
        `depth_along_ray (B, H, W, 1)`, `camera_pose_quats (B, 4)` xyzw cam2world, `camera_pose_trans (B, 3)`,
        `is_metric_scale (B,)`. `task` overrides the config's geometric-input sampling for this call."""
        self._check_views(views)
        num_views = len(views)
        batch, _, height, width = views[0]["img"].shape
        images = torch.cat([v["img"] for v in views])
        features, cls_tokens = self.encoder(images)
        fused = encode_and_fuse(self.geometric_encoders, features, views, task or self.config.task)
        fused = fused.to(features.dtype)
        per_view = list(fused.chunk(num_views))
        extra = None
        if self.config.use_register_tokens_from_encoder:
            extra = [c[..., None] for c in cls_tokens.chunk(num_views)]
        scale_token = None
        if self.representation.scale:
            scale_token = self.scale_token[None, :, None].expand(batch, -1, -1).to(fused.dtype)
        shared = self.info_sharing(per_view, extra, scale_token)
        taps = [torch.cat(maps) for maps in shared.intermediates]
        final = torch.cat(shared.final)
        dpt_inputs = [fused, *taps, final] if self.use_encoder_features_for_dpt else [*taps, final]
        with torch.autocast(device_type=fused.device.type, enabled=False):
            dense = self._dense_head([x.float() for x in dpt_inputs], (height, width), batch)
            pose = self.pose_head(final.float()) if self.representation.pose else None
            metric = None
            if self.representation.scale:
                metric = adaptors.metric_scale(self.scale_head(shared.global_token.float()))
        return compose_outputs(self.representation, dense, pose, metric, num_views)
