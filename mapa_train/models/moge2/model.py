"""The MoGe-2 network (single view) and its reference-style wrapper.

`predict(image, num_tokens)` is MoGe's native forward: affine-invariant camera points, mask probability, metric
scale (and normals for `-normal` models), the path to fine-tune. `forward(views)` is the reference wrapper's
inference path: focal and z-shift recovered by a detached fit, depth re-projected through the recovered pinhole and
multiplied by the metric scale. Module names equal MoGe's state-dict keys (`encoder.backbone`,
`encoder.output_projections`, `encoder.image_mean/std`, `neck`, `points_head`, `mask_head`, `normal_head`,
`scale_head`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.errors import MapaConfigError, MapaInputError
from mapa_train.models.blocks import adaptors
from mapa_train.models.blocks.image_views import IMAGENET_MEAN, IMAGENET_STD, View, stack_views
from mapa_train.models.blocks.view_plane import view_plane_uv
from mapa_train.models.blocks.vit_encoder import VisionTransformer
from mapa_train.models.geometry import normalize, normalized_to_pixel_intrinsics, rays_from_intrinsics
from mapa_train.models.moge2.config import MoGe2Config
from mapa_train.models.moge2.conv_stack import ConvStack
from mapa_train.models.moge2.recover import normalized_intrinsics, recover_focal_shift

UV_CHANNELS = 2
PYRAMID_LEVELS = 5


def token_grid(height: int, width: int, num_tokens: int) -> tuple[int, int]:
    """MoGe's token grid for an image and a token budget: rows √(N/ar) and columns √(N·ar), each rounded to the
    nearest integer (Python's `round`, as the official MoGe-2 code)."""
    ratio = width / height
    return round(math.sqrt(num_tokens / ratio)), round(math.sqrt(num_tokens * ratio))


class MoGeEncoder(nn.Module):
    """DINOv2 backbone whose tapped, normed layers are each projected (1×1) and summed."""

    def __init__(self, config: MoGe2Config) -> None:
        super().__init__()
        self.intermediate_layers = list(config.intermediate_layers)
        self.backbone = VisionTransformer(config.encoder)
        width = config.encoder.embed_dim
        self.output_projections = nn.ModuleList(
            nn.Conv2d(width, config.feature_dim, 1) for _ in config.intermediate_layers
        )
        self.register_buffer("image_mean", torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1))
        self.register_buffer("image_std", torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1))

    def forward(self, image: torch.Tensor, rows: int, cols: int) -> tuple[torch.Tensor, torch.Tensor]:
        """image `(B, 3, H, W)` in [0, 1] -> features `(B, feature_dim, rows, cols)` and CLS token `(B, C)`."""
        patch = self.backbone.patch_size
        x = F.interpolate(
            image, (rows * patch, cols * patch), mode="bilinear", align_corners=False, antialias=True
        )
        x = (x - self.image_mean) / self.image_std
        taps = self.backbone.get_intermediate_layers(x, self.intermediate_layers, norm=True)
        maps = [
            proj(tokens.transpose(1, 2).reshape(tokens.shape[0], -1, rows, cols))
            for proj, (tokens, _) in zip(self.output_projections, taps, strict=True)
        ]
        return torch.stack(maps).sum(0), taps[-1][1]


