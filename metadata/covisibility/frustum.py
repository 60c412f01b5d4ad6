"""The pre-filter: pairs (i, j) whose score is provably 0, found from two convex frusta per frame.

For source i, every unprojected point lies in the *source frustum*: the pyramid through pixel centres
[0, W-1] x [0, H-1] (the principal point where it really is, unlike the reference's symmetric cx/fx) between the
nearest and farthest valid depth. A point of i can count in target j only if it projects inside j's image
([-0.5, W-0.5) x [-0.5, H-0.5)) at a depth z > min_depth that agrees with some valid depth D of j:
``|z - D| < slack + rel * z`` with D in [near_j, far_j], i.e. z in [(near_j - slack) / (1 + rel),
(far_j + slack) / (1 - rel)]. That is j's *target frustum*. If the two frusta are disjoint the score is 0.

Disjointness is shown with separating planes: a face plane of one frustum that has all 8 corners of the other
strictly outside (by a margin far above float error). This never rejects an overlapping pair, so the matrix is the
same with and without the pre-filter; it may keep a few disjoint pairs (those separated only along an edge-edge
axis), which then just cost a reprojection. Frames without valid depth overlap nothing.
"""

from __future__ import annotations

import numpy as np

from metadata.covisibility.configs import CovisibilityParams
from metadata.covisibility.frames import FrameStack

_BLOCK = 128


def _frusta(
    intrinsics: np.ndarray,
    cam2world: np.ndarray,
    u_range: tuple[float, float],
    v_range: tuple[float, float],
    z_range: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """World-frame corners (N, 8, 3) and inward unit planes (N, 6, 4) [n, offset] of N camera frusta."""
    fx, fy, cx, cy = intrinsics.T
    xl, xr = (u_range[0] - cx) / fx, (u_range[1] - cx) / fx
    yt, yb = (v_range[0] - cy) / fy, (v_range[1] - cy) / fy
    z0, z1 = z_range
    n = len(fx)
    corners = np.empty((n, 8, 4))
    k = 0
    for z in (z0, z1):
        for a, b in ((xl, yt), (xr, yt), (xr, yb), (xl, yb)):
            corners[:, k] = np.stack([a * z, b * z, z, np.ones(n)], axis=-1)
            k += 1
    world = np.einsum("nrc,nkc->nkr", cam2world, corners)[..., :3]
    zero, one = np.zeros(n), np.ones(n)
    planes_cam = np.stack(
        [
            np.stack([one, zero, -xl, zero], -1),
            np.stack([-one, zero, xr, zero], -1),
            np.stack([zero, one, -yt, zero], -1),
            np.stack([zero, -one, yb, zero], -1),
            np.stack([zero, zero, one, -z0], -1),
            np.stack([zero, zero, -one, z1], -1),
        ],
        axis=1,
    )
    # n . X_cam + o >= 0 with X_cam = A X_world + b  ->  (A^T n) . X_world + (n . b + o) >= 0
    world2cam = np.linalg.inv(cam2world)
    normals = np.einsum("nrc,npr->npc", world2cam[:, :3, :3], planes_cam[..., :3])
    offsets = np.einsum("npr,nr->np", planes_cam[..., :3], world2cam[:, :3, 3]) + planes_cam[..., 3]
    norm = np.linalg.norm(normals, axis=-1)
    planes = np.concatenate([normals / norm[..., None], (offsets / norm)[..., None]], axis=-1)
    return world, planes


def _separated(planes: np.ndarray, corners: np.ndarray, margin: float) -> np.ndarray:
    """(I, J) bool: some plane of frustum i has every corner of frustum j outside by more than `margin`."""
    dist = np.einsum("ipk,jck->ijpc", planes[..., :3], corners) + planes[:, None, :, 3:4]
    return np.any(np.max(dist, axis=-1) < -margin, axis=-1)


def depth_ranges(depths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: nearest and farthest valid depth (0 where none), and whether any pixel is valid."""
    n = depths.shape[0]
    near, far, has = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    for k in range(n):
        valid = depths[k][depths[k] > 0]
        if valid.size:
            near[k], far[k], has[k] = float(valid.min()), float(valid.max()), True
    return near, far, has


def candidate_pairs(frames: FrameStack, params: CovisibilityParams) -> np.ndarray:
    """(N, N) bool: True where pair (source i, target j) may score above 0; the diagonal is always True."""
    n = len(frames)
    h, w = frames.size
    near, far, has = depth_ranges(frames.depths)
    intr = frames.intrinsics
    src_corners, src_planes = _frusta(intr, frames.cam2world, (0.0, w - 1.0), (0.0, h - 1.0), (near, far))
    t_near = np.maximum(params.min_depth, (near - params.slack) / (1 + params.rel_thres))
    t_far = np.maximum((far + params.slack) / (1 - params.rel_thres), t_near)
    tgt_corners, tgt_planes = _frusta(
        intr, frames.cam2world, (-0.5, w - 0.5), (-0.5, h - 0.5), (t_near, t_far)
    )
    extent = max(1.0, float(np.nanmax(np.abs(tgt_corners))) if n else 1.0)
    margin = 1e-9 * extent
    out = np.zeros((n, n), dtype=bool)
    for i0 in range(0, n, _BLOCK):
        si = slice(i0, i0 + _BLOCK)
        for j0 in range(0, n, _BLOCK):
            sj = slice(j0, j0 + _BLOCK)
            apart = _separated(src_planes[si], tgt_corners[sj], margin)
            apart |= _separated(tgt_planes[sj], src_corners[si], margin).T
            out[si, sj] = ~apart
    out &= has[:, None] & has[None, :]
    np.fill_diagonal(out, True)
    return out
