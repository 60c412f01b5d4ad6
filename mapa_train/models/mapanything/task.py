"""Geometric-input task configs (`model/task/*.yaml` in the reference) as typed data.

Each preset gives the probabilities with which `MapAnything.forward` feeds ground-truth rays, depth and poses to the
network. The table is the reference's, preset by preset.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapa_train.errors import MapaUnknownNameError


@dataclass(frozen=True)
class TaskConfig:
    """Probabilities of the geometric-input sampling.

    Fields:
        overall_prob: a sample (all its views) may receive any geometric input.
        dropout_prob: a view of such a sample is dropped (gets none).
        ray_dirs_prob: a sample receives ray directions (shared by its views).
        depth_prob: a sample receives depth along the ray.
        cam_prob: a sample receives camera poses.
        sparse_depth_prob: one coin per forward: sparsify the depth inputs.
        sparsification_removal_percent: fraction of valid depth pixels zeroed when sparsifying.
        depth_scale_norm_all_prob: per (view, sample): drop the metric depth-scale token.
        pose_scale_norm_all_prob: per (view, sample): drop the metric pose-scale token.
    """

    overall_prob: float = 0.0
    dropout_prob: float = 1.0
    ray_dirs_prob: float = 0.0
    depth_prob: float = 0.0
    cam_prob: float = 0.0
    sparse_depth_prob: float = 0.0
    sparsification_removal_percent: float = 0.0
    depth_scale_norm_all_prob: float = 0.0
    pose_scale_norm_all_prob: float = 0.0


def _fixed(
    rays: float,
    depth: float,
    cam: float,
    sparse: float = 0.0,
    depth_norm: float = 0.0,
    pose_norm: float = 0.0,
):
    removal = 0.9 if sparse > 0 else 0.0
    return TaskConfig(1.0, 0.0, rays, depth, cam, sparse, removal, depth_norm, pose_norm)


TASKS: dict[str, TaskConfig] = {
    "images_only": TaskConfig(),
    "aug_training": TaskConfig(0.9, 0.05, 0.5, 0.5, 0.5, 0.5, 0.9, 0.05, 0.05),
    "pass_through": _fixed(1, 1, 1),
    "calibrated_sfm": _fixed(1, 0, 0),
    "posed_sfm": _fixed(0, 0, 1),
    "posed_sfm_non_metric": _fixed(0, 0, 1, pose_norm=1),
    "mvs": _fixed(1, 0, 1),
    "mvs_non_metric": _fixed(1, 0, 1, pose_norm=1),
    "mvs_training": _fixed(1, 0, 1, pose_norm=0.05),
    "registration": _fixed(1, 1, 0),
    "registration_sparse": _fixed(1, 1, 0, sparse=1),
    "registration_training": _fixed(1, 1, 0, sparse=0.5, depth_norm=0.05),
    "depth_completion": _fixed(1, 1, 1, sparse=1),
    "non_metric_poses_metric_depth": _fixed(1, 1, 1, pose_norm=1),
    "non_metric_poses_metric_depth_sparse": _fixed(1, 1, 1, sparse=1, pose_norm=1),
    "non_metric_poses_non_metric_depth": _fixed(1, 1, 1, depth_norm=1, pose_norm=1),
    "non_metric_poses_non_metric_depth_sparse": _fixed(1, 1, 1, sparse=1, depth_norm=1, pose_norm=1),
}


def get_task(name: str) -> TaskConfig:
    """The preset called `name` (e.g. "aug_training")."""
    if name not in TASKS:
        raise MapaUnknownNameError(f"unknown model task {name!r}; expected one of {sorted(TASKS)}")
    return TASKS[name]


def deterministic_task(
    use_rays: bool, use_depth: bool, use_cams: bool, metric_depth: bool, metric_pose: bool
):
    """The task the inference call sets: every given input used, nothing dropped, no sparsification."""
    if not (use_rays or use_depth or use_cams):
        return TaskConfig()
    return TaskConfig(
        overall_prob=1.0,
        dropout_prob=0.0,
        ray_dirs_prob=float(use_rays),
        depth_prob=float(use_depth),
        cam_prob=float(use_cams),
        depth_scale_norm_all_prob=0.0 if metric_depth else 1.0,
        pose_scale_norm_all_prob=0.0 if metric_pose else 1.0,
    )
