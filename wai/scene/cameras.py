"""Frame-over-scene camera values: the one merge that the reader and the validator both use.

A frame's camera is the scene-level camera keys with each key the frame carries itself put over it, key by key
(spec 1.5): a frame may override just ``fl_x``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from wai.camera.models import ALL_PARAM_NAMES

#: Every key that describes a camera; each one is taken from the frame if present, else from the scene.
CAMERA_KEYS: tuple[str, ...] = ("camera_model", "w", "h", *ALL_PARAM_NAMES)


def camera_values(meta: Mapping[str, Any], frame: Mapping[str, Any]) -> dict[str, Any]:
    """The camera keys of `frame` merged over those of the scene `meta` (only keys present in either)."""
    return {k: frame[k] if k in frame else meta[k] for k in CAMERA_KEYS if k in frame or k in meta}


def camera_source(
    meta: Mapping[str, Any], frame: Mapping[str, Any], key: str
) -> Literal["frame", "scene", "none"]:
    """Where the merged value of `key` comes from."""
    if key in frame:
        return "frame"
    return "scene" if key in meta else "none"


def has_own_camera(frame: Mapping[str, Any]) -> bool:
    """Whether `frame` carries any camera key of its own (so it cannot share the scene-level camera object)."""
    return any(k in frame for k in CAMERA_KEYS)
