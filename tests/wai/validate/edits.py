"""Helpers that break a valid scene in one specific way, shared by the validator tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wai.validate import Problem


def read_meta(scene_dir: Path) -> dict[str, Any]:
    return json.loads((scene_dir / "scene_meta.json").read_text())


def edit_meta(scene_dir: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to the scene meta dict in place and write it back."""
    meta = read_meta(scene_dir)
    change(meta)
    (scene_dir / "scene_meta.json").write_text(json.dumps(meta, indent=2))


def rules_of(problems: list[Problem]) -> set[str]:
    return {p.rule for p in problems}


def only(problems: list[Problem], rule: str) -> list[Problem]:
    return [p for p in problems if p.rule == rule]
