"""The shared state of one loss call: the predictions and batch views in fp32, and the normalised geometry that
several terms read (computed once per set of geometry settings, on first use).

Frames: ground truth is re-expressed in GT view 0's frame. Predictions are used in their own output frame
(MapAnything and VGGT predict in view 0's frame) or, with `predictions_to_view0`, re-expressed in the
predicted view 0's frame (π³). Scales: each side is divided by its avg-dis factor over the GT-valid points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import torch

from mapa_train.errors import MapaInputError
from mapa_train.losses.frames import avg_dis_factor, per_sample, points_in_frame, relative_pose
from mapa_train.models.geometry import invert_pose, rotmat_to_quat, transform_points

DepthType = Literal["depth_along_ray", "depth_z"]


class TermSkipped(Exception):
    """Raised by a term when the batch lacks the labels it needs (the reason is reported, nothing is computed)."""


@dataclass(frozen=True)
class GeometrySettings:
    """How predictions and labels are brought into one frame and scale before the geometry terms compare them.

    depth_type: the depth factor compared ("depth_along_ray" or the camera "depth_z").
    loss_in_log: compare points and depths after log-norm compression.
    divide_by_metric_scale: divide predicted lengths by the predicted metric scale first (MapAnything's factored
        scale; the geometry then carries no metric signal and the scale term trains the scale head).
    metric_pred_uses_gt_factor: for metric-scale samples divide the prediction by the GT factor instead of its
        own (the reference's "?avg_dis": metric predictions are compared in metres).
    predictions_to_view0: re-express predicted points and poses in the predicted view 0's frame (π³).
    """

    depth_type: DepthType = "depth_along_ray"
    loss_in_log: bool = True
    divide_by_metric_scale: bool = True
    metric_pred_uses_gt_factor: bool = False
    predictions_to_view0: bool = False


@dataclass
class Factors:
    """Per-sample `(B,)` avg-dis factors: GT, raw prediction (own), and the one the prediction is divided by."""

    gt: torch.Tensor
    pred_raw: torch.Tensor
    pred: torch.Tensor


def _as_tensor(value: Any, device: torch.device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.to(device=device, dtype=torch.float32) if value.is_floating_point() else value.to(device)
    tensor = torch.as_tensor(value, device=device)
    return tensor.float() if tensor.is_floating_point() else tensor


class LossContext:
    """Predictions `V × {key: (B, …)}` and views `V × {key: (B, …)}` of one batch, with cached derived geometry."""

    def __init__(
        self,
        preds: Sequence[dict[str, Any]],
        views: Sequence[dict[str, Any]],
        settings: GeometrySettings,
    ) -> None:
        if len(preds) != len(views):
            raise MapaInputError(f"loss got {len(preds)} prediction dicts for {len(views)} views")
        if not preds:
            raise MapaInputError("loss got no views")
        self.preds = preds
        self.views = views
        self.settings = settings
        self.num_views = len(views)
        first = next(v for v in preds[0].values() if isinstance(v, torch.Tensor))
        self.device = first.device
        self.batch = first.shape[0]

    # -- raw access -----------------------------------------------------------------------------------------------

    def has_label(self, key: str) -> bool:
        return all(key in v for v in self.views)

    def label(self, i: int, key: str) -> torch.Tensor:
        """GT `key` of view i as an fp32 (or bool) tensor; TermSkipped if any view lacks it."""
        if not self.has_label(key):
            missing = [k for k, v in enumerate(self.views) if key not in v]
            raise TermSkipped(f"batch lacks label {key!r} (views {missing})")
        return _as_tensor(self.views[i][key], self.device)

    def pred(self, i: int, key: str, term: str) -> torch.Tensor:
        """Predicted `key` of view i; a model that does not output it is a configuration error."""
        if key not in self.preds[i]:
            raise MapaInputError(
                f"loss term {term!r} needs model output {key!r}, which view {i}'s predictions lack "
                f"(keys: {sorted(self.preds[i])})"
            )
        return _as_tensor(self.preds[i][key], self.device)

    def flag(self, key: str) -> torch.Tensor:
        """Per-sample dataset flag `(B,)` bool of view 0 (`is_metric_scale`, `is_synthetic`)."""
        return self.label(0, key).reshape(self.batch).bool()

    # -- masks, factors ---------------------------------------------------------------------------------------------

    @cached_property
    def valid(self) -> list[torch.Tensor]:
        """GT valid masks `(B, H, W)` bool per view (from `valid_mask`, else `depthmap > 0`)."""
        if self.has_label("valid_mask"):
            return [
                self.label(i, "valid_mask").reshape(self.batch, *self._hw(i)).bool()
                for i in range(self.num_views)
            ]
        if self.has_label("depthmap"):
            return [
                self.label(i, "depthmap").reshape(self.batch, *self._hw(i)) > 0 for i in range(self.num_views)
            ]
        raise TermSkipped("batch lacks label 'valid_mask' (and 'depthmap' to derive it)")

    def _hw(self, i: int) -> tuple[int, int]:
        img = self.views[i].get("img")
        if img is not None:
            return tuple(img.shape[-2:])
        return tuple(self.preds[i]["pts3d"].shape[1:3])

    @cached_property
    def gt_world_points(self) -> list[torch.Tensor]:
        """GT world points in GT view 0's frame, unnormalised."""
        world_to_view0 = invert_pose(self.label(0, "camera_pose"))
        return [transform_points(world_to_view0, self.label(i, "pts3d")) for i in range(self.num_views)]

    @cached_property
    def metric_scale(self) -> torch.Tensor | None:
        """Predicted metric scale `(B,)`, or None if the model predicts none."""
        m = self.preds[0].get("metric_scaling_factor")
        return None if m is None else _as_tensor(m, self.device).reshape(self.batch)

    def _pred_length_divisor(self) -> torch.Tensor | None:
        if self.settings.divide_by_metric_scale and self.metric_scale is not None:
            return self.metric_scale
        return None

    @cached_property
    def _pred_frame(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        if not self.settings.predictions_to_view0:
            return None
        return self.pred(0, "cam_quats", "frame"), self.pred(0, "cam_trans", "frame")

    @cached_property
    def raw_pred_world_points(self) -> list[torch.Tensor]:
        """Predicted world points, divided by the metric scale (if set) and in the chosen predicted frame."""
        out = []
        for i in range(self.num_views):
            pts = self.pred(i, "pts3d", "world_points")
            if self._pred_frame is not None:
                pts = points_in_frame(*self._pred_frame, pts)
            div = self._pred_length_divisor()
            out.append(pts if div is None else pts / per_sample(div, pts))
        return out

    @cached_property
    def factors(self) -> Factors:
        """avg-dis factors over GT-valid points: GT, raw prediction, and the prediction's divisor."""
        gt = avg_dis_factor(self.gt_world_points, self.valid)
        pred_raw = avg_dis_factor(self.raw_pred_world_points, self.valid)
        pred = pred_raw
        if self.settings.metric_pred_uses_gt_factor:
            pred = torch.where(self.flag("is_metric_scale"), gt, pred_raw)
        return Factors(gt, pred_raw, pred)

    def _pred_scaled(self, value: torch.Tensor) -> torch.Tensor:
        """Divide a predicted length quantity by the metric scale (if set) and the prediction's factor."""
        div = self._pred_length_divisor()
        if div is not None:
            value = value / per_sample(div, value)
        return value / per_sample(self.factors.pred, value)

    def _gt_scaled(self, value: torch.Tensor) -> torch.Tensor:
        return value / per_sample(self.factors.gt, value)

    # -- normalised geometry (pred, gt) per view ----------------------------------------------------------------------

    @cached_property
    def world_points(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [
            (p / per_sample(self.factors.pred, p), self._gt_scaled(g))
            for p, g in zip(self.raw_pred_world_points, self.gt_world_points, strict=True)
        ]

    @cached_property
    def cam_points(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [
            (
                self._pred_scaled(self.pred(i, "pts3d_cam", "cam_points")),
                self._gt_scaled(self.label(i, "pts3d_cam")),
            )
            for i in range(self.num_views)
        ]

    @cached_property
    def depths(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(pred, gt) depths `(B, H, W, 1)` of the configured type, normalised."""
        out = []
        for i in range(self.num_views):
            if self.settings.depth_type == "depth_along_ray":
                pred = self.pred(i, "depth_along_ray", "depth")
                gt = self.label(i, "depth_along_ray")
            else:
                pred = self.preds[i].get("depth_z")
                pred = (
                    self.pred(i, "pts3d_cam", "depth")[..., 2:3]
                    if pred is None
                    else _as_tensor(pred, self.device)
                )
                gt = (
                    self.label(i, "pts3d_cam")[..., 2:3]
                    if self.has_label("pts3d_cam")
                    else self.label(i, "depthmap")
                )
            shape = (self.batch, *self._hw(i), 1)
            out.append((self._pred_scaled(pred.reshape(shape)), self._gt_scaled(gt.reshape(shape))))
        return out

    def gt_pose(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        """GT cam2world (quaternion, unnormalised translation) of view i, in the dataset world frame."""
        if self.has_label("camera_pose_quats") and self.has_label("camera_pose_trans"):
            return self.label(i, "camera_pose_quats"), self.label(i, "camera_pose_trans")
        pose = self.label(i, "camera_pose")
        return rotmat_to_quat(pose[:, :3, :3]), pose[:, :3, 3]

    @cached_property
    def gt_poses(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """GT poses relative to GT view 0, translations unnormalised."""
        q0, t0 = self.gt_pose(0)
        return [relative_pose(q0, t0, *self.gt_pose(i)) for i in range(self.num_views)]

    @cached_property
    def pred_poses(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Predicted poses (in the chosen predicted frame), translations unnormalised (but divided by m if set)."""
        out = []
        for i in range(self.num_views):
            q, t = self.pred(i, "cam_quats", "pose"), self.pred(i, "cam_trans", "pose")
            if self._pred_frame is not None:
                q, t = relative_pose(*self._pred_frame, q, t)
            div = self._pred_length_divisor()
            out.append((q, t if div is None else t / div[:, None]))
        return out

    def normalised_translations(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(pred, gt) translations `(B, 3)` divided by their avg-dis factors."""
        return [
            (tp / self.factors.pred[:, None], tg / self.factors.gt[:, None])
            for (_, tp), (_, tg) in zip(self.pred_poses, self.gt_poses, strict=True)
        ]
