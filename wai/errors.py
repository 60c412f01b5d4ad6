"""The error hierarchy of `wai`.

Every error raised on bad input derives from `WaiError`, so a command-line tool can catch one base class and print
one clear line. Each subclass also derives from the matching built-in, so callers that catch `FileNotFoundError` or
`ValueError` keep working.
"""

from __future__ import annotations


class WaiError(Exception):
    """Base class of every error `wai` raises on bad data or bad arguments."""


class WaiFileNotFoundError(WaiError, FileNotFoundError):
    """A file that the metadata or the caller names does not exist."""


class WaiFormatError(WaiError, ValueError):
    """A file exists but its content is not what the format expects (schema, dtype, shape, decode failure)."""


class WaiPathError(WaiError, ValueError):
    """A path stored in metadata is absolute or escapes the scene folder."""


class WaiCameraError(WaiError, ValueError):
    """Camera parameters are missing, unknown or inconsistent with the requested operation."""


class WaiStageError(WaiError, RuntimeError):
    """A processing stage could not run (corrupt process log, bad shard spec, missing executor)."""


def where(
    scene: str | None = None, frame: str | None = None, file: str | None = None, field: str | None = None
) -> str:
    """Format the location part of an error message: ``scene 's1', frame '0007', file 'depth/0007.exr'``."""
    parts = []
    for label, value in (("scene", scene), ("frame", frame), ("file", file), ("field", field)):
        if value is not None:
            parts.append(f"{label} '{value}'")
    return ", ".join(parts)
