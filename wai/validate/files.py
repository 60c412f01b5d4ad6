"""File rules: every path that a frame or scene modality names stays inside the scene folder and exists.

Paths are checked lexically (`wai.scene.check_relative`): a stored name may be a symlink to raw data elsewhere,
as the reference converters make, but the name itself may not be absolute or climb out with ``..``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wai.errors import WaiPathError
from wai.scene import check_relative
from wai.validate.context import SceneContext
from wai.validate.modality_tree import Leaf
from wai.validate.problem import Problem


@dataclass(frozen=True)
class Reference:
    """One path named by the metadata: the frame (None for scene modalities), the field holding it, its raw value
    and the modality leaf it belongs to."""

    frame: str | None
    field: str
    value: Any
    leaf: Leaf


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


def safe_relative(ref: Reference) -> str | None:
    """The normalised relative path of `ref`, or None if it is missing, not a string, absolute or escaping."""
    if not isinstance(ref.value, str):
        return None
    try:
        return check_relative(ref.value)
    except WaiPathError:
        return None


def check_paths(ctx: SceneContext) -> Iterator[Problem]:
    """Referenced paths are non-empty strings, relative to the scene and inside it (no '..', not absolute)."""
    for ref in iter_references(ctx):
        if ref.value is None:
            continue
        if not isinstance(ref.value, str) or not ref.value:
            yield ctx.issue(
                f"expected a non-empty relative path string for modality '{ref.leaf.name}', got {ref.value!r}",
                frame=ref.frame,
                field=ref.field,
            )
            continue
        try:
            check_relative(ref.value)
        except WaiPathError as exc:
            reason = str(exc).split(": ", 1)[-1]
            yield ctx.issue(
                f"{reason} (modality '{ref.leaf.name}')", frame=ref.frame, file=ref.value, field=ref.field
            )


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
