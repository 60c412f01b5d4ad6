"""Keeping freed heap pages in the data-loading process instead of handing them back to the kernel after each sample.

A 4-view sample at 518x392 allocates and frees tens of MB of arrays (decoded image and depth, crops, points,
rays, the normalised image, the collated batch). With glibc's default, dynamically tuned thresholds the heap is trimmed once more than
about twice the largest recently freed block is free at its top, which a sample's frees reach every time: the next
sample then faults every page in again (the kernel zeroes each one). Measured on the bench_data_loading scenes
that page traffic cost about 30% of the loader's time. `retain_freed_memory` serves blocks up to 64 MB from the
heap and trims only past 256 MB free, so a loading process keeps a sample's worth of pages mapped and reuses them.
The process's resident size then stays near its peak instead of dropping between samples. glibc only; elsewhere it
does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import platform

#: mallopt parameters of glibc's malloc.h.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 64 << 20
TRIM_THRESHOLD = 256 << 20


@functools.cache
def retain_freed_memory() -> bool:
    """Set this process's malloc to keep freed pages (see the module docstring); True if it took effect.

    Once per process; the settings last for the process's life.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
