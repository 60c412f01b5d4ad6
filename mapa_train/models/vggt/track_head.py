"""VGGT's track head: a feature-only DPT turns four aggregator iterations into per-frame feature maps at half the
image resolution, and the point tracker follows query points of the first frame through every frame on them.

Keys follow VGGT (`feature_extractor.*` = DPT layout with a full-width `scratch.output_conv1`, `tracker.*`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mapa_train.errors import MapaInputError
from mapa_train.models.vggt.config import VGGTTrackHeadConfig
from mapa_train.models.vggt.dpt_head import VGGTDPTHead
from mapa_train.models.vggt.tracker import TrackEstimate, TrackPredictor


class TrackHead(nn.Module):
    """Tokens `(B, V, P, dim_in)` of four iterations + query points `(B, N, 2)` (x, y pixels in view 0) ->
    a `TrackEstimate` with tracks `(B, V, N, 2)` in pixels of every view."""

    def __init__(
        self,
        dim_in: int,
        config: VGGTTrackHeadConfig,
        out_channels: Sequence[int] = (256, 512, 1024, 1024),
        gradient_checkpointing: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.feature_extractor = VGGTDPTHead(
            dim_in,
            None,
            features=config.features,
            out_channels=out_channels,
            gradient_checkpointing=gradient_checkpointing,
            down_ratio=config.down_ratio,
            pos_embed=False,  # the official tracker's feature extractor has no view-plane embedding
        )
        self.tracker = TrackPredictor(config)
        self.gradient_checkpointing = gradient_checkpointing

    @property
    def gradient_checkpointing(self) -> bool:
        """Checkpoint the feature extractor's DPT stages and the update transformer's blocks."""
        return self.feature_extractor.gradient_checkpointing

    @gradient_checkpointing.setter
    def gradient_checkpointing(self, enabled: bool) -> None:
        self.feature_extractor.gradient_checkpointing = enabled
        self.tracker.updateformer.gradient_checkpointing = enabled

    def forward(
        self,
        tapped: Sequence[torch.Tensor],
        patch_start_idx: int,
        image_size: tuple[int, int],
        patch: int,
        query_points: torch.Tensor,
        iterations: int | None = None,
        logits: bool = False,
    ) -> TrackEstimate:
        batch, views = tapped[0].shape[:2]
        if query_points.ndim != 3 or query_points.shape[0] != batch or query_points.shape[-1] != 2:
            raise MapaInputError(
                f"VGGT.track: query_points must be (B={batch}, N, 2) pixel (x, y) in the first view, "
                f"got {tuple(query_points.shape)}"
            )
        if iterations is not None and iterations < 1:
            raise MapaInputError(
                f"VGGT.track needs at least one refinement pass, got iterations={iterations}"
            )
        fmaps = self.feature_extractor(tapped, patch_start_idx, image_size, patch)
        fmaps = fmaps.reshape(batch, views, *fmaps.shape[1:])
        return self.tracker(query_points, fmaps, iterations, logits)
