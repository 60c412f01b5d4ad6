"""Torch camera math the models need: quaternions (x, y, z, w order, as MapAnything stores them), rotation
matrices, pinhole rays, and pose composition. Everything is differentiable and batched over leading dims."""

from __future__ import annotations

import math

import torch

from mapa_train.errors import MapaInputError


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
    """Pixel centres `(H, W, 2)` as (u, v) at integer coordinates: pixel (0, 0)'s centre is (0, 0).

    This is `wai`'s convention (and the reference geometry's), so a `wai` intrinsics matrix means the same here.
    """
    v, u = torch.meshgrid(
        torch.arange(height, device=device, dtype=dtype),
        torch.arange(width, device=device, dtype=dtype),
        indexing="ij",
    )
    return torch.stack([u, v], dim=-1)


def rays_from_intrinsics(intrinsics: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pinhole intrinsics `(B, 3, 3)` (pixel units, integer pixel centres) -> unit ray directions `(B, H, W, 3)` in
    the OpenCV camera frame."""
    uv = pixel_grid(height, width, intrinsics.device, intrinsics.dtype)[None]
    fx, fy = intrinsics[:, 0, 0, None, None], intrinsics[:, 1, 1, None, None]
    cx, cy = intrinsics[:, 0, 2, None, None], intrinsics[:, 1, 2, None, None]
    x = (uv[..., 0] - cx) / fx
    y = (uv[..., 1] - cy) / fy
    return normalize(torch.stack([x, y, torch.ones_like(x)], dim=-1))


def normalized_to_pixel_intrinsics(intrinsics: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Image-size-normalised intrinsics `(B, 3, 3)` (MoGe's: fx in widths, fy in heights, principal point (0.5, 0.5)
    at the image centre, pixel centres at (i + 0.5) / size) -> pixel intrinsics with integer pixel centres.

    The principal point moves by half a pixel: normalised cx = 0.5 is pixel cx = (W - 1) / 2.
    """
    out = intrinsics.clone()
    out[:, 0] = out[:, 0] * width
    out[:, 1] = out[:, 1] * height
    out[:, 0, 2] = out[:, 0, 2] - 0.5
    out[:, 1, 2] = out[:, 1, 2] - 0.5
    return out


def intrinsics_from_rays(rays: torch.Tensor, min_z: float = 1e-6) -> torch.Tensor:
    """Least-squares pinhole fit to ray directions `(B, H, W, 3)` -> intrinsics `(B, 3, 3)` (integer pixel centres).

    u = fx · (x/z) + cx and v = fy · (y/z) + cy are two independent 2-parameter linear fits per image, over the
    rays that point forward (z > `min_z`); rays with z ≤ `min_z` have no pinhole pixel and are left out. Exact
    pinhole rays give K exactly. Raises `MapaInputError` for an image whose forward rays cannot fix both parameters
    of an axis (fewer than two distinct values).
    """
    batch, height, width, _ = rays.shape
    work = rays.double()
    uv = pixel_grid(height, width, rays.device, torch.float64).reshape(1, -1, 2)
    z = work[..., 2].reshape(batch, -1)
    weight = (z > min_z).double()
    count = weight.sum(-1)
    safe_z = torch.where(z > min_z, z, torch.ones_like(z))
    out = torch.zeros(batch, 3, 3, dtype=torch.float64, device=rays.device)
    for axis in range(2):
        ratio = work[..., axis].reshape(batch, -1) / safe_z
        target = uv[..., axis]
        mean_r = (weight * ratio).sum(-1) / count.clamp_min(1)
        mean_t = (weight * target).sum(-1) / count.clamp_min(1)
        dr = (ratio - mean_r[:, None]) * weight
        spread = (dr * dr).sum(-1)
        bad = (count < 2) | ~(spread > 1e-12 * count.clamp_min(1))
        if bool(bad.any()):
            index = int(bad.nonzero()[0, 0])
            raise MapaInputError(
                f"intrinsics_from_rays: image {index} has {int(count[index])} forward rays (z > {min_z}) "
                f"spanning no range along {'xy'[axis]}; a pinhole fit needs at least two distinct ones"
            )
        focal = (dr * (target - mean_t[:, None])).sum(-1) / spread
        out[:, axis, axis] = focal
        out[:, axis, 2] = mean_t - focal * mean_r
    out[:, 2, 2] = 1.0
    return out.to(rays.dtype)


def fov_from_focal(focal: float, size: float) -> float:
    """The field of view (radians) that a focal length of `focal` pixels spans over `size` pixels."""
    return 2.0 * math.atan(size / (2.0 * focal))
