"""Ray-cast rendering of a synthetic scene: exact depth, normals, instance ids and photo-consistent colour.

One ray per pixel, no anti-aliasing. Pinhole cameras pass K (pixel (u, v) with integer coordinates is the pixel
centre, its ray is K^-1 [u, v, 1]); any other camera model passes its per-pixel ray directions in the camera frame,
for example from `wai.camera.Camera.unproject`. Colour = texture(surface uv) x Lambertian shading with the scene's
fixed light (two-sided, so it does not depend on the viewer): a surface point has the same colour in every view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wai.errors import WaiCameraError
from wai.geometry import pixel_rays
from wai.synthetic.scene import SyntheticScene


@dataclass
class RenderedView:
    """One rendered frame. ``H`` x ``W`` pixels.

    image: (H, W, 3) uint8 RGB; pixels that hit nothing show the sky colour.
    depth: (H, W) float32 z-depth in metres (camera-frame z of the hit point); 0 where nothing is hit.
    ray_depth: (H, W) float32 distance from the camera centre along the ray; 0 where nothing is hit.
    normals: (H, W, 3) float32 world-frame unit normals facing the camera; 0 where nothing is hit.
    valid: (H, W) bool, True where a surface is hit.
    object_id: (H, W) int32, 1-based index of the hit primitive in ``scene.primitives``; 0 = none.
    cam2world: (4, 4) float64 OpenCV pose used for the render.
    K: (3, 3) float64 intrinsics, or None when the view was rendered from explicit rays.
    """

    image: np.ndarray
    depth: np.ndarray
    ray_depth: np.ndarray
    normals: np.ndarray
    valid: np.ndarray
    object_id: np.ndarray
    cam2world: np.ndarray
    K: np.ndarray | None = None


def pinhole_intrinsics(width: int, height: int, fov_x_deg: float = 60.0) -> np.ndarray:
    """K (3, 3) float64 with square pixels, the given horizontal field of view, and the principal point at the
    image centre ((W - 1) / 2, (H - 1) / 2), because integer pixel coordinates are pixel centres."""
    if width < 1 or height < 1 or not 0 < fov_x_deg < 180:
        raise WaiCameraError(
            f"pinhole_intrinsics: need width, height >= 1 and 0 < fov < 180, got "
            f"{width}x{height}, fov {fov_x_deg}"
        )
    f = 0.5 * width / np.tan(np.radians(fov_x_deg) / 2)
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def _check_pose(cam2world: np.ndarray) -> np.ndarray:
    pose = np.asarray(cam2world, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise WaiCameraError(f"cam2world must be a finite 4x4 matrix, got shape {pose.shape}")
    rot = pose[:3, :3]
    if not np.allclose(rot.T @ rot, np.eye(3), atol=1e-6) or np.linalg.det(rot) < 0:
        raise WaiCameraError("cam2world rotation block must be a proper rotation (orthonormal, det +1)")
    return pose


def render(
    scene: SyntheticScene,
    cam2world: np.ndarray,
    *,
    K: np.ndarray | None = None,
    width: int | None = None,
    height: int | None = None,
    rays_cam: np.ndarray | None = None,
) -> RenderedView:
    """Render ``scene`` from ``cam2world`` (4, 4, OpenCV).

    Give either ``K`` (3, 3) with ``width`` and ``height`` (pinhole), or ``rays_cam`` (H, W, 3), the camera-frame
    ray direction of every pixel (any length; rays that are non-finite or zero hit nothing). The z-depth of a hit is
    its camera-frame z, so rays with z <= 0 (fisheye beyond 180 degrees) give z-depth <= 0 while ``valid`` is True.
    """
    pose = _check_pose(cam2world)
    if (K is None) == (rays_cam is None):
        raise WaiCameraError("render: pass exactly one of K (pinhole) or rays_cam (per-pixel rays)")
    K_used: np.ndarray | None = None
    if K is not None:
        if width is None or height is None or width < 1 or height < 1:
            raise WaiCameraError(
                f"render: a pinhole render needs width and height >= 1, got {width}x{height}"
            )
        rays = pixel_rays(np.asarray(K, dtype=np.float64), int(height), int(width))
        K_used = np.asarray(K, dtype=np.float64).copy()
    else:
        rays = np.asarray(rays_cam, dtype=np.float64)
        if rays.ndim != 3 or rays.shape[2] != 3:
            raise WaiCameraError(f"render: rays_cam must have shape (H, W, 3), got {rays.shape}")
        if (width is not None and width != rays.shape[1]) or (height is not None and height != rays.shape[0]):
            raise WaiCameraError(
                f"render: rays_cam is {rays.shape[1]}x{rays.shape[0]} but width x height is {width}x{height}"
            )
    h, w = rays.shape[:2]
    flat = rays.reshape(-1, 3)
    lengths = np.linalg.norm(flat, axis=1)
    usable = np.all(np.isfinite(flat), axis=1) & (lengths > 0)
    unit_cam = np.where(usable[:, None], flat / np.where(usable, lengths, 1.0)[:, None], [0.0, 0.0, 1.0])
    rot, origin = pose[:3, :3], pose[:3, 3]
    dirs = unit_cam @ rot.T

    best_t = np.full(dirs.shape[0], np.inf)
    best_id = np.zeros(dirs.shape[0], dtype=np.int32)
    for index, primitive in enumerate(scene.primitives, start=1):
        t = primitive.intersect(origin, dirs)
        closer = t < best_t
        best_t = np.where(closer, t, best_t)
        best_id = np.where(closer, index, best_id)
    hit = usable & np.isfinite(best_t)
    best_id = np.where(hit, best_id, 0).astype(np.int32)

    colors = scene.sky_color(dirs)
    normals = np.zeros_like(dirs)
    for index, primitive in enumerate(scene.primitives, start=1):
        rows = np.nonzero(best_id == index)[0]
        if rows.size == 0:
            continue
        points = origin[None, :] + best_t[rows, None] * dirs[rows]
        n = primitive.normals_at(points)
        n = np.where((np.sum(n * dirs[rows], axis=1) > 0)[:, None], -n, n)  # face the camera
        normals[rows] = n
        colors[rows] = scene.shade(primitive.texture.color_at(primitive.surface_uv(points)), n)

    ray_depth = np.where(hit, best_t, 0.0)
    depth = ray_depth * unit_cam[:, 2]
    image = np.clip(np.rint(colors * 255.0), 0, 255).astype(np.uint8)
    return RenderedView(
        image=image.reshape(h, w, 3),
        depth=depth.reshape(h, w).astype(np.float32),
        ray_depth=ray_depth.reshape(h, w).astype(np.float32),
        normals=normals.reshape(h, w, 3).astype(np.float32),
        valid=hit.reshape(h, w),
        object_id=best_id.reshape(h, w),
        cam2world=pose.copy(),
        K=K_used,
    )
