"""An exclusive per-scene lock, so that two jobs never work on the same scene at the same time.

The lock is an advisory `fcntl.flock` on `<scene>/_scene.lock` (the file name the reference uses). The kernel drops
it when the holder exits, even on SIGKILL, so a killed job never leaves a scene locked. The file itself is kept:
deleting a lock file while another process waits on it would let two holders in.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from wai.errors import WaiStageError, where

SCENE_LOCK = "_scene.lock"


class SceneLockedError(WaiStageError):
    """Another live process holds the scene's lock."""


class SceneLock:
    """Context manager holding `<scene_dir>/_scene.lock`.

    Tries without blocking, then retries every `poll` seconds until `timeout` seconds have passed; raises
    `SceneLockedError` if the lock is still held by someone else. ``timeout=0`` tries exactly once.
    """

    def __init__(self, scene_dir: str | os.PathLike, timeout: float = 0.0, poll: float = 0.05) -> None:
        if timeout < 0:
            raise WaiStageError(f"lock timeout must be >= 0 seconds, got {timeout}")
        self.path = Path(scene_dir) / SCENE_LOCK
        self.timeout = timeout
        self.poll = poll
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `SceneLockedError`."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise SceneLockedError(
                        f"{where(scene=self.path.parent.name, file=str(self.path))} is locked by another process "
                        f"(waited {self.timeout:g} s)"
                    ) from None
                time.sleep(self.poll)
                continue
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            return

    def release(self) -> None:
        """Drop the lock (no-op when not held)."""
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """Whether this object currently holds the lock."""
        return self._fd is not None

    def __enter__(self) -> SceneLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
