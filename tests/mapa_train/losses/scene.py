"""A tiny known scene for the loss tests: batch views with the reference's label keys, and predictions that
equal the labels up to a chosen similarity transform (so invariant terms must be exactly zero)."""

from __future__ import annotations

import torch

from mapa_train.models.geometry import quat_conjugate, quat_multiply, quat_to_rotmat


def random_quats(batch: int, gen: torch.Generator) -> torch.Tensor:
    q = torch.randn(batch, 4, generator=gen, dtype=torch.float64)
    return (q / q.norm(dim=-1, keepdim=True)).float()


def rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate `(B, …, 3)` by `(B, 4)` quaternions."""
    rot = quat_to_rotmat(q)
    return torch.einsum("bij,b...j->b...i", rot, v)


def make_views(
    batch: int = 2, num_views: int = 2, height: int = 8, width: int = 10, seed: int = 0,
    metric: bool = True, synthetic: bool = False,
) -> list[dict[str, torch.Tensor]]:  # fmt: skip
    """Views of random depth (1–3, a few invalid pixels) seen by random cameras, with every derived label."""
    gen = torch.Generator().manual_seed(seed)
    v, u = torch.meshgrid(torch.arange(height).float(), torch.arange(width).float(), indexing="ij")
    fx, cx, cy = float(width), (width - 1) / 2, (height - 1) / 2
    unit_plane = torch.stack([(u - cx) / fx, (v - cy) / fx, torch.ones_like(u)], dim=-1)
    k = torch.tensor([[fx, 0, cx], [0, fx, cy], [0, 0, 1.0]])
    views = []
    for _ in range(num_views):
        depth = 1.0 + 2.0 * torch.rand(batch, height, width, 1, generator=gen)
        depth[:, 0, 0] = 0.0  # an invalid pixel
        quats = random_quats(batch, gen)
        trans = torch.randn(batch, 3, generator=gen)
        pts_cam = depth * unit_plane
        pose = torch.eye(4).repeat(batch, 1, 1)
        pose[:, :3, :3] = quat_to_rotmat(quats)
        pose[:, :3, 3] = trans
        views.append(
            {
                "img": torch.rand(batch, 3, height, width, generator=gen),
                "depthmap": depth,
                "camera_intrinsics": k.repeat(batch, 1, 1),
                "camera_pose": pose,
                "camera_pose_quats": quats,
                "camera_pose_trans": trans,
                "pts3d": rotate(quats, pts_cam) + trans[:, None, None, :],
                "pts3d_cam": pts_cam,
                "ray_directions_cam": (unit_plane / unit_plane.norm(dim=-1, keepdim=True)).expand(
                    batch, -1, -1, -1
                ),
                "depth_along_ray": pts_cam.norm(dim=-1, keepdim=True),
                "valid_mask": depth[..., 0] > 0,
                "non_ambiguous_mask": depth[..., 0] > 0,
                "is_metric_scale": torch.full((batch,), metric),
                "is_synthetic": torch.full((batch,), synthetic),
            }
        )
    return views


def perfect_predictions(
    views: list[dict[str, torch.Tensor]],
    scale: float = 1.0,
    frame: tuple[torch.Tensor, torch.Tensor] | None = None,
    metric_scale: float | None = None,
) -> list[dict[str, torch.Tensor]]:
    """Predictions equal to the labels in GT view 0's frame, times `scale`, then moved by the rigid transform
    `frame` = (quaternion, translation) (an arbitrary output frame, as π³'s), times `metric_scale`."""
    q0, t0 = views[0]["camera_pose_quats"], views[0]["camera_pose_trans"]
    inv0 = quat_conjugate(q0)
    m = 1.0 if metric_scale is None else metric_scale
    preds = []
    for view in views:
        pts = rotate(inv0, view["pts3d"] - t0[:, None, None, :]) * scale
        quat = quat_multiply(inv0, view["camera_pose_quats"])
        trans = rotate(inv0, view["camera_pose_trans"] - t0) * scale
        if frame is not None:
            fq, ft = frame
            pts = rotate(fq, pts) + ft[:, None, None, :]
            quat = quat_multiply(fq, quat)
            trans = rotate(fq, trans) + ft
        batch, height, width = pts.shape[:3]
        pred = {
            "pts3d": pts * m,
            "pts3d_cam": view["pts3d_cam"] * scale * m,
            "ray_directions": view["ray_directions_cam"].clone(),
            "depth_along_ray": view["depth_along_ray"] * scale * m,
            "depth_z": view["pts3d_cam"][..., 2:3] * scale * m,
            "cam_trans": trans * m,
            "cam_quats": quat,
            "conf": torch.ones(batch, height, width),
            "non_ambiguous_mask_logits": torch.zeros(batch, height, width),
        }
        if metric_scale is not None:
            pred["metric_scaling_factor"] = torch.full((batch, 1), metric_scale)
        preds.append(pred)
    return preds
