"""The rule table: every check `wai validate` runs, in the order it runs them, with a one-line description.

A rule is a function ``(SceneContext) -> Iterator[Problem]`` that reports the faults of its own area only, so one
fault yields one problem. Deep rules read file contents and run only when asked (``--deep``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from wai.validate.camera import check_camera
from wai.validate.content import check_decode, check_depth_values
from wai.validate.context import SceneContext
from wai.validate.covisibility import check_covisibility
from wai.validate.files import check_files, check_paths
from wai.validate.modalities import check_modalities
from wai.validate.poses import ROTATION_ATOL, check_rotations
from wai.validate.problem import Problem
from wai.validate.schema import check_frames, check_keys, check_meta, check_transforms

RuleCheck = Callable[[SceneContext], Iterator[Problem]]


@dataclass(frozen=True)
class Rule:
    """A registered check: its name (used in reports), what it checks, the function, and whether it is deep."""

    name: str
    description: str
    check: RuleCheck
    deep: bool = False


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "meta", "scene_meta.json exists (conversion finished), is readable JSON and an object", check_meta
        ),
        Rule(
            "keys",
            "required top-level keys present with the right types; scene_name matches the folder",
            check_keys,
        ),
        Rule(
            "frames",
            "frame entries are objects; frame_name present, unique and usable as a file stem",
            check_frames,
        ),
        Rule("transforms", "every frame has a transform_matrix of 4x4 finite numbers", check_transforms),
        Rule(
            "camera",
            "camera model known, its coefficients numeric, w/h positive ints, shared_intrinsics consistent",
            check_camera,
        ),
        Rule(
            "modalities",
            "modality leaves: format plus exactly one of frame_key/scene_key/path; known formats",
            check_modalities,
        ),
        Rule(
            "paths",
            "referenced paths are relative and stay inside the scene folder (no '..', not absolute)",
            check_paths,
        ),
        Rule(
            "files",
            "every frame has each frame modality's entry and every referenced file exists",
            check_files,
        ),
        Rule(
            "decode",
            "files decode; per-pixel files have the format's shape/dtype and the camera's w/h",
            check_decode,
            deep=True,
        ),
        Rule("depth_values", "depth maps are finite and non-negative", check_depth_values, deep=True),
        Rule(
            "rotations",
            f"pose rotations orthonormal with det +1 (within {ROTATION_ATOL:g}); last row 0 0 0 1",
            check_rotations,
            deep=True,
        ),
        Rule(
            "covisibility",
            "covisibility/<v>/ holds one NxN matrix (N = frames), finite, in [0, 1]",
            check_covisibility,
            deep=True,
        ),
    )
}


def rules_for(deep: bool) -> list[Rule]:
    """The rules a run executes: the shallow ones, plus the deep ones when `deep`."""
    return [rule for rule in RULES.values() if deep or not rule.deep]
