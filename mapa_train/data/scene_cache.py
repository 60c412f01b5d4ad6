"""Per-process caches of opened scenes and their memory-mapped covisibility matrices.

The reference parses `scene_meta.json` and lists the covisibility folder for every sample. Here a scene is opened
once per process (each DataLoader worker holds its own cache, copied at fork) and kept in a small LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

import wai

#: Opens a scene from its path or URL; anything with the `wai.Scene` reading interface will do.
SceneOpener = Callable[[str], Any]


def open_folder_scene(path: str) -> wai.Scene:
    return wai.open_scene(path)


class SceneCache:
    """An LRU of opened scenes (parsed metadata, cameras, poses) and covisibility memmaps, keyed by path."""

    def __init__(self, opener: SceneOpener | None = None, max_scenes: int = 256) -> None:
        self.opener = opener or open_folder_scene
        self.max_scenes = max_scenes
        self._scenes: OrderedDict[str, Any] = OrderedDict()
        self._covis: dict[tuple[str, str], np.ndarray] = {}
        self.opened = 0

    def __getstate__(self) -> dict[str, Any]:
        # Pickled to spawned workers empty: memmaps and parsed scenes are rebuilt there.
        state = self.__dict__.copy()
        state["_scenes"], state["_covis"] = OrderedDict(), {}
        return state

    def scene(self, path: str) -> Any:
        scene = self._scenes.get(path)
        if scene is None:
            scene = self.opener(path)
            self.opened += 1
            self._scenes[path] = scene
            if len(self._scenes) > self.max_scenes:
                old, _ = self._scenes.popitem(last=False)
                for key in [k for k in self._covis if k[0] == old]:
                    del self._covis[key]
        else:
            self._scenes.move_to_end(path)
        return scene

    def covisibility(self, path: str, version: str = "v0") -> np.ndarray:
        key = (path, version)
        matrix = self._covis.get(key)
        if matrix is None:
            matrix = self.scene(path).covisibility(version)
            self._covis[key] = matrix
        return matrix
