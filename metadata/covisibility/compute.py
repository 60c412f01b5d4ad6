"""The pairwise covisibility matrix of a stack of frames: the reference algorithm, in bounded memory.

``M[i, j]`` = the share of source i's pixels whose depth, reprojected into target j, agrees with j's depth there
(the reference's per-pair test), with three of the reference's faults fixed:

- the target pixel must itself be valid (the reference accepted a point landing on an invalid pixel when its
  depth was below the threshold);
- the self-pair is always computed (never dropped by the pre-filter), so ``M[i, i]`` is the share of i's pixels
  with valid depth above `min_depth`;
- the pre-filter honours the principal point (`frustum`).

A projected point falls on the nearest pixel centre (u and v rounded half to even); it is inside the image when
that pixel is. All arithmetic is float64; K' is folded into each target's world-to-camera matrix.

Memory: the working-size depth maps (N x 224 x 168 float32, ~150 kB a frame), one source's points at a time and a
block of targets whose temporaries are capped by `block_elements`; never N^2 per-pixel data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal

import numpy as np

from metadata.covisibility.configs import CovisibilityParams
from metadata.covisibility.frames import FrameStack
from metadata.covisibility.frustum import candidate_pairs
from wai.geometry import depth_to_world_points

Backend = Literal["numpy", "torch"]
DEFAULT_BLOCK_ELEMENTS = 1 << 15


def source_points(frames: FrameStack, i: int) -> np.ndarray:
    """(3, n) float64 world points of source i's valid pixels (row-major pixel order)."""
    points, valid = depth_to_world_points(frames.depths[i], frames.cameras[i], frames.cam2world[i])
    return np.ascontiguousarray(points[valid].T)


def world_to_camera(cam2world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3, 3) and (N, 3): the affine part of the (general, not rigid) inverse of each pose, as the reference."""
    inv = np.linalg.inv(cam2world)
    return np.ascontiguousarray(inv[:, :3, :3]), np.ascontiguousarray(inv[:, :3, 3])


def normalise_counts(
    counts: np.ndarray, pixels: int, valid_targets: np.ndarray, params: CovisibilityParams
) -> np.ndarray:
    """Scores from accepted-pixel counts of one source against several targets."""
    if params.denominator == "full":
        return counts / float(pixels)
    return np.clip(counts / np.maximum(1, valid_targets), 0.0, 1.0)


def projection_matrices(frames: FrameStack) -> np.ndarray:
    """(N, 3, 4) float64 ``K' @ inv(cam2world)[:3]``: world point -> (u z, v z, z) in each view."""
    fx, fy, cx, cy = frames.intrinsics.T
    K = np.zeros((len(frames), 3, 3))
    K[:, 0, 0], K[:, 0, 2], K[:, 1, 1], K[:, 1, 2], K[:, 2, 2] = fx, cx, fy, cy, 1.0
    rot, trans = world_to_camera(frames.cam2world)
    return K @ np.concatenate([rot, trans[:, :, None]], axis=2)


def _count_numpy(
    points: np.ndarray,
    proj: np.ndarray,
    lookup: np.ndarray,
    size: tuple[int, int],
    params: CovisibilityParams,
) -> np.ndarray:
    """Accepted-point counts (T,) of one source's points (3, n) in T targets with projections `proj` (T, 3, 4).

    `lookup` is the targets' depth flattened to (T * H * W,), -inf where invalid (so no depth ever agrees there).
    A point is inside when its nearest pixel (u, v rounded half to even) is in the image.
    """
    h, w = size
    t = proj.shape[0]
    cam = (proj[:, :, :3].reshape(3 * t, 3) @ points).reshape(t, 3, -1)
    cam += proj[:, :, 3:]
    u, v, z = cam[:, 0], cam[:, 1], cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(u, z, out=u)
        np.divide(v, z, out=v)
        np.rint(u, out=u)
        np.rint(v, out=v)
        # Flat indices fit in int32 unless a block spans 2^31 target pixels; negative pixels become huge unsigned.
        signed, unsigned = (np.int32, np.uint32) if t * h * w < 2**31 else (np.int64, np.uint64)
        col = u.astype(signed)
        row = v.astype(signed)
    ok = z > params.min_depth
    ok &= col.view(unsigned) < w
    ok &= row.view(unsigned) < h
    row *= w
    row += col
    row += (np.arange(t, dtype=signed) * (h * w))[:, None]
    row *= ok
    d = lookup.take(row)
    np.subtract(z, d, out=u)
    np.abs(u, out=u)
    np.multiply(z, params.rel_thres, out=v)
    v += params.slack
    ok &= u < v
    return np.count_nonzero(ok, axis=1)


