"""Torch camera math the models need: quaternions (x, y, z, w order, as MapAnything stores them), rotation
matrices, pinhole rays, and pose composition. Everything is differentiable and batched over leading dims."""

from __future__ import annotations

import math

import torch


def normalize(v: torch.Tensor, dim: int = -1, eps: float = 1e-8) -> torch.Tensor:
    """v divided by its L2 norm along `dim` (norm clipped at `eps`)."""
    return v / v.norm(dim=dim, keepdim=True).clamp_min(eps)


def quat_multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product a ⊗ b of xyzw quaternions `(…, 4)`."""
    ax, ay, az, aw = a.unbind(-1)
    bx, by, bz, bw = b.unbind(-1)
    return torch.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        dim=-1,
    )


def quat_conjugate(q: torch.Tensor) -> torch.Tensor:
    """Inverse of a unit xyzw quaternion `(…, 4)`."""
    return torch.cat([-q[..., :3], q[..., 3:]], dim=-1)


def quat_to_rotmat(q: torch.Tensor) -> torch.Tensor:
    """xyzw quaternion `(…, 4)` (normalised here) -> rotation matrix `(…, 3, 3)`."""
    x, y, z, w = normalize(q).unbind(-1)
    rows = [
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ]  # fmt: skip
    return torch.stack(rows, dim=-1).reshape(*q.shape[:-1], 3, 3)


def rotmat_to_quat(rot: torch.Tensor) -> torch.Tensor:
    """Rotation matrix `(…, 3, 3)` -> unit xyzw quaternion `(…, 4)` with w ≥ 0 (Shepperd's branch choice)."""
    m = rot
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    candidates = torch.stack(
        [
            torch.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + trace], -1),
            torch.stack([1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] - m[..., 1, 2]], -1),
            torch.stack([m[..., 0, 1] + m[..., 1, 0], 1 + m[..., 1, 1] - m[..., 0, 0] - m[..., 2, 2], m[..., 1, 2] + m[..., 2, 1], m[..., 0, 2] - m[..., 2, 0]], -1),
            torch.stack([m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 + m[..., 2, 2] - m[..., 0, 0] - m[..., 1, 1], m[..., 1, 0] - m[..., 0, 1]], -1),
        ],
        dim=-2,
    )  # fmt: skip
    diag = torch.stack([trace, m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], dim=-1)
    best = diag.argmax(dim=-1)
    q = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    q = normalize(q)
    return torch.where(q[..., 3:] < 0, -q, q)


def pose_matrix(quats: torch.Tensor, trans: torch.Tensor) -> torch.Tensor:
    """xyzw quaternion `(…, 4)` and translation `(…, 3)` -> homogeneous matrix `(…, 4, 4)`."""
    out = torch.zeros(*quats.shape[:-1], 4, 4, dtype=trans.dtype, device=trans.device)
    out[..., :3, :3] = quat_to_rotmat(quats)
    out[..., :3, 3] = trans
    out[..., 3, 3] = 1.0
    return out


def invert_pose(pose: torch.Tensor) -> torch.Tensor:
    """Closed-form inverse of rigid transforms `(…, 4, 4)` (or `(…, 3, 4)`), returned as `(…, 4, 4)`."""
    rot, trans = pose[..., :3, :3], pose[..., :3, 3]
    out = torch.zeros(*pose.shape[:-2], 4, 4, dtype=pose.dtype, device=pose.device)
    out[..., :3, :3] = rot.transpose(-1, -2)
    out[..., :3, 3] = -(rot.transpose(-1, -2) @ trans[..., None])[..., 0]
    out[..., 3, 3] = 1.0
    return out


def transform_points(pose: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Apply poses `(B, 4, 4)` to points `(B, …, 3)`."""
    batch = points.shape[0]
    flat = points.reshape(batch, -1, 3)
    out = flat @ pose[:, :3, :3].transpose(1, 2) + pose[:, None, :3, 3]
    return out.reshape(points.shape)


def pixel_grid(height: int, width: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Pixel centres `(H, W, 2)` as (u, v), OpenCV convention (pixel (0, 0) centre at 0.5, 0.5)."""
    v, u = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype) + 0.5,
        torch.arange(width, device=device, dtype=dtype) + 0.5,
        indexing="ij",
    )
    return torch.stack([u, v], dim=-1)


def rays_from_intrinsics(intrinsics: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pinhole intrinsics `(B, 3, 3)` -> unit ray directions `(B, H, W, 3)` in the OpenCV camera frame."""
    uv = pixel_grid(height, width, intrinsics.device, intrinsics.dtype)[None]
    fx, fy = intrinsics[:, 0, 0, None, None], intrinsics[:, 1, 1, None, None]
    cx, cy = intrinsics[:, 0, 2, None, None], intrinsics[:, 1, 2, None, None]
    x = (uv[..., 0] - cx) / fx
    y = (uv[..., 1] - cy) / fy
    return normalize(torch.stack([x, y, torch.ones_like(x)], dim=-1))


def intrinsics_from_rays(rays: torch.Tensor) -> torch.Tensor:
    """Least-squares pinhole fit to ray directions `(B, H, W, 3)` -> intrinsics `(B, 3, 3)`.

    u = fx · (x/z) + cx and v = fy · (y/z) + cy are two independent 2-parameter linear fits per image.
    """
    batch, height, width, _ = rays.shape
    uv = pixel_grid(height, width, rays.device, rays.dtype).reshape(1, -1, 2).expand(batch, -1, -1)
    z = rays[..., 2].clamp_min(1e-8).reshape(batch, -1)
    out = torch.zeros(batch, 3, 3, dtype=rays.dtype, device=rays.device)
    for axis in range(2):
        ratio = rays[..., axis].reshape(batch, -1) / z
        design = torch.stack([ratio, torch.ones_like(ratio)], dim=-1)
        sol = torch.linalg.lstsq(design, uv[..., axis : axis + 1]).solution[..., 0]
        out[:, axis, axis] = sol[:, 0]
        out[:, axis, 2] = sol[:, 1]
    out[:, 2, 2] = 1.0
    return out


def fov_from_focal(focal: float, size: float) -> float:
    """The field of view (radians) that a focal length of `focal` pixels spans over `size` pixels."""
    return 2.0 * math.atan(size / (2.0 * focal))
