"""VGGT's point tracker: query points on the first frame are followed through every frame by iterative refinement.

Each pass builds, per track and frame, a token from (a) the sinusoidal embedding of its motion relative to the
query frame, (b) an MLP of the correlations between its current feature and a window of the correlation pyramid
around its current position, and (c) its current feature; adds the embedding of the query position and a learned
query-frame / other-frame token; and lets the update transformer predict a coordinate step and a feature update.
The query frame's coordinates are held fixed. Visibility and confidence are read from the final track features.
Key names follow VGGT's `tracker.*`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from mapa_train.models.blocks.mlp import Mlp
from mapa_train.models.vggt.config import VGGTTrackHeadConfig
from mapa_train.models.vggt.track_attention import UpdateFormer
from mapa_train.models.vggt.track_sampling import (
    CorrelationPyramid,
    grid_sincos_embedding,
    motion_embedding,
    sample_points,
)


@dataclass
class TrackEstimate:
    """Tracker output. `tracks`: one `(B, S, N, 2)` pixel-coordinate estimate per pass (last = final);
    `visibility`, `confidence`: `(B, S, N)` probabilities (or logits when asked); `confidence` is None when the
    tracker does not predict it."""

    tracks: list[torch.Tensor]
    visibility: torch.Tensor
    confidence: torch.Tensor | None


class TrackPredictor(nn.Module):
    """Query points `(B, N, 2)` in image pixels + feature maps `(B, S, C, h, w)` -> a `TrackEstimate`."""

    def __init__(self, config: VGGTTrackHeadConfig) -> None:
        super().__init__()
        self.config = config
        latent = config.features
        window = config.corr_levels * (2 * config.corr_radius + 1) ** 2
        self.transformer_dim = 3 * latent + 4  # motion embedding (latent + 4), correlations, features
        self.corr_mlp = Mlp(window, config.hidden_size, latent)
        self.query_ref_token = nn.Parameter(torch.randn(1, 2, self.transformer_dim))
        self.updateformer = UpdateFormer(
            self.transformer_dim,
            config.hidden_size,
            latent + 2,
            config.depth,
            config.num_heads,
            config.num_virtual_tracks,
            config.mlp_ratio,
        )
        self.fmap_norm = nn.LayerNorm(latent)
        self.ffeat_norm = nn.GroupNorm(1, latent)
        self.ffeat_updater = nn.Sequential(nn.Linear(latent, latent), nn.GELU())
        self.vis_predictor = nn.Sequential(nn.Linear(latent, 1))
        if config.predict_conf:
            self.conf_predictor = nn.Sequential(nn.Linear(latent, 1))

    def _frame_tokens(self, frames: int, dtype: torch.dtype) -> torch.Tensor:
        """`(1, S, D)`: the query-frame token for frame 0, the other-frame token for the rest."""
        first, rest = self.query_ref_token[:, :1], self.query_ref_token[:, 1:]
        return torch.cat([first, rest.expand(-1, frames - 1, -1)], dim=1).to(dtype)

    def forward(
        self,
        query_points: torch.Tensor,
        fmaps: torch.Tensor,
        iterations: int | None = None,
        logits: bool = False,
    ) -> TrackEstimate:
        cfg = self.config
        batch, tracks, _ = query_points.shape
        _, frames, latent, height, width = fmaps.shape
        fmaps = self.fmap_norm(fmaps.permute(0, 1, 3, 4, 2)).permute(0, 1, 4, 2, 3)
        query = query_points.to(fmaps.dtype) / cfg.stride  # pixels -> feature-map cells
        coords = query[:, None].expand(batch, frames, tracks, 2)
        query_feats = sample_points(fmaps[:, 0], query)  # (B, N, C)
        feats = query_feats[:, None].expand(batch, frames, tracks, latent)
        pyramid = CorrelationPyramid(fmaps, cfg.corr_levels, cfg.corr_radius)
        grid = grid_sincos_embedding(self.transformer_dim, height, width, fmaps.device).to(fmaps.dtype)
        position = sample_points(grid.expand(batch, -1, -1, -1), query).reshape(batch * tracks, 1, -1)
        frame_tokens = self._frame_tokens(frames, fmaps.dtype)

        estimates = []
        for _ in range(cfg.iterations if iterations is None else iterations):
            coords = coords.detach()
            corr = pyramid.sample(feats, coords)  # (B, S, N, L)
            corr = self.corr_mlp(corr.transpose(1, 2).reshape(batch * tracks, frames, -1))
            flows = (coords - coords[:, :1]).transpose(1, 2).reshape(batch * tracks, frames, 2)
            scaled = flows / cfg.max_scale
            motion = torch.cat([motion_embedding(flows, latent // 2).to(flows.dtype), scaled, scaled], dim=-1)
            track_feats = feats.transpose(1, 2).reshape(batch * tracks, frames, latent)
            tokens = torch.cat([motion, corr, track_feats], dim=-1) + position + frame_tokens
            update = self.updateformer(tokens.reshape(batch, tracks, frames, -1))
            update = update.reshape(batch * tracks * frames, latent + 2)
            step, feat_update = update[:, :2], update[:, 2:]
            track_feats = track_feats.reshape(-1, latent)
            track_feats = track_feats + self.ffeat_updater(self.ffeat_norm(feat_update))
            feats = track_feats.reshape(batch, tracks, frames, latent).transpose(1, 2)
            coords = coords + step.reshape(batch, tracks, frames, 2).transpose(1, 2)
            coords = torch.cat([query[:, None], coords[:, 1:]], dim=1)  # the query frame stays put
            estimates.append(coords * cfg.stride)

        flat = feats.reshape(-1, latent)
        visibility = self.vis_predictor(flat).reshape(batch, frames, tracks)
        confidence = None
        if cfg.predict_conf:
            confidence = self.conf_predictor(flat).reshape(batch, frames, tracks)
        if not logits:
            visibility = torch.sigmoid(visibility)
            confidence = None if confidence is None else torch.sigmoid(confidence)
        return TrackEstimate(estimates, visibility, confidence)
