"""Camera poses for synthetic scenes: look-at, orbits around a point, and walks with a yaw sweep.

World convention of `wai.synthetic`: **world "up" is -Y** (gravity points along +Y), the ground is the plane
y = 0 and heights above it are negative y. This matches the OpenCV camera axes (x right, y down, z forward), so an
identity cam2world is a level camera at the origin looking along +Z. Every pose returned here is a 4x4
camera-to-world matrix in the OpenCV convention.
"""

from __future__ import annotations

import numpy as np

from wai.errors import WaiCameraError

WORLD_UP = np.array([0.0, -1.0, 0.0])


def look_at(
    eye: np.ndarray, target: np.ndarray, up: np.ndarray | tuple[float, float, float] = (0.0, -1.0, 0.0)
) -> np.ndarray:
    """Cam2world (4, 4) float64, OpenCV axes, of a camera at ``eye`` (3,) whose +z axis points at ``target`` (3,).

    The camera's -y axis (image up) is as close to ``up`` (3,) as possible; the default is the world up (-Y).
    Raises `WaiCameraError` when the viewing direction is parallel to ``up`` (the roll is then undefined).
    """
    eye = np.asarray(eye, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    up_vec = np.asarray(up, dtype=np.float64)
    forward = target - eye
    norm = np.linalg.norm(forward)
    if norm == 0:
        raise WaiCameraError(f"look_at: eye and target are the same point {eye.tolist()}")
    z = forward / norm
    x = np.cross(z, up_vec)  # right = forward x up, because image down (+y) is -up
    x_norm = np.linalg.norm(x)
    if x_norm < 1e-9 * max(np.linalg.norm(up_vec), 1e-300):
        raise WaiCameraError(f"look_at: viewing direction {z.tolist()} is parallel to up {up_vec.tolist()}")
    x /= x_norm
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = x, y, z, eye
    return pose


def yaw_pitch_direction(yaw: float, pitch: float) -> np.ndarray:
    """Unit viewing direction (3,): yaw 0 looks along +Z, positive yaw turns towards +X, positive pitch looks up."""
    return np.array([np.sin(yaw) * np.cos(pitch), -np.sin(pitch), np.cos(yaw) * np.cos(pitch)])


def orbit_poses(
    n: int,
    center: np.ndarray,
    radius: float,
    height: float,
    *,
    jitter: float = 0.0,
    seed: int = 0,
    look_at_target: np.ndarray | None = None,
    start_angle: float = 0.0,
    arc: float = 2 * np.pi,
) -> np.ndarray:
    """``n`` cameras (n, 4, 4) on a horizontal circle of ``radius`` around ``center`` (3,), ``height`` metres above
    it (along world up, -Y), looking at ``look_at_target`` (3,) or, by default, at ``center``.

    Camera k sits at angle ``start_angle + arc * k / n`` (radians, 0 = +X, increasing towards +Z). ``jitter`` is the
    standard deviation (metres) of a seeded random offset added to each eye and target.
    """
    if n < 1:
        raise WaiCameraError(f"orbit_poses: need n >= 1 cameras, got {n}")
    center = np.asarray(center, dtype=np.float64)
    target = center if look_at_target is None else np.asarray(look_at_target, dtype=np.float64)
    rng = np.random.default_rng(seed)
    poses = np.empty((n, 4, 4))
    for k in range(n):
        angle = start_angle + arc * k / n
        eye = center + radius * np.array([np.cos(angle), 0.0, np.sin(angle)]) + height * WORLD_UP
        noise = rng.normal(0.0, jitter, size=(2, 3)) if jitter > 0 else np.zeros((2, 3))
        poses[k] = look_at(eye + noise[0], target + noise[1])
    return poses


def trajectory_poses(
    n: int,
    start: np.ndarray,
    end: np.ndarray,
    *,
    yaw_start: float = 0.0,
    yaw_end: float = 0.0,
    pitch: float = 0.0,
    jitter: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """``n`` cameras (n, 4, 4) walking in a straight line from ``start`` (3,) to ``end`` (3,) while the yaw turns
    linearly from ``yaw_start`` to ``yaw_end`` (radians; see `yaw_pitch_direction`) at a fixed ``pitch``.

    An indoor-style sequence: translation plus rotation about the world up axis. ``jitter`` is the standard
    deviation (metres) of a seeded random offset of each eye; yaw and pitch get ``jitter`` radians of noise too.
    """
    if n < 1:
        raise WaiCameraError(f"trajectory_poses: need n >= 1 cameras, got {n}")
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    rng = np.random.default_rng(seed)
    poses = np.empty((n, 4, 4))
    for k in range(n):
        s = k / (n - 1) if n > 1 else 0.0
        eye = start + (end - start) * s
        yaw = yaw_start + (yaw_end - yaw_start) * s
        tilt = pitch
        if jitter > 0:
            eye = eye + rng.normal(0.0, jitter, size=3)
            yaw += float(rng.normal(0.0, jitter))
            tilt += float(rng.normal(0.0, jitter))
        poses[k] = look_at(eye, eye + yaw_pitch_direction(yaw, tilt))
    return poses
