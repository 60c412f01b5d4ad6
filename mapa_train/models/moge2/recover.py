"""Recovering focal length and z-shift from MoGe's affine-invariant point map, as a detached least-squares fit.

MoGe predicts points up to an unknown shift along z. On the view plane (half-diagonal 1, `view_plane_uv`) a
pinhole camera satisfies uv ≈ f · xy / (z + s). For a given shift the best focal is closed-form; the shift is the
minimiser of the remaining error, found by a 1-D search (the reference solves the same problem with SciPy). Both
work on a 64×64 nearest downsample. Nothing here is differentiated: the result is used as a constant, as in the reference.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mapa_train.models.blocks.view_plane import view_plane_uv

FIT_SIZE = 64
MIN_PIXELS = 16
GRID = 64


def _fit(
    uv: torch.Tensor,
    xy: torch.Tensor,
    z: torch.Tensor,
    w: torch.Tensor,
    shifts: torch.Tensor,
    focal: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """For candidate shifts `(B, K)`: the focal `(B, K)` (best in closed form, or the given one `(B,)`) and the
    remaining weighted squared error `(B, K)`."""
    depth = (z[:, None] + shifts[..., None, None]).clamp_min(1e-6)
    proj = xy[:, None] / depth[..., None]  # (B, K, S, S, 2)
    weight = w[:, None, ..., None]
    if focal is None:
        cross = (weight * proj * uv[:, None]).sum((2, 3, 4))
        power = (weight * proj.square()).sum((2, 3, 4)).clamp_min(1e-12)
        best = cross / power
        return best, (weight * uv[:, None].square()).sum((2, 3, 4)) - cross * best
    fixed = focal[:, None].expand_as(shifts)
    error = (weight * (fixed[..., None, None, None] * proj - uv[:, None]).square()).sum((2, 3, 4))
    return fixed, error


@torch.no_grad()
def recover_focal_shift(
    points: torch.Tensor,
    mask: torch.Tensor | None = None,
    focal: torch.Tensor | None = None,
    refinements: int = 40,
) -> tuple[torch.Tensor, torch.Tensor]:
    """points `(B, H, W, 3)` (affine-invariant), mask `(B, H, W)` bool -> focal `(B,)` (in half-diagonal units)
    and z-shift `(B,)`. With `focal` given (a known field of view, as MoGe's `infer(fov_x=...)`), only the shift
    is solved for. Samples whose mask keeps fewer than 16 fit pixels use every pixel.

    Points and their pixels' view-plane coordinates are downsampled with the same nearest pick, so each fitted
    point keeps its own pixel. The shift is searched on a log-spaced grid above the smallest shift that puts every
    fitted pixel in front of the camera, then refined by golden-section search around the best grid point.
    """
    batch, height, width, _ = points.shape
    # The fit runs in float64 on the CPU (the reference uses SciPy there too; MPS has no float64): focal and shift
    # are strongly correlated when the depth range is narrow against the shift, and float32 sums over the grid
    # would limit the result to about 1e-3.
    device = points.device
    points = points.detach().to("cpu", torch.float64)
    mask = None if mask is None else mask.detach().cpu()
    small = F.interpolate(points.permute(0, 3, 1, 2), (FIT_SIZE, FIT_SIZE), mode="nearest")
    small = small.permute(0, 2, 3, 1)
    if mask is None:
        weight = torch.ones(batch, FIT_SIZE, FIT_SIZE, device=points.device, dtype=torch.float64)
    else:
        weight = F.interpolate(mask[:, None].double(), (FIT_SIZE, FIT_SIZE), mode="nearest")[:, 0]
        weight[weight.sum((1, 2)) < MIN_PIXELS] = 1.0
    uv = view_plane_uv(height, width, device=points.device, dtype=torch.float64).permute(2, 0, 1)[None]
    uv = F.interpolate(uv, (FIT_SIZE, FIT_SIZE), mode="nearest").permute(0, 2, 3, 1).expand(batch, -1, -1, -1)
    if focal is not None:
        focal = focal.to(device=points.device, dtype=torch.float64)
    xy, z = small[..., :2], small[..., 2]
    z_min = (z + (1 - weight) * 1e12).amin((1, 2))
    spread = ((z - z_min[:, None, None]).abs() * weight).sum((1, 2)) / weight.sum((1, 2))
    lowest = 1e-3 * spread.clamp_min(1e-6) - z_min
    offsets = (
        torch.logspace(-4, 4, GRID, device=points.device, dtype=torch.float64)[None]
        * spread.clamp_min(1e-6)[:, None]
    )
    grid = lowest[:, None] + torch.cat([torch.zeros_like(offsets[:, :1]), offsets], dim=1)
    _, error = _fit(uv, xy, z, weight, grid, focal)
    best = error.argmin(dim=1, keepdim=True)
    lo = grid.gather(1, (best - 1).clamp_min(0))[:, 0]
    hi = grid.gather(1, (best + 1).clamp_max(grid.shape[1] - 1))[:, 0]
    ratio = (5**0.5 - 1) / 2
    for _ in range(refinements):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        _, err = _fit(uv, xy, z, weight, torch.stack([a, b], dim=1), focal)
        left = err[:, 0] < err[:, 1]
        hi = torch.where(left, b, hi)
        lo = torch.where(left, lo, a)
    shift = (lo + hi) / 2
    fitted, _ = _fit(uv, xy, z, weight, shift[:, None], focal)
    return fitted[:, 0].to(device, torch.float32), shift.to(device, torch.float32)


def focal_from_fov_x(fov_x: torch.Tensor, aspect_ratio: float) -> torch.Tensor:
    """fov_x `(B,)` in degrees -> focal `(B,)` in view-plane units (half image diagonal = 1), MoGe's convention."""
    diag = math.sqrt(1.0 + aspect_ratio**2)
    return aspect_ratio / diag / torch.tan(torch.deg2rad(fov_x) / 2)


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
