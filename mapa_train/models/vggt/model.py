"""The VGGT network and its reference-style wrapper.

`predict(images)` returns VGGT's native outputs; `forward(views)` turns them into the reference wrapper's per-view
dict (same keys as MapAnything where meaningful); `track(images, query_points)` follows points of the first view
through all views. Module names equal the official state-dict prefixes (`aggregator`, `camera_head`, `depth_head`,
`point_head`, `track_head`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from mapa_train.errors import MapaConfigError, MapaInputError
from mapa_train.models.blocks.image_views import View, stack_views
from mapa_train.models.geometry import invert_pose, rays_from_intrinsics, rotmat_to_quat, transform_points
from mapa_train.models.vggt.aggregator import Aggregator
from mapa_train.models.vggt.camera_head import CameraHead, pose_encoding_to_extrinsics_intrinsics
from mapa_train.models.vggt.config import VGGTConfig
from mapa_train.models.vggt.dpt_head import VGGTDPTHead
from mapa_train.models.vggt.track_head import TrackHead
from mapa_train.models.vggt.tracker import TrackEstimate


def activate_dense(raw: torch.Tensor, activation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw `(N, c+1, H, W)` -> values `(N, H, W, c)` (`exp` or sign·expm1(|x|) "inv_log") and confidence
    `(N, H, W)` = 1 + exp(x)."""
    raw = raw.permute(0, 2, 3, 1)
    values, conf = raw[..., :-1], raw[..., -1]
    if activation == "exp":
        values = torch.exp(values)
    else:
        values = torch.sign(values) * torch.expm1(values.abs())
    return values, 1 + torch.exp(conf)


