"""The π³ network and its reference-style wrapper.

No view is special: register tokens are shared by all frames and no view embedding exists, so permuting the input
views permutes the outputs (the output world frame is π³'s own). Module names equal the official state-dict keys
(`encoder`, `register_token`, `decoder`, `{point,conf,camera}_decoder`, `{point,conf,camera}_head`, and the
persistent `image_mean` / `image_std` buffers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks import adaptors
from mapa_train.models.blocks.frame_global_attention import frame_attention, global_attention
from mapa_train.models.blocks.image_views import IMAGENET_MEAN, IMAGENET_STD, View, stack_views
from mapa_train.models.blocks.rope import RotaryEmbedding2D, grid_positions
from mapa_train.models.blocks.transformer_block import Block
from mapa_train.models.blocks.vit_encoder import VisionTransformer
from mapa_train.models.geometry import normalize, rotmat_to_quat, transform_points
from mapa_train.models.pi3.config import Pi3Config
from mapa_train.models.pi3.heads import FrameDecoder, LinearPatchHead, Pi3CameraHead


class Pi3(nn.Module):
    """π³. Inputs are images in [0, 1] (normalised internally)."""

    data_norm_type = "identity"

    def __init__(self, config: Pi3Config) -> None:
        super().__init__()
        self.config = config
        dec, heads = config.info_sharing, config.pred_head
        dim = config.encoder.embed_dim
        if dec.depth < 2 or dec.depth % 2:
            raise MapaConfigError(f"the π³ decoder needs an even depth ≥ 2, got {dec.depth}")
        self.encoder = VisionTransformer(config.encoder)
        self.patch_size = config.encoder.patch_size
        self.rope = RotaryEmbedding2D(dec.rope_base)
        self.decoder = nn.ModuleList(
            Block(dim, dec.num_heads, dec.mlp_ratio, init_values=dec.init_values, norm_eps=1e-6, qk_norm=True)
            for _ in range(dec.depth)
        )
        self.register_token = nn.Parameter(torch.zeros(1, 1, dec.num_register_tokens, dim))
        nn.init.normal_(self.register_token, std=1e-6)
        self.patch_start_idx = dec.num_register_tokens
        self.decoder_gradient_checkpointing = dec.gradient_checkpointing
        args = (2 * dim, heads.dim, heads.depth, heads.num_heads)
        self.point_decoder = FrameDecoder(*args, heads.point_out_dim)
        self.conf_decoder = FrameDecoder(*args, heads.point_out_dim)
        self.camera_decoder = FrameDecoder(*args, heads.camera_out_dim)
        self.point_head = LinearPatchHead(heads.point_out_dim, 3, self.patch_size)
        self.conf_head = LinearPatchHead(heads.point_out_dim, 1, self.patch_size)
        self.camera_head = Pi3CameraHead(heads.camera_out_dim)
        self.register_buffer("image_mean", torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("image_std", torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1))
        self.set_gradient_checkpointing(pred_head=heads.gradient_checkpointing)

    def set_gradient_checkpointing(
        self, encoder: bool | None = None, info_sharing: bool | None = None, pred_head: bool | None = None
    ) -> None:
        """Switch checkpointing per part (None leaves a part unchanged)."""
        if encoder is not None:
            self.encoder.gradient_checkpointing = encoder
        if info_sharing is not None:
            self.decoder_gradient_checkpointing = info_sharing
        if pred_head is not None:
            for decoder in (self.point_decoder, self.conf_decoder, self.camera_decoder):
                decoder.gradient_checkpointing = pred_head

    def _decode(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """tokens, positions `(B, V, P, ·)` -> concat of the last frame and global block outputs `(B, V, P, 2C)`."""
        ckpt = self.decoder_gradient_checkpointing
        outputs = []
        for i, block in enumerate(self.decoder):
            run = frame_attention if i % 2 == 0 else global_attention
            tokens = run(block, tokens, positions, self.rope, ckpt)
            if i >= len(self.decoder) - 2:
                outputs.append(tokens)
        return torch.cat(outputs, dim=-1)

    def predict(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """images `(B, V, 3, H, W)` in [0, 1] -> `points (B, V, H, W, 3)` world, `local_points` (camera frame),
        `conf (B, V, H, W, 1)` raw logits, `camera_poses (B, V, 4, 4)` cam2world."""
        batch, views, _, height, width = images.shape
        grid = (height // self.patch_size, width // self.patch_size)
        x = ((images.reshape(batch * views, 3, height, width)) - self.image_mean) / self.image_std
        patches = self.encoder.forward_features(x)["x_norm_patchtokens"]
        patches = patches.reshape(batch, views, -1, patches.shape[-1])
        registers = self.register_token.expand(batch, views, -1, -1).to(patches.dtype)
        tokens = torch.cat([registers, patches], dim=2)
        positions = grid_positions(batch * views, *grid, self.patch_start_idx, x.device)
        hidden = self._decode(tokens, positions.reshape(batch, views, -1, 2))
        hidden = hidden.reshape(batch * views, -1, hidden.shape[-1])
        start = self.patch_start_idx
        point_tokens = self.point_decoder(hidden, self.rope, positions)[:, start:]
        conf_tokens = self.conf_decoder(hidden, self.rope, positions)[:, start:]
        camera_tokens = self.camera_decoder(hidden, self.rope, positions)[:, start:]
        with torch.autocast(device_type=images.device.type, enabled=False):
            raw = self.point_head(point_tokens.float(), grid).permute(0, 2, 3, 1)
            local = adaptors.pointmap(raw, "z_exp")
            conf = self.conf_head(conf_tokens.float(), grid).permute(0, 2, 3, 1)
            poses = self.camera_head(camera_tokens.float())
            points = transform_points(poses, local)
        shape = (batch, views, height, width)
        return {
            "points": points.reshape(*shape, 3),
            "local_points": local.reshape(*shape, 3),
            "conf": conf.reshape(*shape, 1),
            "camera_poses": poses.reshape(batch, views, 4, 4),
        }

    def forward(self, views: Sequence[View]) -> list[dict[str, Any]]:
        """views: V dicts with `img (B, 3, H, W)` in [0, 1] -> per-view `pts3d` (π³'s world frame), `pts3d_cam`,
        `ray_directions`, `depth_along_ray`, `depth_z`, `cam_trans`, `cam_quats` (cam2world, xyzw), `conf`
        (sigmoid of π³'s confidence logit, `(B, H, W)`) and `conf_logits`."""
        images = stack_views(views, "Pi3", self.patch_size)
        pred = self.predict(images)
        outputs = []
        for v in range(images.shape[1]):
            local, pose = pred["local_points"][:, v], pred["camera_poses"][:, v]
            logits = pred["conf"][:, v, ..., 0]
            outputs.append(
                {
                    "pts3d": pred["points"][:, v],
                    "pts3d_cam": local,
                    "ray_directions": normalize(local),
                    "depth_along_ray": local.norm(dim=-1, keepdim=True),
                    "depth_z": local[..., 2:3],
                    "cam_trans": pose[:, :3, 3],
                    "cam_quats": rotmat_to_quat(pose[:, :3, :3]),
                    "conf": torch.sigmoid(logits),
                    "conf_logits": logits,
                }
            )
        return outputs
