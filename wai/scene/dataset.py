"""A dataset root: one folder per scene, nothing else (spec 1.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from wai.errors import WaiFileNotFoundError
from wai.scene.meta import SCENE_META, SCENE_META_DISTORTED
from wai.scene.scene import Scene, open_scene


def list_scenes(root: str | Path) -> list[str]:
    """Sorted names of the scene folders under `root`: every sub-directory except hidden or internal ones
    (names starting with ``.`` or ``_``, such as a writer's temporaries)."""
    root = Path(root)
    if not root.is_dir():
        raise WaiFileNotFoundError(f"dataset root '{root}' does not exist or is not a folder")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


#: Entries that mark a folder as a scene even before its scene_meta.json exists (an unfinished conversion).
SCENE_MARKERS: tuple[str, ...] = (SCENE_META, SCENE_META_DISTORTED, "_process_log.json", "images")


def is_scene(path: str | Path) -> bool:
    """Whether `path` is a finished scene: a folder with a `scene_meta.json` (what readers can open)."""
    return (Path(path) / SCENE_META).is_file()


def is_scene_folder(path: str | Path) -> bool:
    """Whether the folder `path` is a scene, finished or not, rather than a dataset root.

    A scene has a scene meta, a distorted scene meta, a process log or an `images/` folder; a folder with no
    sub-folders at all is taken as an empty, unfinished scene. (A finished scene is also `is_scene`.)
    """
    path = Path(path)
    if not path.is_dir():
        return False
    if any((path / marker).exists() for marker in SCENE_MARKERS):
        return True
    return not any(p.is_dir() and not p.name.startswith((".", "_")) for p in path.iterdir())


def iter_scenes(root: str | Path) -> Iterator[Scene]:
    """Open every converted scene of a dataset root in name order; folders without a scene meta are skipped
    (they are unfinished conversions, which `wai validate` reports)."""
    root = Path(root)
    for name in list_scenes(root):
        if is_scene(root / name):
            yield open_scene(root / name)
