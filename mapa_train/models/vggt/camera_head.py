"""VGGT's camera head: the per-frame camera tokens are refined in a few passes by a transformer trunk that attends
across the frames, each pass conditioned (AdaLN) on the embedding of the current pose estimate.

Pose encoding (9): absolute translation (3), quaternion xyzw (4), field of view (h, w) (2); it describes the
world-to-camera extrinsic of each frame, the first frame being the world frame.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.models.blocks.mlp import Mlp
from mapa_train.models.blocks.transformer_block import Block
from mapa_train.models.geometry import quat_to_rotmat

POSE_ENCODING_DIM = 9
MIN_FOV = 1e-3  # radians; keeps the focal length finite where the ReLU'd FoV hits zero


def activate_pose(raw: torch.Tensor) -> torch.Tensor:
    """Raw encoding `(…, 9)` -> translation and quaternion linear, FoV through ReLU."""
    return torch.cat([raw[..., :7], F.relu(raw[..., 7:])], dim=-1)


def pose_encoding_to_extrinsics_intrinsics(
    encoding: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoding `(…, 9)` -> world-to-camera extrinsics `(…, 3, 4)` and pixel intrinsics `(…, 3, 3)`
    (principal point at the image centre, fx = (W/2)/tan(fov_w/2), fy = (H/2)/tan(fov_h/2))."""
    trans, quat = encoding[..., :3], encoding[..., 3:7]
    fov_h, fov_w = encoding[..., 7].clamp_min(MIN_FOV), encoding[..., 8].clamp_min(MIN_FOV)
    extrinsics = torch.cat([quat_to_rotmat(quat), trans[..., None]], dim=-1)
    intrinsics = torch.zeros(*encoding.shape[:-1], 3, 3, dtype=encoding.dtype, device=encoding.device)
    intrinsics[..., 0, 0] = (width / 2.0) / torch.tan(fov_w / 2.0)
    intrinsics[..., 1, 1] = (height / 2.0) / torch.tan(fov_h / 2.0)
    intrinsics[..., 0, 2] = width / 2.0
    intrinsics[..., 1, 2] = height / 2.0
    intrinsics[..., 2, 2] = 1.0
    return extrinsics, intrinsics


class CameraHead(nn.Module):
    """Camera tokens `(B, V, dim)` -> a list of activated pose encodings `(B, V, 9)`, one per refinement pass."""

    def __init__(self, dim: int, trunk_depth: int = 4, num_heads: int = 16, iterations: int = 4) -> None:
        super().__init__()
        self.iterations = iterations
        self.trunk = nn.Sequential(
            *(Block(dim, num_heads, 4.0, init_values=0.01, norm_eps=1e-5) for _ in range(trunk_depth))
        )
        self.token_norm = nn.LayerNorm(dim)
        self.trunk_norm = nn.LayerNorm(dim)
        self.empty_pose_tokens = nn.Parameter(torch.zeros(1, 1, POSE_ENCODING_DIM))
        self.embed_pose = nn.Linear(POSE_ENCODING_DIM, dim)
        self.poseLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 3 * dim))
        self.adaln_norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.pose_branch = Mlp(dim, dim // 2, POSE_ENCODING_DIM)

    def forward(self, camera_tokens: torch.Tensor) -> list[torch.Tensor]:
        tokens = self.token_norm(camera_tokens)
        batch, views, _ = tokens.shape
        raw = None
        encodings = []
        for _ in range(self.iterations):
            if raw is None:
                condition = self.embed_pose(self.empty_pose_tokens.expand(batch, views, -1))
            else:
                condition = self.embed_pose(raw.detach())
            shift, scale, gate = self.poseLN_modulation(condition).chunk(3, dim=-1)
            modulated = gate * (self.adaln_norm(tokens) * (1 + scale) + shift) + tokens
            delta = self.pose_branch(self.trunk_norm(self.trunk(modulated)))
            raw = delta if raw is None else raw + delta
            encodings.append(activate_pose(raw))
        return encodings
