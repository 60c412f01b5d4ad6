"""A least-recently-used store of built benchmark views, bounded in bytes.

A scene's sets share frames (at 24 views from a few dozen frames most frames are in every set), and decoding,
cropping and deriving a view's points and rays costs about as much as scoring it. The cached arrays are made
read-only, so a consumer that tried to change a view shared by several sets would fail loudly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np


def view_nbytes(view: dict[str, Any]) -> int:
    """Bytes held by the arrays of one view."""
    return sum(v.nbytes for v in view.values() if isinstance(v, np.ndarray))


class ViewCache:
    """Views by key, the least recently used dropped first once `max_bytes` is exceeded (0 keeps nothing)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(int(max_bytes), 0)
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._views: OrderedDict[Hashable, tuple[dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._views)

    def get(self, key: Hashable) -> dict[str, Any] | None:
        with self._lock:
            entry = self._views.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._views.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, view: dict[str, Any]) -> dict[str, Any]:
        """Store `view` (its arrays made read-only) and return it."""
        for value in view.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        size = view_nbytes(view)
        if size > self.max_bytes:
            return view
        with self._lock:
            old = self._views.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            self._views[key] = (view, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, (_, dropped) = self._views.popitem(last=False)
                self.nbytes -= dropped
        return view
