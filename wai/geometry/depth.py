"""Depth maps to 3D points, and z-depth <-> ray depth.

WAI depth maps are z-depth (distance along the optical axis), 0 or non-finite where invalid. Ray depth is the
distance from the camera centre along the pixel's ray.
"""

from __future__ import annotations

import numpy as np

from wai.errors import WaiCameraError
from wai.geometry.rays import CameraLike, pixel_rays


def _depth(depth: np.ndarray) -> np.ndarray:
    arr = np.asarray(depth)
    if arr.ndim != 2:
        raise WaiCameraError(f"expected an (H, W) depth map, got shape {arr.shape}")
    return arr


def valid_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W) bool: finite and > 0."""
    arr = np.asarray(depth)
    with np.errstate(invalid="ignore"):
        return np.isfinite(arr) & (arr > 0)


def depth_to_points(depth: np.ndarray, camera: CameraLike) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame points (H, W, 3) float64 of a z-depth map (H, W), and valid (H, W) bool.

    Invalid pixels (depth <= 0, non-finite, or a fisheye ray at or past 90 degrees, where z-depth means nothing) are
    NaN in the points and False in `valid`.
    """
    arr = _depth(depth)
    rays = pixel_rays(camera, arr.shape[0], arr.shape[1], normalize=False)
    valid = valid_depth(arr) & np.all(np.isfinite(rays), axis=-1)
    points = rays * np.where(valid, arr, np.nan)[..., None]
    return points, valid


def transform_points(points: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Apply a (4, 4) (or (3, 4)) rigid transform to points (..., 3)."""
    M = np.asarray(T, dtype=np.float64)
    if M.shape not in ((4, 4), (3, 4)):
        raise WaiCameraError(f"expected a (4, 4) pose, got shape {M.shape}")
    return np.asarray(points, dtype=np.float64) @ M[:3, :3].T + M[:3, 3]


def depth_to_world_points(
    depth: np.ndarray, camera: CameraLike, cam2world: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World points (H, W, 3) of a z-depth map seen from a camera-to-world pose (4, 4), and valid (H, W)."""
    points, valid = depth_to_points(depth, camera)
    return transform_points(points, cam2world), valid


def _ray_z(depth: np.ndarray, camera: CameraLike) -> np.ndarray:
    rays = pixel_rays(camera, depth.shape[0], depth.shape[1], normalize=True)
    return rays[..., 2]


def zdepth_to_raydepth(depth: np.ndarray, camera: CameraLike) -> np.ndarray:
    """Ray depth (H, W) of a z-depth map; invalid input and sideways rays give 0. Keeps a float dtype."""
    arr = _depth(depth)
    cos = _ray_z(arr, camera)
    ok = valid_depth(arr) & np.isfinite(cos) & (cos > 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(ok, arr / np.where(ok, cos, 1.0), 0.0)
    return out.astype(arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64)


def raydepth_to_zdepth(depth: np.ndarray, camera: CameraLike) -> np.ndarray:
    """z-depth (H, W) of a ray-depth map; invalid input and rays at or past 90 degrees give 0."""
    arr = _depth(depth)
    cos = _ray_z(arr, camera)
    ok = valid_depth(arr) & np.isfinite(cos) & (cos > 1e-12)
    out = np.where(ok, arr * np.where(ok, cos, 0.0), 0.0)
    return out.astype(arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64)
