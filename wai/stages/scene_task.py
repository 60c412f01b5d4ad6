"""The per-scene protocol every stage follows: lock, check, mark running, clean, work, record.

`run_scene` is a module-level function of picklable arguments, so the same code runs inline, in a process pool
worker and inside a submitit job. It never raises for a problem with one scene: every outcome, including a corrupt
process log or a scene locked by another job, comes back as a `SceneOutcome`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import traceback
from pathlib import Path
from typing import Any

from wai.atomic import batched_durability, remove_stale_temporaries
from wai.errors import WaiStageError
from wai.stages.process_log import ProcessLog
from wai.stages.report import REASON_FINISHED, REASON_LOCKED, SceneOutcome, first_line
from wai.stages.scene_lock import SceneLock, SceneLockedError
from wai.stages.stage import Stage
from wai.stages.state import SceneResult, StageState

FINISHED = StageState.FINISHED.value
logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SceneSettings:
    """Run-wide settings handed to each scene task."""

    overwrite: bool = False
    lock_timeout: float = 1.0
    script_path: str = ""
    commit: str = ""


def _state_of(entries: dict[str, dict[str, Any]], stage: str) -> str | None:
    entry = entries.get(stage)
    state = entry.get("state") if entry is not None else None
    return state if isinstance(state, str) and state else None


def _is_stale(stage: Stage, entries: dict[str, dict[str, Any]]) -> bool:
    """A finished stage is stale when a prerequisite finished after it (e.g. the scene was converted again)."""
    own = entries.get(stage.name, {}).get("date")
    if not isinstance(own, str) or not own:
        return False
    for name in stage.requires:
        date = entries.get(name, {}).get("date")
        if isinstance(date, str) and date > own:
            return True
    return False


def skip_reason(stage: Stage, entries: dict[str, dict[str, Any]], overwrite: bool) -> str | None:
    """Why a scene with these log entries is not processed now, or None when it should be.

    Finished scenes are skipped unless `overwrite` or a prerequisite was redone after them; failed, running
    (killed) and custom states are redone. Prerequisites must be finished in every case.
    """
    if not overwrite and _state_of(entries, stage.name) == FINISHED and not _is_stale(stage, entries):
        return REASON_FINISHED
    for name in stage.requires:
        state = _state_of(entries, name)
        if state != FINISHED:
            return f"prerequisite '{name}' is {state or 'missing'}, expected finished"
    return None


def pre_check(stage: Stage, scene_dir: Path, overwrite: bool) -> SceneOutcome | None:
    """A cheap look at the log without the lock, so finished or blocked scenes are never dispatched.

    Returns None when the scene must go to a worker (which checks again under the lock), including when the log
    cannot be read or parsed: the worker reports that as the scene's failure.
    """
    try:
        entries = ProcessLog(scene_dir).read()
    except (WaiStageError, OSError):
        return None
    reason = skip_reason(stage, entries, overwrite)
    if reason is None:
        return None
    return SceneOutcome(scene_dir.name, StageState.SKIPPED.value, reason)


def _error_line(exc: BaseException) -> str:
    message = first_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _do_work(stage: Stage, scene_dir: Path, redo: bool) -> tuple[SceneResult, str]:
    """Clean what an earlier attempt left, run the stage, and turn any exception into a failed result.

    Returns the result to record and the one-line reason for the report. The scene's frame files are flushed to
    disk together (`wai.atomic.batched_durability`), before the stage's scene-level files and before the log says
    finished, instead of one flush per file.
    """
    try:
        with batched_durability(scene_dir):
            # We hold the scene lock, so any temporary file here is from a writer that died.
            remove_stale_temporaries(scene_dir)
            if redo and stage.reset is not None:
                stage.reset(scene_dir)
            value = stage.process(scene_dir)
        if value is None:
            return SceneResult(), ""
        if not isinstance(value, SceneResult):
            raise WaiStageError(
                f"stage '{stage.name}' returned {type(value).__name__}; expected a SceneResult or None"
            )
    except Exception as exc:
        return SceneResult(StageState.FAILED, traceback.format_exc()), _error_line(exc)
    if value.state is StageState.FINISHED:
        return value, ""
    return value, first_line(value.message) or f"set by stage '{stage.name}'"


def run_scene(stage: Stage, root: Path, scene: str, settings: SceneSettings) -> SceneOutcome:
    """Process one scene under its lock and record the result in its process log."""
    started, start, cpu_start = time.time(), time.monotonic(), time.process_time()
    scene_dir = Path(root) / scene

    def outcome(state: str, reason: str = "") -> SceneOutcome:
        cpu = time.process_time() - cpu_start
        return SceneOutcome(scene, state, reason, time.monotonic() - start, cpu, os.getpid(), started)

    log = ProcessLog(scene_dir)
    try:
        if not scene_dir.is_dir():
            # Don't create folders for scenes that could not run anyway.
            reason = skip_reason(stage, {}, settings.overwrite)
            if reason is not None:
                return outcome(StageState.SKIPPED.value, reason)
            scene_dir.mkdir(parents=True, exist_ok=True)
        with SceneLock(scene_dir, timeout=settings.lock_timeout):
            if settings.overwrite:
                repaired = log.repair()
                if repaired is not None:
                    logger.warning("scene '%s': %s", scene, repaired)
            try:
                entries = log.read()
            except WaiStageError as exc:
                return outcome(
                    StageState.FAILED.value,
                    f"{exc}; rerun with --overwrite (run_stage(..., overwrite=True)) to repair it",
                )
            reason = skip_reason(stage, entries, settings.overwrite)
            if reason is not None:
                return outcome(StageState.SKIPPED.value, reason)
            redo = settings.overwrite or stage.name in entries
            log.set(stage.name, StageState.RUNNING, script_path=settings.script_path, commit=settings.commit)
            result, reason = _do_work(stage, scene_dir, redo)
            log.set(
                stage.name,
                result.state,
                result.message,
                script_path=settings.script_path,
                commit=settings.commit,
            )
            return outcome(result.state_name, reason)
    except SceneLockedError:
        return outcome(StageState.SKIPPED.value, REASON_LOCKED)
    except Exception as exc:
        return outcome(StageState.FAILED.value, _error_line(exc))
