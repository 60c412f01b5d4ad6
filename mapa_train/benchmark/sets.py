"""Deterministic view-set selection for the benchmark (spec section 2.3), and the set lists written beside results.

With S scenes (in scene-list order) and K = sets_per_scene · S sets:

- the scene indices are permuted with ``default_rng(777)``, the permutation is tiled and cut to K; set i gets scene
  ``perm[i mod S]`` and repeat ``r = i // S`` (so every scene gets exactly `sets_per_scene` sets);
- set i's views come from ``default_rng(777 + r + scene_idx)`` through the covisibility walk of
  `metadata.view_sampling.sample_views` (the reference's draw order, so its sets are reproduced).

Unlike the reference, a set that cannot be read is never replaced by a random other scene: it stays in the list and
its failure is reported. The seed collision of the reference (scene k, r = 0 and scene k − 1, r = 1 share a seed) is
kept for comparability; `distinct_views` tells how many of a set's views are different frames.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mapa_train.errors import MapaDataError
from metadata.view_sampling import sample_views
from wai.atomic import atomic_write_text

#: The reference's dataset seed.
BENCHMARK_SEED = 777


@dataclasses.dataclass(frozen=True)
class BenchmarkSet:
    """One multi-view sample: which frames of which scene, in view order (view 0 is the reference frame)."""

    dataset: str
    scene: str
    scene_idx: int
    """Position of the scene in the scene list."""
    set_idx: int
    """Index i of the set among the dataset's K sets."""
    repeat: int
    """r = i // S: how many sets of this scene come before it."""
    seed: int
    frames: tuple[int, ...]
    frame_names: tuple[str, ...]

    @property
    def num_views(self) -> int:
        return len(self.frames)

    @property
    def distinct_views(self) -> int:
        return len(set(self.frames))

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.scene}/{self.set_idx}"


def scene_assignment(
    num_scenes: int, sets_per_scene: int, seed: int = BENCHMARK_SEED
) -> list[tuple[int, int]]:
    """(scene_idx, repeat) of every set i in [0, sets_per_scene · num_scenes), as the reference's resized dataset."""
    if num_scenes < 1 or sets_per_scene < 1:
        raise MapaDataError(
            f"need at least one scene and one set per scene, got {num_scenes} and {sets_per_scene}"
        )
    perm = np.random.default_rng(seed).permutation(num_scenes)
    total = sets_per_scene * num_scenes
    tiled = np.tile(perm, -(-total // num_scenes))[:total]
    return [(int(tiled[i]), i // num_scenes) for i in range(total)]


def select_sets(
    dataset: str,
    scenes: Sequence[str],
    num_views: int,
    *,
    covisibility: Callable[[str], np.ndarray],
    frame_names: Callable[[str], Sequence[str]],
    threshold: float,
    sets_per_scene: int = 10,
    seed: int = BENCHMARK_SEED,
) -> list[BenchmarkSet]:
    """Every set of one dataset at `num_views` views. `covisibility(scene)` gives the (F, F) matrix and
    `frame_names(scene)` the F frame names in scene order."""
    out = []
    for i, (scene_idx, repeat) in enumerate(scene_assignment(len(scenes), sets_per_scene, seed)):
        scene = scenes[scene_idx]
        set_seed = seed + repeat + scene_idx
        matrix = covisibility(scene)
        names = list(frame_names(scene))
        frames = sample_views(matrix, num_views, np.random.default_rng(set_seed), threshold=threshold)
        out.append(
            BenchmarkSet(
                dataset=dataset,
                scene=scene,
                scene_idx=scene_idx,
                set_idx=i,
                repeat=repeat,
                seed=set_seed,
                frames=tuple(int(f) for f in frames),
                frame_names=tuple(names[int(f)] for f in frames),
            )
        )
    return out


def write_sets(path: str | Path, sets: Sequence[BenchmarkSet]) -> Path:
    """Write the set list as JSON (one record per set, in set order) atomically."""
    records = [dataclasses.asdict(s) for s in sets]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(records, indent=1) + "\n")
    return path


def read_sets(path: str | Path) -> list[BenchmarkSet]:
    """Read a set list written by `write_sets`."""
    path = Path(path)
    try:
        records = json.loads(path.read_text())
        return [
            BenchmarkSet(**{**r, "frames": tuple(r["frames"]), "frame_names": tuple(r["frame_names"])})
            for r in records
        ]
    except (OSError, json.JSONDecodeError, TypeError, KeyError) as exc:
        raise MapaDataError(f"file '{path}': not a benchmark set list ({exc})") from exc
