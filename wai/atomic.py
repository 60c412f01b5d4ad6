"""Atomic writes: a reader sees either the old file or the complete new one, never a half-written file.

Every writer in `wai` goes through `atomic_path`: the data is written to a temporary name in the target's own folder
(same file system, so the final `os.replace` is atomic), flushed to disk, and renamed into place. A crash or a
SIGKILL leaves at worst a `.tmp-*` file that no reader looks at and that `remove_stale_temporaries` cleans up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

TMP_MARKER = ".wai-tmp-"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


@contextlib.contextmanager
def _replacing(target: Path, *, fsync_file: bool, fsync_dir: bool) -> Iterator[Path]:
    """Yield a fresh temporary name beside `target` (keeping its suffix); on a clean exit rename it onto `target`.

    Whatever the exit, no temporary survives (`lexists`: a symlink temporary may dangle, and renaming a hard link
    onto another name of the same file leaves the temporary in place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{TMP_MARKER}{uuid.uuid4().hex[:12]}-{target.name}")
    try:
        yield tmp
        if fsync_file:
            _fsync_file(tmp)
        os.replace(tmp, target)
        if fsync_dir:
            _fsync_dir(target.parent)
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()


def atomic_path(target: str | os.PathLike, fsync: bool = True) -> contextlib.AbstractContextManager[Path]:
    """Yield a temporary path beside `target`; on a clean exit rename it onto `target`, else delete it.

    The temporary name keeps the target's suffix, so libraries that pick a codec by suffix (OpenCV, OpenEXR) still
    work: ``depth/0001.exr`` is written as ``depth/.wai-tmp-<id>-0001.exr``.
    """
    return _replacing(Path(target), fsync_file=fsync, fsync_dir=fsync)


def atomic_copy_or_link(
    source: str | os.PathLike, target: str | os.PathLike, mode: str = "copy", fsync: bool = True
) -> Path:
    """Put `source` at `target` as a copy, a symlink (to the absolute source) or a hard link, atomically.

    The copy or link is made under a temporary name beside `target` and renamed onto it, so `target` is at every
    moment either absent, its old self, or complete. A failure leaves no temporary behind.
    """
    source, target = Path(source), Path(target)
    if mode not in ("copy", "symlink", "hardlink"):
        raise ValueError(f"mode must be 'copy', 'symlink' or 'hardlink', got {mode!r}")
    # Only a copy has new data to flush; a link's file is the source's.
    with _replacing(target, fsync_file=fsync and mode == "copy", fsync_dir=fsync) as tmp:
        if mode == "symlink":
            tmp.symlink_to(source.resolve())
        elif mode == "hardlink":
            os.link(source, tmp)
        else:
            shutil.copyfile(source, tmp)
    return target


def atomic_write_bytes(target: str | os.PathLike, data: bytes, fsync: bool = True) -> None:
    """Write `data` to `target` atomically."""
    with atomic_path(target, fsync=fsync) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: str | os.PathLike, text: str, fsync: bool = True) -> None:
    """Write UTF-8 `text` to `target` atomically."""
    atomic_write_bytes(target, text.encode("utf-8"), fsync=fsync)


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete temporaries that a killed writer left below `folder`; return how many were removed."""
    removed = 0
    for path in Path(folder).rglob(f"{TMP_MARKER}*"):
        if path.is_file():
            path.unlink()
            removed += 1
    return removed
