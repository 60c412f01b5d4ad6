"""Geometric-input sampling and encoding inside `MapAnything.forward`.

Which samples and views receive ground-truth rays, depth and poses is drawn from the `TaskConfig`
probabilities (masks are view-major: index v·B + b). The chosen inputs are encoded, added to the image features and
the sum passes through the fusion LayerNorm, in fp32 (the dense encoders can overflow in low precision).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from mapa_train.errors import MapaInputError
from mapa_train.models.geometry import quat_conjugate, quat_multiply, quat_to_rotmat
from mapa_train.models.mapanything.task import TaskConfig

View = dict[str, Any]


@dataclass
class GeometricInputMasks:
    """Boolean masks `(V·B,)` of which (view, sample) receives each input, and the sparsification coin."""

    rays: torch.Tensor
    depth: torch.Tensor
    cam: torch.Tensor
    depth_metric: torch.Tensor
    pose_metric: torch.Tensor
    sparsify_depth: bool


def _has(views: Sequence[View], key: str, batch: int, device: torch.device) -> torch.Tensor:
    return torch.cat([torch.full((batch,), key in v, dtype=torch.bool, device=device) for v in views])


def _metric_flags(views: Sequence[View], batch: int, device: torch.device) -> torch.Tensor:
    flags = []
    for view in views:
        flag = view.get("is_metric_scale")
        if flag is None:
            flags.append(torch.zeros(batch, dtype=torch.bool, device=device))
        else:
            flags.append(torch.as_tensor(flag, device=device).reshape(batch).bool())
    return torch.cat(flags)


def sample_geometric_input_masks(
    task: TaskConfig, views: Sequence[View], batch: int, device: torch.device
) -> GeometricInputMasks:
    """Draw the masks for one forward pass with the global torch RNG.

    Per sample: overall (shared by its views) and each modality coin; per (view, sample): dropout and the two
    norm-all coins; per forward: the sparsification coin. A modality is off for a view that lacks its keys.
    """
    num_views = len(views)
    n = num_views * batch
    overall = (torch.rand(batch, device=device) < task.overall_prob).repeat(num_views)
    per_view = (torch.rand(n, device=device) < 1.0 - task.dropout_prob) & overall

    def modality(prob: float) -> torch.Tensor:
        return (torch.rand(batch, device=device) < prob).repeat(num_views) & per_view

    rays = modality(task.ray_dirs_prob) & _has(views, "ray_directions_cam", batch, device)
    depth = modality(task.depth_prob) & _has(views, "depth_along_ray", batch, device)
    cam = modality(task.cam_prob)
    cam = (
        cam
        & _has(views, "camera_pose_quats", batch, device)
        & _has(views, "camera_pose_trans", batch, device)
    )
    sparsify = bool(torch.rand(1).item() < task.sparse_depth_prob)
    metric = _metric_flags(views, batch, device)
    depth_keep = torch.rand(n, device=device) >= task.depth_scale_norm_all_prob
    pose_keep = torch.rand(n, device=device) >= task.pose_scale_norm_all_prob
    return GeometricInputMasks(rays, depth, cam, metric & depth_keep & depth, metric & pose_keep, sparsify)


def _gather_dense(views: Sequence[View], key: str, mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Stack `views[v][key]` `(B, H, W, c)` view-major, zeros where the mask is off -> `(V·B, H, W, c)`."""
    batch = mask.shape[0] // len(views)
    parts = []
    for v, view in enumerate(views):
        sel = mask[v * batch : (v + 1) * batch]
        if key in view and bool(sel.any()):
            value = view[key].float()
            parts.append(torch.where(sel[:, None, None, None], value, torch.zeros_like(value)))
        else:
            parts.append(torch.zeros(batch, *like.shape, device=mask.device))
    return torch.cat(parts)


def sparsify_depth(depth: torch.Tensor, mask: torch.Tensor, num_views: int, removal: float) -> torch.Tensor:
    """Zero `int(n_valid · removal)` valid pixels per view, pooled over that view's depth-selected samples."""
    batch = depth.shape[0] // num_views
    out = depth.clone()
    for v in range(num_views):
        chunk = out[v * batch : (v + 1) * batch]
        valid = (chunk > 0) & mask[v * batch : (v + 1) * batch, None, None, None]
        index = valid.flatten().nonzero()[:, 0]
        n_remove = int(index.numel() * removal)
        if n_remove == 0:
            continue
        drop = index[torch.randperm(index.numel(), device=depth.device)[:n_remove]]
        flat = chunk.reshape(-1).clone()
        flat[drop] = 0.0
        out[v * batch : (v + 1) * batch] = flat.reshape(chunk.shape)
    return out