class MoGe2(nn.Module):
    """MoGe-2. Takes exactly one view; images in [0, 1] (normalised internally)."""

    data_norm_type = "identity"

    def __init__(self, config: MoGe2Config) -> None:
        super().__init__()
        self.config = config
        head = config.pred_head
        dims = list(head.neck_dims)
        if len(dims) != PYRAMID_LEVELS or len(head.resamplers) != PYRAMID_LEVELS - 1:
            raise MapaConfigError(
                f"MoGe-2 needs {PYRAMID_LEVELS} pyramid widths and {PYRAMID_LEVELS - 1} resamplers"
            )
        self.encoder = MoGeEncoder(config)
        neck_in = [config.feature_dim + UV_CHANNELS] + [UV_CHANNELS] * (PYRAMID_LEVELS - 1)
        none = [None] * (PYRAMID_LEVELS - 1)
        self.neck = ConvStack(neck_in, dims, head.neck_res_blocks, head.resamplers, [None] * PYRAMID_LEVELS)
        self.points_head = ConvStack(dims, dims, head.head_res_blocks, head.resamplers, [*none, 3])
        self.mask_head = ConvStack(dims, dims, head.head_res_blocks, head.resamplers, [*none, 1])
        if head.normal_head:
            self.normal_head = ConvStack(dims, dims, head.head_res_blocks, head.resamplers, [*none, 3])
        widths = [config.encoder.embed_dim, *head.scale_hidden]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.scale_head = nn.Sequential(*layers, nn.Linear(widths[-1], 1))
        self.set_gradient_checkpointing(pred_head=head.gradient_checkpointing)

    def _dense_heads(self) -> list[ConvStack]:
        return [
            self.neck,
            self.points_head,
            self.mask_head,
            *([self.normal_head] if self.config.pred_head.normal_head else []),
        ]

    def set_gradient_checkpointing(
        self, encoder: bool | None = None, info_sharing: bool | None = None, pred_head: bool | None = None
    ) -> None:
        """Switch checkpointing per part (MoGe-2 has no multi-view part: `info_sharing` is accepted and ignored)."""
        if encoder is not None:
            self.encoder.backbone.gradient_checkpointing = encoder
        if pred_head is not None:
            for stack in self._dense_heads():
                stack.gradient_checkpointing = pred_head

    def predict(self, image: torch.Tensor, num_tokens: int) -> dict[str, torch.Tensor]:
        """image `(B, 3, H, W)` in [0, 1] -> `points (B, H, W, 3)` affine-invariant, `mask (B, H, W)` probability,
        `mask_logits (B, H, W)`, `metric_scale (B,)`, and `normal (B, H, W, 3)` when the model has a normal head."""
        batch, _, height, width = image.shape
        rows, cols = token_grid(height, width, num_tokens)
        if rows < 1 or cols < 1:
            raise MapaInputError(
                f"MoGe-2: {num_tokens} tokens give an empty grid for a {height}x{width} image"
            )
        features, cls_token = self.encoder(image, rows, cols)
        levels = []
        for level in range(PYRAMID_LEVELS):
            uv = view_plane_uv(rows * 2**level, cols * 2**level, width / height, image.device, features.dtype)
            uv = uv.permute(2, 0, 1)[None].expand(batch, -1, -1, -1)
            levels.append(torch.cat([features, uv], dim=1) if level == 0 else uv)
        pyramid = self.neck(levels)
        out: dict[str, torch.Tensor] = {}
        with torch.autocast(device_type=image.device.type, enabled=False):
            pyramid = [p.float() for p in pyramid]

            def finest(head: ConvStack) -> torch.Tensor:
                raw = head(pyramid)[-1]
                return F.interpolate(raw, (height, width), mode="bilinear", align_corners=False).permute(
                    0, 2, 3, 1
                )

            out["points"] = adaptors.pointmap(finest(self.points_head), "z_exp")
            out["mask_logits"] = finest(self.mask_head)[..., 0]
            out["mask"] = torch.sigmoid(out["mask_logits"])
            if self.config.pred_head.normal_head:
                out["normal"] = normalize(finest(self.normal_head))
            out["metric_scale"] = torch.exp(self.scale_head(cls_token.float()))[:, 0]
        return out

    def forward(self, views: Sequence[View]) -> list[dict[str, Any]]:
        """views: exactly one dict with `img (B, 3, H, W)` in [0, 1] -> one dict: metric camera-frame `pts3d` =
        `pts3d_cam`, `depth_z`, `ray_directions`, `depth_along_ray`, identity `cam_trans` / `cam_quats`, normalised
        `intrinsics`, `non_ambiguous_mask` (mask > 0.5 and depth > 0) and `non_ambiguous_mask_logits`."""
        if len(views) != 1:
            raise MapaInputError(f"MoGe-2 is single-view: got {len(views)} views, expected 1")
        patch = self.encoder.backbone.patch_size
        image = stack_views(views, "MoGe2", patch)[:, 0]
        batch, _, height, width = image.shape
        pred = self.predict(image, (height // patch) * (width // patch))
        points, mask = pred["points"], pred["mask"] > 0.5
        focal, shift = recover_focal_shift(points.detach(), mask)
        intrinsics = normalized_intrinsics(focal, width / height).to(points.dtype)
        rays = rays_from_intrinsics(normalized_to_pixel_intrinsics(intrinsics, height, width), height, width)
        metric = pred["metric_scale"][:, None, None, None]
        depth_z = (points[..., 2:3] + shift[:, None, None, None]) * metric
        pts = rays / rays[..., 2:3] * depth_z
        out = {
            "pts3d": pts,
            "pts3d_cam": pts,
            "ray_directions": rays,
            "depth_along_ray": depth_z / rays[..., 2:3],
            "depth_z": depth_z,
            "cam_trans": torch.zeros(batch, 3, dtype=pts.dtype, device=pts.device),
            "cam_quats": torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=pts.dtype, device=pts.device).expand(
                batch, 4
            ),
            "intrinsics": intrinsics,
            "non_ambiguous_mask": mask & (depth_z[..., 0] > 0),
            "non_ambiguous_mask_logits": pred["mask_logits"],
        }
        if "normal" in pred:
            out["normal"] = pred["normal"]
        return [out]
