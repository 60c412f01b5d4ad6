"""The README's Python example runs as written against the quick-start dataset."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.wai_cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_reading_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    reading = next(b for b in blocks if "wai.open_scene" in b)
    dst = tmp_path / "data" / "synthetic"
    args = ["convert", "synthetic", "--dst", str(dst), "--num-scenes", "1", "--width", "32", "--height", "24"]
    assert CliRunner().invoke(main, args).exit_code == 0
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(reading, str(README), "exec"), namespace)  # the README's own example, not user input
    assert namespace["rgb"].shape == (24, 32, 3)
    assert namespace["K"].shape == (3, 3) and namespace["T"].shape == (4, 4)


def test_readme_writing_example_runs_as_pasted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    writing = next(b for b in blocks if "wai.SceneWriter" in b)
    monkeypatch.chdir(tmp_path)
    exec(compile(writing, str(README), "exec"), {})  # a fresh namespace: the block must import what it uses
    import wai

    frame = wai.open_scene(tmp_path / "data" / "mine" / "scene_0").frames[0]
    assert frame.image.shape == (480, 640, 3) and float(frame.depth[0, 0]) == 2.0
    assert frame.intrinsics[0, 0] == 500.0
