"""Recovering focal length and z-shift from MoGe's affine-invariant point map, as a detached least-squares fit.

MoGe predicts points up to an unknown shift along z. On the view plane (half-diagonal 1, `view_plane_uv`) a
pinhole camera satisfies uv ≈ f · xy / (z + s). For a given shift the best focal is closed-form; the shift is the
minimiser of the remaining error, found by a 1-D search (the reference solves the same problem with SciPy). Both
work on a 64×64 nearest downsample. Nothing here is differentiated: the result is used as a constant, as in the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mapa_train.models.blocks.view_plane import view_plane_uv

FIT_SIZE = 64
MIN_PIXELS = 16
GRID = 64


def _fit(
    uv: torch.Tensor, xy: torch.Tensor, z: torch.Tensor, w: torch.Tensor, shifts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """For candidate shifts `(B, K)`: the best focal `(B, K)` and the remaining squared error `(B, K)`."""
    depth = (z[:, None] + shifts[..., None, None]).clamp_min(1e-6)
    proj = xy[:, None] / depth[..., None]  # (B, K, S, S, 2)
    weight = w[:, None, ..., None]
    cross = (weight * proj * uv[:, None]).sum((2, 3, 4))
    power = (weight * proj.square()).sum((2, 3, 4)).clamp_min(1e-12)
    focal = cross / power
    error = (weight * uv[:, None].square()).sum((2, 3, 4)) - cross * focal
    return focal, error


@torch.no_grad()
def recover_focal_shift(
    points: torch.Tensor, mask: torch.Tensor | None = None, refinements: int = 40
) -> tuple[torch.Tensor, torch.Tensor]:
    """points `(B, H, W, 3)` (affine-invariant), mask `(B, H, W)` bool -> focal `(B,)` (in half-diagonal units)
    and z-shift `(B,)`. Samples whose mask keeps fewer than 16 fit pixels use every pixel.

    The shift is searched on a log-spaced grid above the smallest shift that puts every fitted pixel in front of
    the camera, then refined by golden-section search around the best grid point.
    """
    batch, height, width, _ = points.shape
    small = F.interpolate(points.permute(0, 3, 1, 2).float(), (FIT_SIZE, FIT_SIZE), mode="nearest")
    small = small.permute(0, 2, 3, 1)
    if mask is None:
        weight = torch.ones(batch, FIT_SIZE, FIT_SIZE, device=points.device)
    else:
        weight = F.interpolate(mask[:, None].float(), (FIT_SIZE, FIT_SIZE), mode="nearest")[:, 0]
        weight[weight.sum((1, 2)) < MIN_PIXELS] = 1.0
    uv = view_plane_uv(FIT_SIZE, FIT_SIZE, width / height, points.device)[None].expand(batch, -1, -1, -1)
    xy, z = small[..., :2], small[..., 2]
    z_min = (z + (1 - weight) * 1e12).amin((1, 2))
    spread = ((z - z_min[:, None, None]).abs() * weight).sum((1, 2)) / weight.sum((1, 2))
    lowest = 1e-3 * spread.clamp_min(1e-6) - z_min
    offsets = torch.logspace(-4, 4, GRID, device=points.device)[None] * spread.clamp_min(1e-6)[:, None]
    grid = lowest[:, None] + torch.cat([torch.zeros_like(offsets[:, :1]), offsets], dim=1)
    _, error = _fit(uv, xy, z, weight, grid)
    best = error.argmin(dim=1, keepdim=True)
    lo = grid.gather(1, (best - 1).clamp_min(0))[:, 0]
    hi = grid.gather(1, (best + 1).clamp_max(grid.shape[1] - 1))[:, 0]
    ratio = (5**0.5 - 1) / 2
    for _ in range(refinements):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        _, err = _fit(uv, xy, z, weight, torch.stack([a, b], dim=1))
        left = err[:, 0] < err[:, 1]
        hi = torch.where(left, b, hi)
        lo = torch.where(left, lo, a)
    shift = (lo + hi) / 2
    focal, _ = _fit(uv, xy, z, weight, shift[:, None])
    return focal[:, 0], shift


def normalized_intrinsics(focal: torch.Tensor, aspect_ratio: float) -> torch.Tensor:
    """Focal in half-diagonal units `(B,)` -> intrinsics `(B, 3, 3)` in image-size units (principal point (0.5, 0.5),
    fx in units of the width, fy of the height)."""
    diag = (1 + aspect_ratio**2) ** 0.5
    out = torch.zeros(focal.shape[0], 3, 3, dtype=focal.dtype, device=focal.device)
    out[:, 0, 0] = focal / 2 * diag / aspect_ratio
    out[:, 1, 1] = focal / 2 * diag
    out[:, 0, 2] = 0.5
    out[:, 1, 2] = 0.5
    out[:, 2, 2] = 1.0
    return out
