"""Atomic writes and links: the target is absent, old or complete, and no temporary survives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wai.atomic import TMP_MARKER, atomic_copy_or_link, atomic_path, atomic_write_text


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(TMP_MARKER)]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "depth.exr"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".exr"
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old" and not _temporaries(target.parent)
    with atomic_path(target, fsync=False) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and not _temporaries(target.parent)


@pytest.mark.parametrize("mode", ["copy", "symlink", "hardlink"])
def test_copy_or_link_in_every_mode(mode: str, tmp_path: Path) -> None:
    source = tmp_path / "raw" / "a.png"
    source.parent.mkdir()
    source.write_bytes(b"pixels")
    target = tmp_path / "scene" / "images" / "a.png"
    for _ in range(2):  # the second time replaces the first (for a hard link: the same file)
        assert atomic_copy_or_link(source, target, mode=mode) == target
    assert target.read_bytes() == b"pixels" and not _temporaries(target.parent)
    assert target.is_symlink() == (mode == "symlink")
    if mode == "symlink":
        assert os.readlink(target) == str(source.resolve())
    assert os.path.samefile(source, target) == (mode != "copy")


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode must be 'copy', 'symlink' or 'hardlink', got 'move'"):
        atomic_copy_or_link(tmp_path / "a", tmp_path / "b", mode="move")