class VGGT(nn.Module):
    """VGGT. Inputs are images in [0, 1] (normalised internally); the first view defines the world frame."""

    data_norm_type = "identity"

    def __init__(self, config: VGGTConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.encoder.embed_dim
        heads = config.pred_head
        if len(heads.dpt_layers) != 4 or not all(
            0 <= i < config.info_sharing.depth for i in heads.dpt_layers
        ):
            raise MapaConfigError(
                f"dpt_layers {heads.dpt_layers} must be 4 indices below {config.info_sharing.depth}"
            )
        self.aggregator = Aggregator(config.encoder, config.info_sharing)
        self.camera_head = CameraHead(
            2 * dim, heads.camera_trunk_depth, heads.camera_num_heads, heads.camera_iterations
        )
        dpt = {
            "features": heads.dpt_features,
            "out_channels": heads.dpt_out_channels,
            "gradient_checkpointing": heads.gradient_checkpointing,
        }
        self.depth_head = VGGTDPTHead(2 * dim, 2, **dpt)
        if heads.point_head:
            self.point_head = VGGTDPTHead(2 * dim, 4, **dpt)
        if heads.track_head:
            self.track_head = TrackHead(
                2 * dim, heads.track, heads.dpt_out_channels, heads.gradient_checkpointing
            )

    def set_gradient_checkpointing(
        self, encoder: bool | None = None, info_sharing: bool | None = None, pred_head: bool | None = None
    ) -> None:
        """Switch checkpointing per part (None leaves a part unchanged)."""
        if encoder is not None:
            self.aggregator.patch_embed.gradient_checkpointing = encoder
        if info_sharing is not None:
            self.aggregator.gradient_checkpointing = info_sharing
        if pred_head is not None:
            heads = (self.depth_head, getattr(self, "point_head", None), getattr(self, "track_head", None))
            for head in heads:
                if head is not None:
                    head.gradient_checkpointing = pred_head

    def _track(
        self,
        tokens: dict[int, torch.Tensor],
        image_size: tuple[int, int],
        query_points: torch.Tensor,
        iterations: int | None,
        logits: bool,
    ) -> TrackEstimate:
        if not hasattr(self, "track_head"):
            raise MapaInputError(f"{self.config.name} was built without a track head (pred_head.track_head)")
        tapped = [tokens[i].float() for i in self.config.pred_head.dpt_layers]
        start = self.aggregator.patch_start_idx
        patch = self.aggregator.patch_embed.patch_size
        return self.track_head(tapped, start, image_size, patch, query_points.float(), iterations, logits)

    def track(
        self,
        images: torch.Tensor,
        query_points: torch.Tensor,
        iterations: int | None = None,
        logits: bool = False,
    ) -> dict[str, Any]:
        """Follow points of the first view through all views.

        images `(B, V, 3, H, W)` in [0, 1]; query_points `(B, N, 2)` pixel (x, y) in view 0 ->
        `tracks (B, V, N, 2)` pixel (x, y) in every view (view 0 = the queries), `track_list` (one such estimate per
        refinement pass), `visibility (B, V, N)` and `track_conf (B, V, N)` (probabilities, or logits with
        `logits=True`; `track_conf` is None when the head predicts no confidence).
        """
        layers = set(self.config.pred_head.dpt_layers)
        tokens = self.aggregator(images, layers)
        with torch.autocast(device_type=images.device.type, enabled=False):
            estimate = self._track(tokens, tuple(images.shape[-2:]), query_points, iterations, logits)
        return {
            "tracks": estimate.tracks[-1],
            "track_list": estimate.tracks,
            "visibility": estimate.visibility,
            "track_conf": estimate.confidence,
        }

    def predict(
        self, images: torch.Tensor, with_points: bool = True, query_points: torch.Tensor | None = None
    ) -> dict[str, Any]:
        """images `(B, V, 3, H, W)` in [0, 1] -> `pose_enc (B, V, 9)` (and `pose_enc_list`), `depth (B, V, H, W, 1)`,
        `depth_conf (B, V, H, W)`, with the point head `world_points (B, V, H, W, 3)`, `world_points_conf`, and
        with query points `(B, N, 2)` the outputs of `track` (`tracks`, `track_list`, `visibility`, `track_conf`)."""
        batch, views, _, height, width = images.shape
        layers = list(self.config.pred_head.dpt_layers)
        last = self.config.info_sharing.depth - 1
        tokens = self.aggregator(images, set(layers) | {last})
        start = self.aggregator.patch_start_idx
        patch = self.aggregator.patch_embed.patch_size
        out: dict[str, Any] = {}
        with torch.autocast(device_type=images.device.type, enabled=False):
            encodings = self.camera_head(tokens[last][:, :, 0].float())
            out["pose_enc"], out["pose_enc_list"] = encodings[-1], encodings
            tapped = [tokens[i].float() for i in layers]
            depth, conf = activate_dense(self.depth_head(tapped, start, (height, width), patch), "exp")
            out["depth"] = depth.reshape(batch, views, height, width, 1)
            out["depth_conf"] = conf.reshape(batch, views, height, width)
            if with_points and hasattr(self, "point_head"):
                points, conf = activate_dense(
                    self.point_head(tapped, start, (height, width), patch), "inv_log"
                )
                out["world_points"] = points.reshape(batch, views, height, width, 3)
                out["world_points_conf"] = conf.reshape(batch, views, height, width)
            if query_points is not None:
                estimate = self._track(tokens, (height, width), query_points, None, False)
                out["tracks"], out["track_list"] = estimate.tracks[-1], estimate.tracks
                out["visibility"], out["track_conf"] = estimate.visibility, estimate.confidence
        return out

    def forward(self, views: Sequence[View]) -> list[dict[str, torch.Tensor]]:
        """views: V dicts with `img (B, 3, H, W)` in [0, 1] -> per-view `pts3d`, `pts3d_cam`, `ray_directions`,
        `depth_along_ray`, `depth_z`, `cam_trans`, `cam_quats` (cam2world, xyzw), `intrinsics`, `conf`.

        World points come from the depth and camera heads (not the point head), as in the reference wrapper.
        """
        images = stack_views(views, "VGGT", self.aggregator.patch_embed.patch_size)
        height, width = images.shape[-2:]
        pred = self.predict(images, with_points=False)
        extrinsics, intrinsics = pose_encoding_to_extrinsics_intrinsics(pred["pose_enc"], height, width)
        outputs = []
        for v in range(images.shape[1]):
            cam2world = invert_pose(extrinsics[:, v])
            rays = rays_from_intrinsics(intrinsics[:, v], height, width)
            depth_z = pred["depth"][:, v]
            pts_cam = rays / rays[..., 2:3] * depth_z
            outputs.append(
                {
                    "pts3d": transform_points(cam2world, pts_cam),
                    "pts3d_cam": pts_cam,
                    "ray_directions": rays,
                    "depth_along_ray": depth_z / rays[..., 2:3],
                    "depth_z": depth_z,
                    "cam_trans": cam2world[:, :3, 3],
                    "cam_quats": rotmat_to_quat(cam2world[:, :3, :3]),
                    "intrinsics": intrinsics[:, v],
                    "conf": pred["depth_conf"][:, v],
                }
            )
        return outputs
