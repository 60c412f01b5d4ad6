"""Projecting world points into a camera, and re-rendering one view's depth in another view (a z-buffer)."""

from __future__ import annotations

import numpy as np

from wai.camera.conventions import invert_rigid
from wai.errors import WaiCameraError
from wai.geometry.depth import depth_to_world_points, transform_points
from wai.geometry.rays import CameraLike, as_camera


def project_points(
    points: np.ndarray,
    camera: CameraLike,
    cam2world: np.ndarray | None = None,
    *,
    height: int | None = None,
    width: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project points (..., 3) into a camera: returns uv (..., 2), z-depth (..., ) and valid (...,) bool.

    Points are in the world frame when `cam2world` (4, 4) is given, else in the camera frame. `valid` is the model's
    projection validity (z > 0 etc., see `Camera.project`); it does not test that the pixel lies inside the image.
    A 3x3 K needs `height` and `width` only to build its camera; they do not limit the result.
    """
    if isinstance(camera, np.ndarray):
        cam = as_camera(camera, height or 1, width or 1)
    else:
        cam = as_camera(camera, height, width)
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-1] != 3:
        raise WaiCameraError(f"project_points: expected points of shape (..., 3), got {pts.shape}")
    if cam2world is not None:
        pts = transform_points(pts, invert_rigid(cam2world))
    uv, valid = cam.project(pts)
    return uv, pts[..., 2], valid


def reproject_depth(
    depth_src: np.ndarray,
    cam_src: CameraLike,
    c2w_src: np.ndarray,
    cam_dst: CameraLike,
    c2w_dst: np.ndarray,
    *,
    dst_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Z-depth (H_dst, W_dst) float64 that the source view's valid points have in the destination view.

    Every valid source pixel is lifted to the world, moved into the destination camera, projected and rounded to the
    nearest pixel; where several land on one pixel the nearest wins (a z-buffer); 0 where nothing lands. Used for
    depth-consistency checks and covisibility. With a 3x3 K for `cam_dst`, `dst_shape` (H, W) gives the size
    (default: the source size).
    """
    src = np.asarray(depth_src)
    if src.ndim != 2:
        raise WaiCameraError(f"reproject_depth: expected an (H, W) source depth, got shape {src.shape}")
    if isinstance(cam_dst, np.ndarray):
        h, w = dst_shape if dst_shape is not None else src.shape
        dst = as_camera(cam_dst, h, w)
    else:
        dst = as_camera(cam_dst, *(dst_shape or (None, None)))
    points, valid = depth_to_world_points(src, cam_src, c2w_src)
    uv, z, ok = project_points(points[valid], dst, c2w_dst)
    ok &= z > 0
    u = np.rint(uv[ok, 0])
    v = np.rint(uv[ok, 1])
    z = z[ok]
    inside = (u >= 0) & (u < dst.width) & (v >= 0) & (v < dst.height)
    flat = v[inside].astype(np.int64) * dst.width + u[inside].astype(np.int64)
    buffer = np.full(dst.height * dst.width, np.inf)
    np.minimum.at(buffer, flat, z[inside])
    buffer[~np.isfinite(buffer)] = 0.0
    return buffer.reshape(dst.height, dst.width)