def normalize_depth(depth: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample mean of valid depth f `(N,)` and log-compressed `log1p(depth / f)` `(N, H, W, 1)`."""
    valid = (depth > 0).float()
    factor = depth.sum(dim=(1, 2, 3)) / (valid.sum(dim=(1, 2, 3)) + 1e-8)
    factor_clipped = factor.clamp_min(1e-8)
    return factor, torch.log1p((depth / factor_clipped[:, None, None, None]).clamp_min(0.0))


def relative_poses(
    views: Sequence[View], mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Poses in view 0's frame, identity where the mask is off, and per-sample translation normalisation.

    Returns quaternions `(V·B, 4)`, normalised translations `(V·B, 3)` and the scale factors `(V·B,)`.
    """
    num_views = len(views)
    batch = mask.shape[0] // num_views
    device = mask.device
    quats = torch.zeros(num_views * batch, 4, device=device)
    quats[:, 3] = 1.0
    trans = torch.zeros(num_views * batch, 3, device=device)
    if bool(mask.any()):
        if "camera_pose_quats" not in views[0] or "camera_pose_trans" not in views[0]:
            raise MapaInputError(
                "view 0 lacks camera_pose_quats / camera_pose_trans but another view has a pose input; "
                "poses are expressed relative to view 0, so view 0 must carry a pose whenever any view does"
            )
        q0 = views[0]["camera_pose_quats"].float()
        t0 = views[0]["camera_pose_trans"].float()
        r0 = quat_to_rotmat(q0)
        q0_inv = quat_conjugate(q0)
        for v, view in enumerate(views):
            sel = mask[v * batch : (v + 1) * batch, None]
            if not bool(sel.any()):
                continue
            q_rel = quat_multiply(q0_inv, view["camera_pose_quats"].float())
            t_rel = (r0.transpose(1, 2) @ (view["camera_pose_trans"].float() - t0)[..., None])[..., 0]
            quats[v * batch : (v + 1) * batch] = torch.where(sel, q_rel, quats[v * batch : (v + 1) * batch])
            trans[v * batch : (v + 1) * batch] = torch.where(sel, t_rel, trans[v * batch : (v + 1) * batch])
    per_sample = trans.reshape(num_views, batch, 3)
    norms = per_sample.norm(dim=-1)
    scale = (norms.sum(dim=0) / ((norms > 0).float().sum(dim=0) + 1e-8)).clamp_min(1e-8)
    trans = (per_sample / scale[None, :, None]).reshape(num_views * batch, 3)
    return quats, trans, scale.repeat(num_views)


@dataclass
class GeometricEncoders:
    """The six encoder modules and the fusion norm (owned by the model, under the reference's names)."""

    ray_dirs: nn.Module
    depth: nn.Module
    depth_scale: nn.Module
    cam_rot: nn.Module
    cam_trans: nn.Module
    cam_trans_scale: nn.Module
    fusion_norm: nn.Module


def encode_and_fuse(
    encoders: GeometricEncoders,
    features: torch.Tensor,
    views: Sequence[View],
    task: TaskConfig,
) -> torch.Tensor:
    """Image features `(V·B, C, h, w)` + sampled geometric inputs -> fused, LayerNormed features, same shape.

    Every encoder runs each pass (zero-masked when unused) so all parameters take part in every step.
    """
    num_views = len(views)
    batch = features.shape[0] // num_views
    height, width = views[0]["img"].shape[-2:]
    device = features.device
    with torch.autocast(device_type=device.type, enabled=False):
        feat = features.float()
        masks = sample_geometric_input_masks(task, views, batch, device)
        rays = _gather_dense(views, "ray_directions_cam", masks.rays, torch.empty(height, width, 3))
        ray_feat = encoders.ray_dirs(rays.permute(0, 3, 1, 2))
        feat = feat + ray_feat * masks.rays[:, None, None, None].float()

        depth = _gather_dense(views, "depth_along_ray", masks.depth, torch.empty(height, width, 1))
        if masks.sparsify_depth:
            depth = sparsify_depth(depth, masks.depth, num_views, task.sparsification_removal_percent)
        factor, depth_in = normalize_depth(depth)
        depth_mask = masks.depth.float()
        depth_feat = encoders.depth(depth_in.permute(0, 3, 1, 2)) * depth_mask[:, None, None, None]
        scale_in = torch.log(factor * depth_mask + 1e-8)[:, None]
        depth_scale_feat = encoders.depth_scale(scale_in) * (depth_mask * masks.depth_metric.float())[:, None]
        feat = feat + depth_feat + depth_scale_feat[..., None, None]

        quats, trans, pose_scale = relative_poses(views, masks.cam)
        cam_mask = masks.cam.float()[:, None]
        cam_feat = encoders.cam_rot(quats) * cam_mask + encoders.cam_trans(trans) * cam_mask
        pose_metric = masks.pose_metric.float()[:, None]
        cam_feat = (
            cam_feat
            + encoders.cam_trans_scale(torch.log(pose_scale + 1e-8)[:, None]) * cam_mask * pose_metric
        )
        feat = feat + cam_feat[..., None, None]
        fused = encoders.fusion_norm(feat.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    return fused
