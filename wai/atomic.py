"""Atomic writes: a reader sees either the old file or the complete new one, never a half-written file.

Every writer in `wai` goes through `atomic_path`: the data is written to a temporary name in the target's own folder
(same file system, so the final `os.replace` is atomic), flushed to disk, and renamed into place. A crash or a
SIGKILL leaves at worst a `.tmp-*` file that no reader looks at and that `remove_stale_temporaries` cleans up.

Flushing each file costs a journal commit (milliseconds of waiting on the disk, serialised between processes).
Inside `batched_durability(folder)` the files written in sub-folders of `folder` (a scene's frames) skip their own
flush and are made durable together, by one flush of the file system, before the next durable write that is not
batched (such as the scene's `scene_meta.json` or process log) and when the block ends. The order that matters
after a power loss is kept: whatever was written before a commit record is on disk before that record is.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import dataclasses
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
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


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's `syncfs(2)` (flush one file system), or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs


_SYNCFS = _load_syncfs()


@dataclasses.dataclass
class _Batch:
    """Files written below `prefix` whose flush is postponed, and the folders whose entries changed."""

    folder: Path
    prefix: str
    files: list[Path] = dataclasses.field(default_factory=list)
    folders: set[Path] = dataclasses.field(default_factory=set)

    def covers(self, target: Path) -> bool:
        """True for a target in a sub-folder of the batch folder (not directly in it)."""
        return os.path.abspath(target.parent).startswith(self.prefix)

    def postpone(self, target: Path, data: bool) -> None:
        """Remember a renamed `target` (and, when `data`, its contents) for the next flush."""
        if data:
            self.files.append(target)
        folder = Path(os.path.abspath(target.parent))
        while folder != self.folder and folder not in self.folders:
            self.folders.add(folder)
            folder = folder.parent
        self.folders.add(self.folder)

    def flush(self) -> None:
        """Make every postponed file and rename durable: one `syncfs` on Linux, else one fsync per file and folder."""
        if not self.files and not self.folders:
            return
        if _SYNCFS is not None:
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                if _SYNCFS(fd) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, f"syncfs failed: {os.strerror(errno)}", str(self.folder))
            finally:
                os.close(fd)
        else:
            for path in self.files:
                if os.path.isfile(path):  # a later step of the stage may have removed it again
                    _fsync_file(path)
            for folder in self.folders:
                _fsync_dir(folder)
        self.files.clear()
        self.folders.clear()


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("wai_atomic_batch", default=None)


@contextlib.contextmanager
def batched_durability(folder: str | os.PathLike) -> Iterator[None]:
    """Within the block, durable writes in sub-folders of `folder` are flushed together (see the module doc).

    The stage runner wraps each scene's work in this. It applies to the calling thread (and code it calls), not to
    threads it starts. On a clean exit the postponed writes are flushed; after an error they are left to the
    kernel, since the caller records the work as failed and redoes it.
    """
    folder = Path(os.path.abspath(folder))
    batch = _Batch(folder, os.path.join(str(folder), ""))
    token = _BATCH.set(batch)
    try:
        yield
    finally:
        _BATCH.reset(token)
    batch.flush()


@contextlib.contextmanager
def _replacing(target: Path, *, fsync_file: bool, fsync_dir: bool) -> Iterator[Path]:
    """Yield a fresh temporary name beside `target` (keeping its suffix); on a clean exit rename it onto `target`.

    Whatever the exit, no temporary survives (`lexists`: a symlink temporary may dangle, and renaming a hard link
    onto another name of the same file leaves the temporary in place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{TMP_MARKER}{uuid.uuid4().hex[:12]}-{target.name}")
    batch = _BATCH.get() if (fsync_file or fsync_dir) else None
    postponed = batch if batch is not None and batch.covers(target) else None
    try:
        yield tmp
        if postponed is not None:
            os.replace(tmp, target)
            postponed.postpone(target, data=fsync_file)
            return
        if batch is not None:
            batch.flush()  # what was written before this durable file reaches the disk first
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
