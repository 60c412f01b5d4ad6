"""Paths stored in metadata are relative to the scene folder and must stay inside it."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from wai.errors import WaiPathError, where


def check_relative(
    rel: str, *, scene: str | None = None, frame: str | None = None, field: str | None = None
) -> str:
    """Return `rel` normalised, or raise `WaiPathError` if it is absolute or climbs out of the scene folder.

    The check is lexical: a stored path may be a symlink to raw data elsewhere (the reference converters link
    images that way), which is fine, but the *name* in the metadata may never point outside the scene.
    """
    loc = where(scene=scene, frame=frame, field=field)
    if not isinstance(rel, str) or not rel:
        raise WaiPathError(f"{loc}: expected a non-empty relative path string, got {rel!r}")
    if rel.startswith(("/", "\\")) or (len(rel) > 1 and rel[1] == ":") or os.path.isabs(rel):
        raise WaiPathError(
            f"{loc}: path {rel!r} is absolute; paths in scene metadata must be relative to the scene"
        )
    norm = posixpath.normpath(rel.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        raise WaiPathError(f"{loc}: path {rel!r} escapes the scene folder")
    return norm


def resolve_in_scene(
    scene_dir: Path, rel: str, *, scene: str | None = None, frame: str | None = None, field: str | None = None
) -> Path:
    """Join a checked relative path onto the scene folder."""
    return scene_dir / check_relative(rel, scene=scene, frame=frame, field=field)
