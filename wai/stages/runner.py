"""`run_stage`: apply a stage to every selected scene of a dataset root, inline, in a process pool, or on SLURM.

Spawn-safe: with ``workers > 1`` the pool starts fresh interpreters (the ``spawn`` method, also on Linux, so no
thread or lock state is inherited), which import the stage's functions by module. A script that calls
`run_stage` with workers must therefore do so under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from typing import Literal

from wai.errors import WaiStageError
from wai.stages.local import iter_local
from wai.stages.process_log import code_commit, default_script_path
from wai.stages.progress import Progress
from wai.stages.report import SceneOutcome, StageReport
from wai.stages.root import check_root, prepare_output_root
from wai.stages.scene_task import SceneSettings, pre_check
from wai.stages.selection import select_scenes
from wai.stages.slurm import SlurmOptions, iter_submitit
from wai.stages.stage import Stage

Executor = Literal["local", "slurm", "submitit-local"]
EXECUTORS: tuple[str, ...] = ("local", "slurm", "submitit-local")


def _check_arguments(stage: Stage, workers: int, executor: str) -> None:
    if not isinstance(stage, Stage):
        raise WaiStageError(f"run_stage expects a wai.stages.Stage, got {type(stage).__name__}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise WaiStageError(f"workers must be a positive integer, got {workers!r}")
    if executor not in EXECUTORS:
        raise WaiStageError(f"unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    if workers > 1 or executor != "local":
        try:
            pickle.dumps(stage)
        except Exception as exc:
            raise WaiStageError(
                f"stage '{stage.name}' cannot be sent to other processes ({exc}); use module-level functions, "
                "picklable objects or functools.partial for process and reset"
            ) from exc


def run_stage(
    stage: Stage,
    root: str | os.PathLike,
    *,
    scenes: Sequence[str] | None = None,
    overwrite: bool = False,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    executor: Executor = "local",
    slurm: SlurmOptions | None = None,
    progress: bool | None = None,
    lock_timeout: float = 1.0,
) -> StageReport:
    """Apply `stage` to the scenes of `root` and return what happened to each.

    scenes:       names to process (folders are created as needed, e.g. by a converter); default: every scene
                  folder of `root` (`list_scenes`).
    overwrite:    redo scenes whose log says finished (and repair unreadable logs).
    workers:      processes for a local run; 1 runs inline.
    shard:        ``(i, N)``: only every N-th scene of the sorted list, starting at i (0-based).
    executor:     ``local``, ``slurm`` (a submitit job array), or ``submitit-local`` (the same, as local processes).
    slurm:        job resources for the submitit executors.
    progress:     None: a bar on a terminal, plain lines otherwise; True: bar; False: silent.
    lock_timeout: seconds to wait for a scene locked by another job before reporting it skipped ("locked").

    One failing scene never stops the run; see `StageReport.failed`.
    """
    _check_arguments(stage, workers, executor)
    root = check_root(root) if scenes is None else prepare_output_root(root)
    names = select_scenes(root, scenes, shard)
    settings = SceneSettings(
        overwrite=bool(overwrite),
        lock_timeout=lock_timeout,
        script_path=default_script_path(),
        commit=code_commit(),
    )
    outcomes: dict[str, SceneOutcome] = {}
    display = Progress(stage.name, len(names), progress)
    try:
        pending = []
        for name in names:
            early = pre_check(stage, root / name, settings.overwrite)
            if early is None:
                pending.append(name)
            else:
                outcomes[name] = early
                display.update(early)
        if executor == "local":
            stream = iter_local(stage, root, pending, settings, workers)
        else:
            options = slurm if slurm is not None else SlurmOptions()
            cluster: Literal["slurm", "local"] = "slurm" if executor == "slurm" else "local"
            stream = iter_submitit(stage, root, pending, settings, options, cluster)
        for outcome in stream:
            outcomes[outcome.scene] = outcome
            display.update(outcome)
    finally:
        display.close()
    return StageReport(stage=stage.name, root=root, outcomes=tuple(outcomes[name] for name in names))