def _target_blocks(targets: np.ndarray, n_points: int, block_elements: int) -> Iterator[np.ndarray]:
    step = max(1, block_elements // max(1, n_points))
    for start in range(0, targets.size, step):
        yield targets[start : start + step]


def covisibility_matrix(
    frames: FrameStack,
    params: CovisibilityParams | None = None,
    *,
    frustum_check: bool = True,
    candidates: np.ndarray | None = None,
    backend: Backend = "numpy",
    device: str | None = None,
    block_elements: int = DEFAULT_BLOCK_ELEMENTS,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(N, N) float32 covisibility of `frames`; row = source, column = target, both in frame order.

    frustum_check: skip pairs the pre-filter proves disjoint (the result is the same either way).
    candidates:    (N, N) bool pairs to compute, instead of the pre-filter's (others are 0).
    backend:       ``numpy`` (default) or ``torch`` (float64 too, on `device`: ``cuda``, ``cpu`` or None/``auto``
                   for a GPU when present; same numbers). torch is imported only when selected.
    progress:      called as ``progress(sources_done, n)``.
    """
    params = params if params is not None else CovisibilityParams()
    n = len(frames)
    if candidates is None:
        candidates = candidate_pairs(frames, params) if frustum_check else np.ones((n, n), dtype=bool)
    elif candidates.shape != (n, n):
        raise ValueError(f"covisibility: candidates must be ({n}, {n}), got {candidates.shape}")
    if backend == "torch":
        from metadata.covisibility.torch_backend import covisibility_rows_torch

        rows = covisibility_rows_torch(frames, params, candidates, device, block_elements)
    elif backend == "numpy":
        rows = _rows_numpy(frames, params, candidates, block_elements)
    else:
        raise ValueError(f"covisibility: unknown backend {backend!r}; expected 'numpy' or 'torch'")
    out = np.zeros((n, n), dtype=np.float32)
    for i, (targets, scores) in enumerate(rows):
        out[i, targets] = scores
        if progress is not None:
            progress(i + 1, n)
    return out


def _rows_numpy(
    frames: FrameStack, params: CovisibilityParams, candidates: np.ndarray, block_elements: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(targets, scores) of each source in order."""
    h, w = frames.size
    proj = projection_matrices(frames)
    flat_depths = frames.depths.reshape(len(frames), h * w)
    valid_counts = np.count_nonzero(flat_depths > 0, axis=1)
    minus_inf = np.float32(-np.inf)
    for i in range(len(frames)):
        targets = np.flatnonzero(candidates[i])
        points = source_points(frames, i) if targets.size else np.zeros((3, 0))
        counts = np.zeros(targets.size, dtype=np.int64)
        if points.shape[1]:
            pos = 0
            for block in _target_blocks(targets, points.shape[1], block_elements):
                lookup = flat_depths[block].ravel()
                lookup = np.where(lookup > 0, lookup, minus_inf)
                counts[pos : pos + block.size] = _count_numpy(points, proj[block], lookup, (h, w), params)
                pos += block.size
        yield targets, normalise_counts(counts, h * w, valid_counts[targets], params)
