"""`wai.allocator`: on glibc the limits take effect, and a process then reuses freed pages instead of returning them."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from wai.allocator import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_keep_freed_memory_takes_effect_and_keeps_pages() -> None:
    # In a fresh process: after the call, a freed 40 MB block stays in the heap (the resident size does not drop).
    code = (
        "import numpy as np\n"
        "from wai.allocator import keep_freed_memory\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1])\n"
        "assert keep_freed_memory(64, 256) is True and keep_freed_memory(64, 256) is True\n"
        "a = np.ones(10 << 20, np.float32)\n"
        "peak = rss()\n"
        "del a\n"
        "kept = rss()\n"
        "assert kept > peak - (5 << 20) // 4096, (peak, kept)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_keep_freed_memory_answers_a_bool() -> None:
    assert isinstance(keep_freed_memory(), bool)
