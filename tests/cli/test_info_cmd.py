"""`wai info` through the click entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.wai_cli import main
from tests.factories import make_scene


def test_scene_text(scene_dir: Path) -> None:
    result = CliRunner().invoke(main, ["info", str(scene_dir)])
    assert result.exit_code == 0, result.output
    assert "frames           3" in result.output
    assert "camera model(s)  PINHOLE: 3" in result.output
    assert "depth range      1 - 3 m (valid pixels of 3 of 3 frames, evenly spaced" in result.output


def test_root_table_and_json(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "s1", n_frames=2)
    make_scene(root / "s2", n_frames=4)
    result = CliRunner().invoke(main, ["info", str(root)])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if line.startswith("total"))
    assert total.split()[:3] == ["total", "(2)", "6"]
    result = CliRunner().invoke(main, ["info", str(root), "--json"])
    data = json.loads(result.output)
    assert [s["name"] for s in data["scenes"]] == ["s1", "s2"]
    assert data["total"]["frames"] == 6


def test_unfinished_scene_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "scene" / "images").mkdir(parents=True)
    result = CliRunner().invoke(main, ["info", str(tmp_path / "scene")])
    assert result.exit_code == 1
    assert "conversion not finished" in result.output
