"""`run_pack`: pack the scenes of a dataset root (or one scene folder) into a store root, through `wai.stages`.

The store root is the dataset root of the stage: each ``<scene>.zarr`` folder holds the zarr group plus the
stage's process log and lock, so reruns skip finished stores, ``--overwrite`` repacks them, ``--workers``, ``--shard``
and ``--executor slurm`` work as for every stage, and a killed run leaves a store that readers refuse (its
completion marker is written last) and that the next run redoes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wai.errors import WaiError, WaiStageError
from wai.pack.layout import INFO_KEY, ROOT_METADATA, STORE_SUFFIX, require_zarr
from wai.pack.writer import meta_digest, pack_scene
from wai.scene.dataset import is_scene, list_scenes
from wai.scene.meta import SCENE_META
from wai.stages import (
    PROCESS_LOG,
    PROCESS_LOG_BACKUP,
    PROCESS_LOG_CORRUPT,
    SCENE_LOCK,
    Stage,
    StageReport,
    run_stage,
)
from wai.stages.root import prepare_output_root
from wai.stages.state import SceneResult

STAGE_NAME = "pack"
_KEEP = frozenset({PROCESS_LOG, PROCESS_LOG_BACKUP, PROCESS_LOG_CORRUPT, SCENE_LOCK})


@dataclasses.dataclass(frozen=True)
class PackTask:
    """The stage's work for one store folder (picklable, for worker processes and SLURM)."""

    sources: dict[str, str]
    resolution: tuple[int, int] | None = None

    def __call__(self, store_dir: Path) -> SceneResult:
        name = store_dir.name.removesuffix(STORE_SUFFIX)
        info = pack_scene(self.sources[name], store_dir, self.resolution)
        size = "" if info.resolution is None else f" at {info.resolution[0]}x{info.resolution[1]} (covering)"
        return SceneResult(message=f"{len(info.frames)} frame modalities{size}")


def reset_store(store_dir: Path) -> None:
    """Remove what an earlier attempt wrote into a store folder, keeping the process log and the lock."""
    for entry in store_dir.iterdir():
        if entry.name in _KEEP:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def source_scenes(source: str | os.PathLike) -> dict[str, str]:
    """{scene name: folder} for a scene folder or for every scene folder of a dataset root."""
    source = Path(source)
    if not source.is_dir():
        raise WaiError(f"'{source}': no such scene folder or dataset root")
    if is_scene(source):
        return {source.name: str(source)}
    names = list_scenes(source)
    if not names:
        raise WaiError(f"'{source}': neither a scene ({SCENE_META}) nor a dataset root with scene folders")
    return {name: str(source / name) for name in names}


def store_info(store_dir: Path) -> dict[str, Any] | None:
    """The ``wai_pack`` attributes of a complete store folder, else None (read without zarr)."""
    try:
        root = json.loads((store_dir / ROOT_METADATA).read_text(encoding="utf-8"))
        info = root["attributes"][INFO_KEY]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if isinstance(info, dict) and info.get("complete") else None


def _outdated(out: Path, sources: dict[str, str], resolution: tuple[int, int] | None) -> list[str]:
    """Finished stores that a plain rerun would skip although they no longer match (source or resolution)."""
    problems = []
    for name, folder in sources.items():
        info = store_info(out / f"{name}{STORE_SUFFIX}")
        if info is None:
            continue
        packed = tuple(info["resolution"]) if info.get("resolution") else None
        if packed != resolution:
            problems.append(
                f"{name} (packed at {packed or 'full size'}, asked for {resolution or 'full size'})"
            )
        elif is_scene(folder) and info.get("source_meta_sha256") != meta_digest(Path(folder), SCENE_META):
            problems.append(f"{name} (its {SCENE_META} changed since it was packed)")
    return problems


def run_pack(
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    resolution: tuple[int, int] | None = None,
    scenes: Sequence[str] | None = None,
    overwrite: bool = False,
    **run_kwargs: Any,
) -> StageReport:
    """Pack `source` (a scene folder or a dataset root) into ``<out>/<scene>.zarr`` stores.

    `scenes` restricts a root to those names; `run_kwargs` go to `wai.stages.run_stage` (workers, shard, executor).
    Refused before any scene starts: a missing source, `out` inside `source`, and finished stores that no longer
    match their source or the requested resolution (unless `overwrite`).
    """
    require_zarr()
    sources = source_scenes(source)
    if scenes is not None:
        unknown = sorted(set(scenes) - set(sources))
        if unknown:
            raise WaiError(f"--scenes: unknown scene(s) {', '.join(unknown)} in '{source}'")
        sources = {name: sources[name] for name in scenes}
    out_path = Path(out).resolve()
    for folder in {str(Path(p).resolve().parent) for p in sources.values()} | {
        str(Path(p).resolve()) for p in sources.values()
    }:
        if out_path == Path(folder) or Path(folder) in out_path.parents:
            raise WaiStageError(f"--out '{out}' is inside the source '{folder}'; pick a folder outside it")
    out = prepare_output_root(out)
    if not overwrite:
        outdated = _outdated(out, sources, resolution)
        if outdated:
            raise WaiStageError(
                "finished stores no longer match: "
                + "; ".join(outdated)
                + "; pass --overwrite to repack them"
            )
    stage = Stage(STAGE_NAME, process=PackTask(dict(sources), resolution), reset=reset_store)
    names = [f"{name}{STORE_SUFFIX}" for name in sources]
    return run_stage(stage, out, scenes=names, overwrite=overwrite, **run_kwargs)
