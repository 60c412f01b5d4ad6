"""MapAnything's output representations, named as the reference's `pred_head.adaptor_config` choices.

A representation fixes what the DPT regressor predicts per pixel (and so its channel count), whether the model has a
pose head and a scale head, and how their raw outputs compose into the per-view output dicts that the losses and
the benchmark read. Channel order: geometry first, then confidence, then the mask logit.

| name | regressor channels | geometry | pose head | scale head |
|---|---|---|---|---|
| raydirs_depth_pose_confidence_mask[_scale] | 6 | unit rays (3) + depth along the ray (1) | yes | [yes] |
| campointmap_pose_confidence_mask[_scale] | 5 | camera points, mode `z_exp` | yes | [yes] |
| pointmap_confidence[_mask][_scale] | 4 / 5 | world points (view 0's frame), mode `exp` | no | [yes] |

The released models use `raydirs_depth_pose_confidence_mask_scale`; the others are the ablation-1 variants. A
pointmap model has no pose head, so it outputs only `pts3d`, `conf`, the mask (with `_mask`) and the metric scale
(with `_scale`): no camera points, rays, depth or pose. Losses that need those fail at build time
(`mapa_train.losses.check_model_outputs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks import adaptors
from mapa_train.models.geometry import quat_to_rotmat

RepresentationName = Literal[
    "raydirs_depth_pose_confidence_mask_scale",
    "raydirs_depth_pose_confidence_mask",
    "campointmap_pose_confidence_mask_scale",
    "campointmap_pose_confidence_mask",
    "pointmap_confidence_mask_scale",
    "pointmap_confidence_mask",
    "pointmap_confidence_scale",
    "pointmap_confidence",
]
DenseGeometry = Literal["raydirs_depth", "campointmap", "pointmap"]
RELEASE: RepresentationName = "raydirs_depth_pose_confidence_mask_scale"

_POSED_KEYS = ("pts3d", "pts3d_cam", "ray_directions", "depth_along_ray", "cam_trans", "cam_quats", "conf")
_MASK_KEYS = ("non_ambiguous_mask", "non_ambiguous_mask_logits")


@dataclass(frozen=True)
class Representation:
    """One output representation.

    Fields:
        name: the reference's adaptor-config name.
        geometry: what the regressor's geometry channels are.
        mask: a non-ambiguous-mask logit channel follows the confidence.
        scale: a scale token and scale head predict one metric scale per sample; lengths are multiplied by it.
    """

    name: RepresentationName
    geometry: DenseGeometry
    mask: bool
    scale: bool

    @property
    def pose(self) -> bool:
        """Whether the model has a pose head (every geometry but the world pointmap)."""
        return self.geometry != "pointmap"

    @property
    def geometry_channels(self) -> int:
        return 4 if self.geometry == "raydirs_depth" else 3

    @property
    def channels(self) -> int:
        """The DPT regressor's output channels (= the reference adaptor's `input_dim`)."""
        return self.geometry_channels + 1 + int(self.mask)

    @property
    def output_keys(self) -> frozenset[str]:
        """The keys of every per-view output dict."""
        keys = list(_POSED_KEYS) if self.pose else ["pts3d", "conf"]
        if self.mask:
            keys += _MASK_KEYS
        if self.scale:
            keys.append("metric_scaling_factor")
        return frozenset(keys)


REPRESENTATIONS: dict[str, Representation] = {
    r.name: r
    for r in (
        Representation("raydirs_depth_pose_confidence_mask_scale", "raydirs_depth", mask=True, scale=True),
        Representation("raydirs_depth_pose_confidence_mask", "raydirs_depth", mask=True, scale=False),
        Representation("campointmap_pose_confidence_mask_scale", "campointmap", mask=True, scale=True),
        Representation("campointmap_pose_confidence_mask", "campointmap", mask=True, scale=False),
        Representation("pointmap_confidence_mask_scale", "pointmap", mask=True, scale=True),
        Representation("pointmap_confidence_mask", "pointmap", mask=True, scale=False),
        Representation("pointmap_confidence_scale", "pointmap", mask=False, scale=True),
        Representation("pointmap_confidence", "pointmap", mask=False, scale=False),
    )
}


def get_representation(name: str) -> Representation:
    """The representation called `name`; an unknown name is a config error listing the known ones."""
    if name not in REPRESENTATIONS:
        raise MapaConfigError(
            f"pred_head.adaptor: unknown output representation {name!r}; known: {sorted(REPRESENTATIONS)}"
        )
    return REPRESENTATIONS[name]


def _check_inputs(
    rep: Representation, dense: torch.Tensor, pose: torch.Tensor | None, metric: torch.Tensor | None
) -> None:
    if dense.shape[1] != rep.channels:
        raise MapaConfigError(
            f"representation {rep.name} reads {rep.channels} regressor channels, got {dense.shape[1]}"
        )
    if rep.pose != (pose is not None):
        raise MapaConfigError(
            f"representation {rep.name} {'needs' if rep.pose else 'has no'} pose-head output"
        )
    if rep.scale != (metric is not None):
        raise MapaConfigError(f"representation {rep.name} {'needs' if rep.scale else 'has no'} metric scale")


def compose_outputs(
    representation: Representation | str,
    dense: torch.Tensor,
    pose: torch.Tensor | None,
    metric: torch.Tensor | None,
    num_views: int,
) -> list[dict[str, torch.Tensor]]:
    """Regressor `(V·B, C, H, W)`, pose `(V·B, 7)` (None without a pose head) and metric scale `(B, 1)` (None
    without a scale head) -> one output dict per view.

    Geometry is predicted scale-free; every length output (points, depth, translation) is multiplied by the
    per-sample metric scale where there is one. Rays and quaternions are not scaled.
    """
    rep = get_representation(representation) if isinstance(representation, str) else representation
    _check_inputs(rep, dense, pose, metric)
    dense = dense.permute(0, 2, 3, 1)
    k = rep.geometry_channels
    maps: dict[str, torch.Tensor] = {}
    globals_: dict[str, torch.Tensor] = {}
    if rep.geometry == "pointmap":
        maps["pts3d"] = adaptors.pointmap(dense[..., 0:3], "exp")
    else:
        if rep.geometry == "raydirs_depth":
            rays = adaptors.ray_directions(dense[..., 0:3])
            depth = adaptors.depth_along_ray(dense[..., 3:4])
            pts_cam = rays * depth
        else:
            pts_cam = adaptors.pointmap(dense[..., 0:3], "z_exp")
            rays, depth = adaptors.rays_and_depth_from_points(pts_cam)
        trans, quats = adaptors.translation_and_quaternion(pose)
        rot = quat_to_rotmat(quats)
        maps["pts3d"] = torch.einsum("nij,nhwj->nhwi", rot, pts_cam) + trans[:, None, None, :]
        maps["pts3d_cam"] = pts_cam
        maps["depth_along_ray"] = depth
        globals_["cam_trans"] = trans
    conf = adaptors.confidence(dense[..., k])
    logits = dense[..., k + 1] if rep.mask else None
    batch = dense.shape[0] // num_views
    outputs = []
    for v in range(num_views):
        s = slice(v * batch, (v + 1) * batch)
        out: dict[str, Any] = {}
        for key, value in maps.items():
            out[key] = value[s] if metric is None else value[s] * metric[:, :, None, None]
        for key, value in globals_.items():
            out[key] = value[s] if metric is None else value[s] * metric
        if rep.pose:
            out["ray_directions"] = rays[s]
            out["cam_quats"] = quats[s]
        out["conf"] = conf[s]
        if logits is not None:
            out["non_ambiguous_mask"] = adaptors.mask_probability(logits[s]) > 0.5
            out["non_ambiguous_mask_logits"] = logits[s]
        if metric is not None:
            out["metric_scaling_factor"] = metric
        outputs.append(out)
    return outputs
