"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_scene


@pytest.fixture
def scene_dir(tmp_path: Path) -> Path:
    return make_scene(tmp_path / "root" / "scene_a")
