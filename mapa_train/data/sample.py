"""The per-view training sample, field by field as the reference builds it (training spec 1.3). Numpy only.

For a view with z-depth D (H, W), pinhole K and cam2world pose (R, t), with pixel centres at integer (u, v):

    r                  = ((u - cx) / fx, (v - cy) / fy, 1)       (`wai.geometry.pixel_rays`)
    pts3d_cam          = D * r
    depth_along_ray    = |pts3d_cam|
    ray_directions_cam = r / |r|
    pts3d              = R @ pts3d_cam + t                       (the dataset's world frame, native units)
    valid_mask         = (D > 0) & isfinite(pts3d)

No normalisation happens here: the loss re-expresses everything in view 0's frame.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import cv2
import numpy as np

from wai.camera import Camera
from wai.camera.conventions import rotation_to_quaternion
from wai.errors import WaiCameraError

#: Every key of a reference view, in the reference's order.
VIEW_KEYS: tuple[str, ...] = (
    "img",
    "depthmap",
    "camera_intrinsics",
    "camera_pose",
    "camera_pose_quats",
    "camera_pose_trans",
    "pts3d",
    "pts3d_cam",
    "ray_directions_cam",
    "depth_along_ray",
    "valid_mask",
    "non_ambiguous_mask",
    "is_metric_scale",
    "is_synthetic",
    "dataset",
    "label",
    "instance",
    "idx",
    "true_shape",
    "rng",
    "data_norm_type",
)
#: Keys that never go to the accelerator (the reference's train-step ignore list).
HOST_KEYS: frozenset[str] = frozenset(
    {"depthmap", "dataset", "label", "instance", "idx", "true_shape", "rng", "data_norm_type"}
)
#: Extra keys of ours, on every view: how many retries the sample took and how many depth pixels were non-finite.
STAT_KEYS: tuple[str, ...] = ("sample_retries", "nonfinite_depth")
_GEOMETRY_KEYS = frozenset({"pts3d", "pts3d_cam", "ray_directions_cam", "depth_along_ray", "valid_mask"})


def quaternion_xyzw(rotation: np.ndarray) -> np.ndarray:
    """(4,) float32 (x, y, z, w) of a rotation matrix, with the sign scipy's `Rotation.from_matrix` gives.

    scipy picks the largest of (R00, R11, R22, trace) and keeps the matching component positive; the loss compares
    quaternions up to sign, so only reproducibility depends on this.
    """
    R = np.asarray(rotation, dtype=np.float64)
    wxyz = rotation_to_quaternion(R)
    q = np.array([wxyz[1], wxyz[2], wxyz[3], wxyz[0]])
    choice = int(np.argmax([R[0, 0], R[1, 1], R[2, 2], np.trace(R)]))
    if q[choice] < 0:
        q = -q
    return q.astype(np.float32)


def pinhole_ray_axes(camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """The separable parts of a pinhole's z = 1 rays: x (W,) = (u - cx) / fx and y (H,) = (v - cy) / fy, float32.

    ``(x[None, :], y[:, None], 1)`` is `wai.geometry.pixel_rays` of the camera (the tests check it); keeping the
    two axes apart makes every per-view quantity a few broadcast operations instead of (H, W, 3) temporaries.
    """
    if not camera.is_pinhole:
        raise WaiCameraError(f"training views need a pinhole camera, got {camera.model.value}")
    p = camera.params
    x = (np.arange(camera.width, dtype=np.float64) - p["cx"]) / p["fl_x"]
    y = (np.arange(camera.height, dtype=np.float64) - p["cy"]) / p["fl_y"]
    return x.astype(np.float32), y.astype(np.float32)


def view_geometry(depth: np.ndarray, camera: Camera, cam2world: np.ndarray) -> dict[str, np.ndarray]:
    """Points, rays and validity of one view (see the module docstring), float32 and bool.

    `depth` must be finite (the cleaning step zeroes or rejects non-finite depth) and the pose finite, so the
    points are finite and ``valid_mask`` reduces to depth > 0.
    """
    x, y = pinhole_ray_axes(camera)
    depth = np.ascontiguousarray(depth, dtype=np.float32)
    # Contiguous (H, W) planes from the separable axes (no (H, W, 3) temporaries), interleaved once by cv2.merge (a
    # third of np.stack's time); the world points are one cv2.transform pass of the 3x4 pose over the camera points.
    row, col = y[:, None], x[None, :]
    norm = np.sqrt(row * row + (col * col + np.float32(1)))
    inv_norm = np.float32(1) / norm
    directions = cv2.merge([col * inv_norm, row * inv_norm, inv_norm])
    pts3d_cam = cv2.merge([depth * col, depth * row, depth])
    depth_along_ray = np.multiply(depth, norm, out=norm)[..., None]
    pose = np.asarray(cam2world, dtype=np.float32)
    pts3d = cv2.transform(pts3d_cam, pose[:3, :4])
    return {
        "pts3d": pts3d,
        "pts3d_cam": pts3d_cam,
        "ray_directions_cam": directions,
        "depth_along_ray": depth_along_ray,
        "valid_mask": depth > 0,
    }


def build_view(
    *,
    img: np.ndarray,
    depth: np.ndarray,
    camera: Camera,
    cam2world: np.ndarray,
    non_ambiguous: np.ndarray | None,
    dataset: str,
    label: str,
    instance: str,
    idx: tuple[int, int, int],
    is_metric_scale: bool,
    is_synthetic: bool,
    data_norm_type: str,
    rng: int,
    keys: Collection[str] | None = None,
) -> dict[str, Any]:
    """One view dict with the reference's keys (or only `keys`).

    img (3, H, W) float32, already augmented and normalised; depth (H, W) float32 z-depth with 0 invalid; camera a
    pinhole of size (H, W); cam2world (4, 4); non_ambiguous (H, W) bool or None (then all True).
    """
    wanted = set(VIEW_KEYS if keys is None else keys)
    h, w = depth.shape
    pose = np.asarray(cam2world, dtype=np.float32)
    view: dict[str, Any] = {}
    geometry = view_geometry(depth, camera, pose) if wanted & _GEOMETRY_KEYS else {}
    values: dict[str, Any] = {
        "img": lambda: img,
        "depthmap": lambda: depth[..., None],
        "camera_intrinsics": lambda: camera.K.astype(np.float32),
        "camera_pose": lambda: pose,
        "camera_pose_quats": lambda: quaternion_xyzw(pose[:3, :3]),
        "camera_pose_trans": lambda: pose[:3, 3].copy(),
        "non_ambiguous_mask": lambda: (
            np.ones((h, w), dtype=bool) if non_ambiguous is None else non_ambiguous.astype(bool, copy=False)
        ),
        "is_metric_scale": lambda: bool(is_metric_scale),
        "is_synthetic": lambda: bool(is_synthetic),
        "dataset": lambda: dataset,
        "label": lambda: label,
        "instance": lambda: instance,
        "idx": lambda: tuple(int(i) for i in idx),
        "true_shape": lambda: np.array([h, w], dtype=np.int32),
        "rng": lambda: int(rng),
        "data_norm_type": lambda: data_norm_type,
    }
    for key in VIEW_KEYS:
        if key not in wanted:
            continue
        view[key] = geometry[key] if key in geometry else values[key]()
    return view
