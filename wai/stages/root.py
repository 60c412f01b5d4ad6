"""Checks on a dataset root before a run touches any scene, so a bad path is one clear error, not one per scene."""

from __future__ import annotations

import os
from pathlib import Path

from wai.errors import WaiStageError


def check_root(root: str | os.PathLike) -> Path:
    """`root` as a Path; a `WaiStageError` when it exists but is not a writable folder."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise WaiStageError(f"dataset root '{root}' is a file, not a folder")
    if root.is_dir() and not os.access(root, os.W_OK | os.X_OK):
        raise WaiStageError(f"dataset root '{root}' is not writable")
    return root


def prepare_output_root(root: str | os.PathLike) -> Path:
    """Check `root` and create it (with its parents) when missing; a `WaiStageError` says why that is impossible."""
    root = check_root(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WaiStageError(f"cannot create dataset root '{root}': {exc.strerror or exc}") from exc
    return root
