"""Parameter-free output adaptors: raw head channels -> rays, depth along the ray, pointmaps, quaternion and
translation, confidence, mask and metric scale, each with the reference's activation."""

from __future__ import annotations

from typing import Literal

import torch

from mapa_train.errors import MapaConfigError
from mapa_train.models.geometry import normalize

PointmapMode = Literal["linear", "square", "exp", "z_exp"]
ConfidenceMode = Literal["exp", "sigmoid"]


def ray_directions(raw: torch.Tensor) -> torch.Tensor:
    """`(…, 3)` -> unit ray directions (L2 norm clipped at 1e-8)."""
    return normalize(raw)


def depth_along_ray(raw: torch.Tensor) -> torch.Tensor:
    """`(…, 1)` -> positive range `exp(x)`."""
    return torch.exp(raw).clamp_min(0.0)


def confidence(
    raw: torch.Tensor, mode: ConfidenceMode = "exp", vmin: float = 1.0, vmax: float = 1.0
) -> torch.Tensor:
    """Confidence ≥ vmin: "exp" gives `vmin + exp(x)`; "sigmoid" gives `vmin + (vmax - vmin)·sigmoid(x)`."""
    if mode == "exp":
        return vmin + torch.exp(raw)
    if mode == "sigmoid":
        return vmin + (vmax - vmin) * torch.sigmoid(raw)
    raise MapaConfigError(f"unknown confidence mode {mode!r}; expected 'exp' or 'sigmoid'")


def mask_probability(logits: torch.Tensor) -> torch.Tensor:
    """Mask logits -> probability in (0, 1)."""
    return torch.sigmoid(logits)


def pointmap(raw: torch.Tensor, mode: PointmapMode = "exp") -> torch.Tensor:
    """`(…, 3)` -> points. "exp": p/|p|·expm1(|p|); "square": p·|p|; "z_exp": z = exp(c_z), x = c_x·z, y = c_y·z."""
    if mode == "linear":
        return raw
    norm = raw.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    if mode == "square":
        return raw * norm
    if mode == "exp":
        return raw / norm * torch.expm1(norm)
    if mode == "z_exp":
        z = torch.exp(raw[..., 2:3])
        return torch.cat([raw[..., :2] * z, z], dim=-1)
    raise MapaConfigError(f"unknown pointmap mode {mode!r}")


def rays_and_depth_from_points(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Camera points `(…, 3)` -> unit ray directions `(…, 3)` and depth along the ray `|p|` `(…, 1)`."""
    return normalize(points), points.norm(dim=-1, keepdim=True)


def translation_and_quaternion(raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`(N, 7)` = [t, q] -> translation `(N, 3)` (linear) and unit xyzw quaternion `(N, 4)`."""
    return raw[..., :3], normalize(raw[..., 3:7])


def metric_scale(raw: torch.Tensor, vmin: float = 1e-8) -> torch.Tensor:
    """Raw scale `(B, 1, 1)` -> positive metric scale `exp(x)` clipped at vmin, `(B, 1)`."""
    return torch.exp(raw).clamp_min(vmin).reshape(raw.shape[0], 1)
