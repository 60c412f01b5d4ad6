"""The `--src` rule shared by the generic importers: a capture, a folder of captures, or a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from wai.errors import WaiFileNotFoundError
from wai_converters.registry import get_converter


def _converter(name: str, src: Path):
    cls = get_converter(name)
    return cls(cls.config_class(src=str(src)))


@pytest.mark.parametrize("name", ["colmap", "nerfstudio"])
def test_src_is_a_capture_or_a_folder_of_captures(name: str, tmp_path: Path) -> None:
    (tmp_path / "one" / "images").mkdir(parents=True)
    converter = _converter(name, tmp_path / "one")
    assert converter.source_scenes() == ["one"]
    assert converter.capture_dir("one") == (tmp_path / "one").resolve()
    for scene in ("b", "a", ".hidden", "_tmp"):
        (tmp_path / "many" / scene).mkdir(parents=True)
    converter = _converter(name, tmp_path / "many")
    assert converter.source_scenes() == ["a", "b"]
    assert converter.capture_dir("b") == (tmp_path / "many" / "b").resolve()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("colmap", "no COLMAP model in capture"),
        ("nerfstudio", "no transforms.json in '.*' or in its sub-folders"),
    ],
)
def test_missing_or_empty_src_is_one_clear_error(name: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(WaiFileNotFoundError, match=f"{name}: --src '.*nowhere' is not a folder"):
        _converter(name, tmp_path / "nowhere").source_scenes()
    (tmp_path / "empty").mkdir()
    with pytest.raises(WaiFileNotFoundError, match=message):
        _converter(name, tmp_path / "empty").source_scenes()
