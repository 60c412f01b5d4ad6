"""Schema rules: `scene_meta.json` parses, has the keys every reader relies on, and its frames are well-formed.

The reference validates none of this: a duplicate frame name silently resolves to the last frame, and
a malformed pose only fails deep inside a training run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from wai.validate.context import SceneContext
from wai.validate.problem import Problem

#: Top-level keys every converted scene must have, with the JSON type expected.
REQUIRED_KEYS: dict[str, tuple[type, ...]] = {
    "scene_name": (str,),
    "dataset_name": (str,),
    "shared_intrinsics": (bool,),
    "frames": (list,),
    "frame_modalities": (dict,),
}

#: Keys that may be missing but must have this type when present.
OPTIONAL_KEYS: dict[str, tuple[type, ...]] = {
    "scene_modalities": (dict,),
    "scale_type": (str,),
    "camera_convention": (str,),
    "camera_model": (str,),
    "version": (str, int, float),
    "last_modified": (str, type(None)),
    "_applied_transforms": (dict,),
    "_applied_transform": (list,),
}

#: Characters a frame name may not contain: it is the file stem of every derived per-frame output.
_BAD_STEM_CHARS = frozenset("/\\\0")


def _type_names(types: tuple[type, ...]) -> str:
    """``(dict,)`` -> ``an object``; ``(str, int, float)`` -> ``a string or a number``."""
    names = {
        bool: "a boolean",
        str: "a string",
        list: "a list",
        dict: "an object",
        int: "a number",
        float: "a number",
    }
    return " or ".join(dict.fromkeys(names.get(t, "null") for t in types))


def _json_type(value: Any) -> str:
    for t, name in (
        (bool, "boolean"),
        (str, "string"),
        (list, "list"),
        (dict, "object"),
        (type(None), "null"),
    ):
        if isinstance(value, t):
            return name
    return "number" if isinstance(value, (int, float)) else type(value).__name__


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def check_meta(ctx: SceneContext) -> Iterator[Problem]:
    """The scene meta exists, is readable JSON and an object."""
    if ctx.meta_fault is not None:
        yield ctx.issue(ctx.meta_fault, file="scene_meta.json")


def check_keys(ctx: SceneContext) -> Iterator[Problem]:
    """Required top-level keys are present with the right types; `scene_name` matches the folder."""
    if ctx.meta is None:
        return
    meta = ctx.meta
    for key, types in REQUIRED_KEYS.items():
        if key not in meta:
            yield ctx.issue(f"missing required key '{key}' (expected {_type_names(types)})", field=key)
        elif not _has_type(meta[key], types):
            yield ctx.issue(f"expected {_type_names(types)}, got {_json_type(meta[key])}", field=key)
    for key, types in OPTIONAL_KEYS.items():
        if key in meta and not _has_type(meta[key], types):
            yield ctx.issue(f"expected {_type_names(types)}, got {_json_type(meta[key])}", field=key)
    if isinstance(meta.get("scene_name"), str) and meta["scene_name"] != ctx.name:
        yield ctx.issue(
            f"scene_name {meta['scene_name']!r} differs from the scene folder name {ctx.name!r} (expected equal)",
            field="scene_name",
        )
    convention = meta.get("camera_convention")
    if isinstance(convention, str) and convention != "opencv":
        yield ctx.issue(
            f"camera_convention is {convention!r}; readers assume 'opencv' cam2world poses",
            field="camera_convention",
        )


def check_frames(ctx: SceneContext) -> Iterator[Problem]:
    """Frame entries are objects with a `frame_name` that is unique and usable as a file stem."""
    if ctx.meta is None or not isinstance(ctx.meta.get("frames"), list):
        return
    frames = ctx.meta["frames"]
    if not frames:
        yield ctx.issue("the frame list is empty (expected at least one frame)", field="frames")
    first_index: dict[str, int] = {}
    for i, frame in enumerate(frames):
        field = f"frames[{i}]"
        if not isinstance(frame, dict):
            yield ctx.issue(f"expected an object, got {_json_type(frame)}", field=field)
            continue
        if "frame_name" not in frame:
            yield ctx.issue("missing required key 'frame_name'", field=f"{field}.frame_name")
            continue
        name = frame["frame_name"]
        if isinstance(name, bool) or not isinstance(name, (str, int, float)):
            yield ctx.issue(f"frame_name must be a string (or a number), got {_json_type(name)}", field=field)
            continue
        key = str(name)
        if not key or key in (".", "..") or _BAD_STEM_CHARS & set(key):
            yield ctx.issue(
                f"frame_name {key!r} is not usable as a file stem (no '/', '\\', NUL, '.' or '..')",
                frame=key,
                field=f"{field}.frame_name",
            )
        if key in first_index:
            yield ctx.issue(
                f"duplicate frame_name (also frames[{first_index[key]}]); names must be unique, the reference "
                "silently resolves the name to the last one",
                frame=key,
                field=f"{field}.frame_name",
            )
        else:
            first_index[key] = i


def pose_matrix(value: Any) -> tuple[list[list[float]] | None, str | None]:
    """Parse a `transform_matrix` (4x4 nested, or 16 flat numbers as the loaders also accept).

    Returns ``(rows, None)`` or ``(None, why)``.
    """
    if not isinstance(value, list):
        return None, f"expected a 4x4 list of numbers, got {_json_type(value)}"
    if len(value) == 16 and all(not isinstance(v, list) for v in value):
        flat = value
    elif len(value) == 4 and all(isinstance(row, list) and len(row) == 4 for row in value):
        flat = [v for row in value for v in row]
    else:
        return None, "expected a 4x4 list of numbers (or 16 flat numbers)"
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in flat):
        return None, "expected numbers only"
    if not all(math.isfinite(v) for v in flat):
        return None, "expected finite numbers, found NaN or infinity"
    return [[float(v) for v in flat[r * 4 : r * 4 + 4]] for r in range(4)], None


def check_transforms(ctx: SceneContext) -> Iterator[Problem]:
    """Every frame has a `transform_matrix` of 4x4 finite numbers."""
    for frame in ctx.frames:
        if "transform_matrix" not in frame.raw:
            yield ctx.issue(
                "missing 'transform_matrix' (expected a 4x4 cam2world pose)",
                frame=frame.name,
                field="transform_matrix",
            )
            continue
        _, why = pose_matrix(frame.raw["transform_matrix"])
        if why is not None:
            yield ctx.issue(why, frame=frame.name, field="transform_matrix")
