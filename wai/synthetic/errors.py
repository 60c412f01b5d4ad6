"""The error raised on bad synthetic-scene or render arguments."""

from __future__ import annotations

from wai.errors import WaiError


class SyntheticSceneError(WaiError, ValueError):
    """A primitive, texture, pose or render argument is invalid (wrong shape, non-positive size, unknown kind)."""
