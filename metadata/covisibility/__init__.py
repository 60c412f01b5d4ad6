"""Pairwise covisibility of WAI scenes: the reference algorithm, blocked and pre-filtered, numpy or torch.

from metadata.covisibility import compute_scene_covisibility, covisibility_stage
compute_scene_covisibility("data/synthetic/room_000", "gt_depth")
"""

from metadata.covisibility.compute import covisibility_matrix
from metadata.covisibility.configs import (
    AUTO,
    CONFIGS,
    DATASET_CONFIGS,
    DATASET_DEPTH,
    CovisibilityConfig,
    CovisibilityParams,
    config_names,
    resolve_config,
)
from metadata.covisibility.frames import FrameStack
from metadata.covisibility.frustum import candidate_pairs
from metadata.covisibility.scene import (
    MODALITY,
    PARAMS_FILE,
    CovisibilityResult,
    compute_scene_covisibility,
    load_covisibility,
    matrix_name,
    scene_covisibility_matrix,
)
from metadata.covisibility.stage import STAGE_NAME, CovisibilityTask, covisibility_stage

__all__ = [
    "AUTO",
    "CONFIGS",
    "DATASET_CONFIGS",
    "DATASET_DEPTH",
    "MODALITY",
    "PARAMS_FILE",
    "STAGE_NAME",
    "CovisibilityConfig",
    "CovisibilityParams",
    "CovisibilityResult",
    "CovisibilityTask",
    "FrameStack",
    "candidate_pairs",
    "compute_scene_covisibility",
    "config_names",
    "covisibility_matrix",
    "covisibility_stage",
    "load_covisibility",
    "matrix_name",
    "resolve_config",
    "scene_covisibility_matrix",
]
