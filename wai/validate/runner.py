"""Running the rules: over one scene, or over every scene of a dataset root in a process pool."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

from wai.errors import WaiFileNotFoundError
from wai.scene import is_scene_folder, list_scenes
from wai.scene.dataset import SCENE_MARKERS
from wai.scene.meta import SCENE_META, SCENE_META_DISTORTED
from wai.stages.selection import check_shard
from wai.validate.context import SceneContext
from wai.validate.problem import Problem, ValidationReport
from wai.validate.rules import rules_for

#: Called after each scene with its name and its problem count (for progress bars).
ProgressCallback = Callable[[str, int], None]


def validate_scene(path: str | os.PathLike, deep: bool = False) -> list[Problem]:
    """Check one scene folder; returns its problems (empty when it is valid), ordered by rule.

    Rules report faults of the data as problems. An exception escaping a rule is a bug in that rule, not a fault
    of the scene: it propagates, with a note naming the scene and the rule.
    """
    path = Path(path)
    if not path.is_dir():
        raise WaiFileNotFoundError(f"scene folder '{path}' does not exist")
    ctx = SceneContext.load(path)
    problems: list[Problem] = []
    for rule in rules_for(deep):
        try:
            for problem in rule.check(ctx):
                problems.append(replace(problem, rule=rule.name))
        except Exception as exc:
            exc.add_note(f"while running validation rule '{rule.name}' on scene '{ctx.name}' ({path})")
            raise
    return problems


def is_empty_root(path: str | os.PathLike) -> bool:
    """Whether the folder `path` holds no scene marker and nothing but hidden or internal entries (names starting
    with ``.`` or ``_``): a dataset root with no scenes yet, not an empty unfinished scene."""
    path = Path(path)
    if any((path / marker).exists() for marker in SCENE_MARKERS):
        return False
    return not any(not p.name.startswith((".", "_")) for p in path.iterdir())


def find_scenes(path: str | os.PathLike) -> list[Path]:
    """The scene folders to check: `path` itself if it is a scene, else every scene folder of the root it is.

    Raises `WaiFileNotFoundError` when `path` is missing or is an empty folder (no scenes to check)."""
    path = Path(path)
    if path.is_file() and path.name in (SCENE_META, SCENE_META_DISTORTED):
        path = path.parent
    if not path.is_dir():
        raise WaiFileNotFoundError(
            f"'{path}' does not exist or is not a folder (expected a scene or a dataset root)"
        )
    if is_empty_root(path):
        raise WaiFileNotFoundError(f"no scenes under '{path}'")
    if is_scene_folder(path):
        return [path]
    return [path / name for name in list_scenes(path)]


def _check_one(path: Path, deep: bool) -> list[Problem]:
    return validate_scene(path, deep=deep)


def validate(
    path: str | os.PathLike,
    deep: bool = False,
    workers: int = 1,
    progress: ProgressCallback | None = None,
    shard: tuple[int, int] | None = None,
) -> ValidationReport:
    """Check a scene folder or every scene of a dataset root; scenes run in a process pool of `workers`.

    `shard` ``(i, N)`` checks only every N-th scene of the sorted list from i, the same split `wai.stages` uses.
    """
    scenes = find_scenes(path)
    if shard is not None:
        index, count = check_shard(shard)
        scenes = scenes[index::count]
    results: dict[Path, list[Problem]] = {}
    if workers > 1 and len(scenes) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(scenes))) as pool:
            futures = {pool.submit(_check_one, scene, deep): scene for scene in scenes}
            for future in as_completed(futures):
                scene = futures[future]
                results[scene] = future.result()
                if progress is not None:
                    progress(scene.name, len(results[scene]))
    else:
        for scene in scenes:
            results[scene] = _check_one(scene, deep)
            if progress is not None:
                progress(scene.name, len(results[scene]))
    problems = [problem for scene in scenes for problem in results[scene]]
    return ValidationReport(root=str(path), deep=deep, scenes=[s.name for s in scenes], problems=problems)
