"""File rules: every path field of the scene meta stays inside the scene folder, and every modality file exists.

Paths are checked lexically (`wai.scene.check_relative`): a stored name may be a symlink to raw data elsewhere,
as the reference converters make, but the name itself may not be absolute or climb out with ``..``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wai.errors import WaiPathError
from wai.scene import ModalityLeaf, check_relative
from wai.validate.context import SceneContext
from wai.validate.problem import Problem


@dataclass(frozen=True)
class Reference:
    """One path named by the metadata: the frame (None for scene modalities), the field holding it, its raw value
    and the modality leaf it belongs to."""

    frame: str | None
    field: str
    value: Any
    leaf: ModalityLeaf


def iter_references(ctx: SceneContext) -> Iterator[Reference]:
    """Every (frame, frame_key) named by a frame modality, then every scene modality path; each field once."""
    for frame in ctx.frames:
        seen: set[str] = set()
        for leaf in ctx.frame_leaves:
            if leaf.value in seen:
                continue
            seen.add(leaf.value)
            yield Reference(frame.name, leaf.value, frame.raw.get(leaf.value), leaf)
    for leaf in ctx.scene_leaves:
        yield Reference(None, f"scene_modalities.{leaf.name}", leaf.value, leaf)


#: Frame keys that hold a path although no modality names them (Nerfstudio's image path).
FRAME_PATH_KEYS: tuple[str, ...] = ("file_path",)


def iter_path_fields(ctx: SceneContext) -> Iterator[tuple[str | None, str, Any, str]]:
    """Every path field of the scene meta as ``(frame, field, value, what)``: the modality references, then each
    frame's `FRAME_PATH_KEYS`. `what` names the field's role for messages (``modality 'depth'``)."""
    for ref in iter_references(ctx):
        yield ref.frame, ref.field, ref.value, f"modality '{ref.leaf.name}'"
    modality_keys = {leaf.value for leaf in ctx.frame_leaves}
    for frame in ctx.frames:
        for key in FRAME_PATH_KEYS:
            if key in frame.raw and key not in modality_keys:
                yield frame.name, key, frame.raw[key], f"field '{key}'"


def safe_relative(ref: Reference) -> str | None:
    """The normalised relative path of `ref`, or None if it is missing, not a string, absolute or escaping."""
    if not isinstance(ref.value, str):
        return None
    try:
        return check_relative(ref.value)
    except WaiPathError:
        return None


def check_paths(ctx: SceneContext) -> Iterator[Problem]:
    """Every path field (modality references and `file_path`) is a non-empty string, relative to the scene and
    inside it (no '..', not absolute)."""
    for frame, field, value, what in iter_path_fields(ctx):
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            yield ctx.issue(
                f"expected a non-empty relative path string for {what}, got {value!r}",
                frame=frame,
                field=field,
            )
            continue
        try:
            check_relative(value)
        except WaiPathError as exc:
            reason = str(exc).split(": ", 1)[-1]
            yield ctx.issue(f"{reason} ({what})", frame=frame, file=value, field=field)


def check_files(ctx: SceneContext) -> Iterator[Problem]:
    """Every frame has an entry for each frame modality, and every referenced file exists."""
    for ref in iter_references(ctx):
        if ref.value is None:
            yield ctx.issue(
                f"no '{ref.field}' entry although frame_modalities lists modality '{ref.leaf.name}' "
                "(expected a path for every frame)",
                frame=ref.frame,
                field=ref.field,
            )
            continue
        rel = safe_relative(ref)
        if rel is None:
            continue
        target = ctx.path / rel
        if target.exists():
            continue
        if target.is_symlink():
            why = f"broken symlink (points to '{Path(target).readlink()}')"
        else:
            why = "file not found"
        yield ctx.issue(f"{why} (modality '{ref.leaf.name}')", frame=ref.frame, file=rel, field=ref.field)
