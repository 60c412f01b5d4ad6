"""Which scenes a run works on: the sorted scene list, explicit names, and `--shard i/N` subsets."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from wai.errors import WaiStageError
from wai.scene.dataset import list_scenes

_SHARD = re.compile(r"^\s*(-?\d+)\s*/\s*(-?\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/N"`` (0-based shard `i` of `N`) into ``(i, N)``; raises `WaiStageError` on bad input."""
    match = _SHARD.match(text) if isinstance(text, str) else None
    if match is None:
        raise WaiStageError(
            f"bad shard {text!r}: expected 'i/N' with integers, e.g. '0/4' for the first of 4 shards"
        )
    return check_shard((int(match.group(1)), int(match.group(2))))


def check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    """Validate ``(i, N)``: N >= 1 and 0 <= i < N (shards are 0-based)."""
    try:
        index, count = (int(v) for v in shard)
    except (TypeError, ValueError):
        raise WaiStageError(f"bad shard {shard!r}: expected a pair (i, N) of integers") from None
    if count < 1:
        raise WaiStageError(f"bad shard {index}/{count}: the number of shards must be at least 1")
    if not 0 <= index < count:
        raise WaiStageError(
            f"bad shard {index}/{count}: the shard index is 0-based, expected 0 <= i < {count}"
        )
    return index, count


def check_scene_name(name: str) -> str:
    """A scene name must be one plain folder name that `list_scenes` would list (not hidden or internal)."""
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise WaiStageError(f"bad scene name {name!r}: expected a folder name")
    if os.sep in name or (os.altsep and os.altsep in name) or "/" in name:
        raise WaiStageError(f"bad scene name {name!r}: must be a single folder name, not a path")
    if name.startswith((".", "_")):
        raise WaiStageError(
            f"bad scene name {name!r}: names starting with '.' or '_' are reserved for internal files"
        )
    return name


def select_scenes(
    root: str | os.PathLike, scenes: Sequence[str] | None = None, shard: tuple[int, int] | None = None
) -> list[str]:
    """The sorted, de-duplicated scene names of this run, restricted to `shard` (every N-th, from i).

    Without `scenes` the sub-folders of `root` are listed; a shard is taken from the full sorted list, so the N
    shards partition it whatever state the scenes are in.
    """
    if isinstance(scenes, str):
        raise WaiStageError(f"scenes must be a list of names, got the string {scenes!r}")
    names = list_scenes(Path(root)) if scenes is None else sorted({check_scene_name(s) for s in scenes})
    if shard is not None:
        index, count = check_shard(shard)
        names = names[index::count]
    return names


__all__ = ["check_scene_name", "check_shard", "list_scenes", "parse_shard", "select_scenes"]
