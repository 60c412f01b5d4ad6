"""Keeping freed memory in a process for reuse, instead of handing it back to the kernel after each frame or sample.

Converters free a few MB of arrays per frame, and the training loader tens of MB per sample (decoded image and
depth, crops, points, rays, the collated batch). With glibc's default, dynamically tuned limits a fresh process
returns such memory to the kernel (trimming the heap top, or unmapping chunks served by ``mmap``) and faults it in
again, zeroed, for the next frame: about 1,200 page faults per 768x576 BlendedMVS frame (15 % of its CPU time),
and about 30 % of the loader's time on the ``bench_data_loading`` scenes. glibc raises its limits only after it has
seen large frees, which a long-lived process has done and a fresh pool worker has not.

`keep_freed_memory` serves allocations up to ``largest_block_mib`` from the heap and trims the heap only once more
than ``keep_free_mib`` of it is free, so a process keeps a frame's (or a sample's) worth of pages mapped. Its resident
size then stays near its peak instead of dropping between frames. glibc only; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import platform
from collections.abc import Callable

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3

_applied: tuple[int, int] | None = None


def applied_setting() -> tuple[int, int] | None:
    """The (largest_block_mib, keep_free_mib) that this process's allocator was last set to here, or None."""
    return _applied


def keep_freed_memory(largest_block_mib: int = 32, keep_free_mib: int = 64) -> bool:
    """Set this process's two glibc allocator limits (they last for the process's life, or until set again).

    Returns False where the C library is not glibc or refused a setting.
    """
    global _applied
    if _applied == (largest_block_mib, keep_free_mib):
        return True
    mallopt = _mallopt()
    if mallopt is None or not (
        mallopt(M_MMAP_THRESHOLD, largest_block_mib << 20) and mallopt(M_TRIM_THRESHOLD, keep_free_mib << 20)
    ):
        return False
    _applied = (largest_block_mib, keep_free_mib)
    return True


@functools.cache
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's mallopt, or None elsewhere."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt
