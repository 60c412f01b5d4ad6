"""Reading and writing `scene_meta.json`, the per-scene metadata of the WAI format.

The file extends Nerfstudio's `transforms.json`. We keep the raw dict (unknown keys survive a read/write cycle) and
check only the structure every reader relies on. The in-memory `frame_names` index of the reference is built on
load and never written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wai.atomic import atomic_write_text
from wai.errors import WaiFileNotFoundError, WaiFormatError

SCENE_META = "scene_meta.json"
SCENE_META_DISTORTED = "scene_meta_distorted.json"
FORMAT_VERSION = "0.1"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def backup_name(path: Path) -> Path:
    """`scene_meta.json` -> `_scene_meta_backup.json` (the reference's backup naming)."""
    return path.with_name(f"_{path.stem}_backup{path.suffix}")


def read_json(path: Path, *, scene: str | None = None) -> Any:
    """Parse a JSON file, with errors that name the file (and scene)."""
    loc = f"scene '{scene}', file '{path}'" if scene else f"file '{path}'"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise WaiFileNotFoundError(f"{loc}: not found") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise WaiFormatError(
            f"{loc}: malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from exc


def check_structure(meta: Any, path: Path) -> None:
    """Raise `WaiFormatError` unless `meta` has the shape every loader relies on (object, `frames` list of objects
    each with a string or number `frame_name`)."""
    if not isinstance(meta, dict):
        raise WaiFormatError(
            f"file '{path}': expected a JSON object at the top level, got {type(meta).__name__}"
        )
    scene = meta.get("scene_name", path.parent.name)
    if "frames" not in meta:
        raise WaiFormatError(f"scene '{scene}', file '{path}': missing required key 'frames'")
    frames = meta["frames"]
    if not isinstance(frames, list):
        raise WaiFormatError(
            f"scene '{scene}', file '{path}', field 'frames': expected a list, got {type(frames).__name__}"
        )
    for i, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise WaiFormatError(f"scene '{scene}', file '{path}', field 'frames[{i}]': expected an object")
        name = frame.get("frame_name")
        if name is None:
            raise WaiFormatError(f"scene '{scene}', file '{path}', field 'frames[{i}].frame_name': missing")
        if not isinstance(name, (str, int, float)) or isinstance(name, bool):
            raise WaiFormatError(
                f"scene '{scene}', file '{path}', field 'frames[{i}].frame_name': expected a string, got {name!r}"
            )
    for key in ("frame_modalities", "scene_modalities"):
        if key in meta and not isinstance(meta[key], dict):
            raise WaiFormatError(f"scene '{scene}', file '{path}', field '{key}': expected an object")


def load_scene_meta(path: str | Path) -> dict[str, Any]:
    """Load a scene meta file and check its structure. The result has no `frame_names` key (see `frame_index`)."""
    path = Path(path)
    meta = read_json(path)
    check_structure(meta, path)
    meta.pop("frame_names", None)
    return meta


def frame_name_index(meta: Mapping[str, Any]) -> dict[str, int]:
    """`{frame_name: index}`; names are compared as strings. Duplicates are the validator's business: here the
    first occurrence wins, so an index never silently points at a later frame."""
    index: dict[str, int] = {}
    for i, frame in enumerate(meta["frames"]):
        index.setdefault(str(frame["frame_name"]), i)
    return index


def dump_scene_meta(meta: Mapping[str, Any]) -> str:
    """Serialise as the reference does: 2-space indented JSON, UTF-8, without the derived `frame_names`."""
    clean = {k: v for k, v in meta.items() if k != "frame_names"}
    return json.dumps(clean, indent=2, ensure_ascii=False) + "\n"


def save_scene_meta(path: str | Path, meta: dict[str, Any], *, backup: bool = True) -> None:
    """Write a scene meta atomically, stamping `last_modified` and keeping the previous file as a backup.

    Unlike the reference (rename, then write), the old file is copied to the backup first and the new one replaces
    it with an atomic rename, so a crash at any point leaves a complete `scene_meta.json`.
    """
    path = Path(path)
    meta["last_modified"] = time.strftime(TIMESTAMP_FORMAT)
    text = dump_scene_meta(meta)
    if backup and path.exists():
        atomic_write_text(backup_name(path), path.read_text(encoding="utf-8"))
    atomic_write_text(path, text)
