"""Keep freed memory for reuse in processes that run scenes, instead of returning it to the system after each frame.

A converter allocates and frees a few megabytes of arrays per frame. With glibc's default settings a fresh process
hands such memory back to the kernel (trimming the heap top, or unmapping chunks served by ``mmap``) and faults it
in again, zeroed, for the next frame: about 1,200 page faults per 768x576 BlendedMVS frame, 15 % of its CPU time.
Serving allocations up to 32 MiB from the heap and trimming only past 64 MiB free removes nearly all of them, at the
cost of up to 64 MiB kept per process. glibc raises its own limits like this only after seeing large frees, which
a long-lived process has done and a fresh worker has not, so without this a pool worker pays more per frame than
the process that spawned it.
"""

from __future__ import annotations

import ctypes
import functools
import platform

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Set the two glibc allocator limits for this process (once); False where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
