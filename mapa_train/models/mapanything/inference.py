"""The MapAnything inference call: views with an image and optional intrinsics, z-depth and poses in; world points,
camera points, poses, intrinsics, confidence, mask and metric scale out.

It converts the user's inputs into the network's conventions (rays, range along the ray, quaternion + translation,
ImageNet-normalised images), fixes the geometric-input task so that exactly the given inputs are used, and maps the
raw outputs back (4×4 cam2world poses, pinhole intrinsics fitted to the predicted rays).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from mapa_train.errors import MapaInputError
from mapa_train.models.geometry import intrinsics_from_rays, pose_matrix, rays_from_intrinsics, rotmat_to_quat
from mapa_train.models.mapanything.model import MapAnything
from mapa_train.models.mapanything.task import deterministic_task

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _prepare_view(view: dict[str, Any], index: int) -> dict[str, Any]:
    if "img" not in view:
        raise MapaInputError(f"inference view {index} has no 'img' (B, 3, H, W) in [0, 1]")
    img = view["img"].float()
    batch, _, height, width = img.shape
    mean = torch.tensor(IMAGENET_MEAN, device=img.device)[None, :, None, None]
    std = torch.tensor(IMAGENET_STD, device=img.device)[None, :, None, None]
    out: dict[str, Any] = {"img": (img - mean) / std}
    rays = None
    if view.get("intrinsics") is not None:
        rays = rays_from_intrinsics(view["intrinsics"].float(), height, width)
        out["ray_directions_cam"] = rays
    if view.get("depth_z") is not None:
        if rays is None:
            raise MapaInputError(f"inference view {index}: 'depth_z' needs 'intrinsics' to convert to range")
        depth_z = view["depth_z"].float().reshape(batch, height, width, 1)
        out["depth_along_ray"] = depth_z / rays[..., 2:3].clamp_min(1e-8)
    if view.get("camera_poses") is not None:
        pose = view["camera_poses"].float()
        out["camera_pose_quats"] = rotmat_to_quat(pose[:, :3, :3])
        out["camera_pose_trans"] = pose[:, :3, 3]
    if view.get("is_metric_scale") is not None:
        out["is_metric_scale"] = torch.as_tensor(view["is_metric_scale"]).reshape(batch).bool()
    else:
        out["is_metric_scale"] = torch.ones(batch, dtype=torch.bool)
    return out


@torch.no_grad()
def infer(
    model: MapAnything, views: Sequence[dict[str, Any]], use_amp: bool = True
) -> list[dict[str, torch.Tensor]]:
    """Run MapAnything on user views.

    Each view: `img (B, 3, H, W)` in [0, 1]; optional `intrinsics (B, 3, 3)`, `depth_z (B, H, W)`,
    `camera_poses (B, 4, 4)` cam2world, `is_metric_scale (B,)` (default True: given depth/poses are metric).
    Returns per view: `pts3d`, `pts3d_cam (B, H, W, 3)`, `camera_poses (B, 4, 4)`, `intrinsics (B, 3, 3)`,
    `depth_z (B, H, W, 1)`, `conf (B, H, W)`, `mask (B, H, W)` bool, `metric_scaling_factor (B, 1)` (None without
    a scale head). Pointmap representations give `pts3d`, `conf`, `mask` and `metric_scaling_factor` only.
    """
    prepared = [_prepare_view(v, i) for i, v in enumerate(views)]
    use_rays = any("ray_directions_cam" in v for v in prepared)
    use_depth = any("depth_along_ray" in v for v in prepared)
    use_cams = any("camera_pose_quats" in v for v in prepared)
    if use_cams and "camera_pose_quats" not in prepared[0]:
        raise MapaInputError(
            "inference: view 0 must have 'camera_poses' when any view does (it is the reference)"
        )
    metric = all(bool(v["is_metric_scale"].all()) for v in prepared)
    task = deterministic_task(use_rays, use_depth, use_cams, metric, metric)
    device = next(model.parameters()).device
    prepared = [{k: (t.to(device) if torch.is_tensor(t) else t) for k, t in v.items()} for v in prepared]
    was_training = model.training
    model.eval()
    try:
        amp = use_amp and device.type == "cuda"
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            raw = model(prepared, task=task)
    finally:
        model.train(was_training)
    return [_user_outputs(out) for out in raw]


def _user_outputs(out: dict[str, torch.Tensor]) -> dict[str, torch.Tensor | None]:
    """One view's model outputs -> the user-facing dict. A pointmap model (no pose head) gives only `pts3d`,
    `conf`, `mask` (with a mask channel) and `metric_scaling_factor`: it predicts no cameras or camera points."""
    result: dict[str, torch.Tensor | None] = {"pts3d": out["pts3d"]}
    if "ray_directions" in out:
        rays = out["ray_directions"]
        result.update(
            pts3d_cam=out["pts3d_cam"],
            camera_poses=pose_matrix(out["cam_quats"], out["cam_trans"]),
            intrinsics=intrinsics_from_rays(rays.float()),
            depth_z=out["pts3d_cam"][..., 2:3],
            ray_directions=rays,
        )
    result["conf"] = out["conf"]
    if "non_ambiguous_mask" in out:
        result["mask"] = out["non_ambiguous_mask"]
    result["metric_scaling_factor"] = out.get("metric_scaling_factor")
    return result
