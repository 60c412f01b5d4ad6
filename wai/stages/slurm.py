"""Running a stage on a SLURM cluster (or locally, for tests) through submitit.

The pending scenes are cut into chunks of `scenes_per_job`, and the chunks are submitted as one job array. Each
job runs the same per-scene protocol as a local run, so the scene lock and the process log keep concurrent jobs
and reruns safe. submitit is an optional dependency (``pip install 'wai-toolkit[slurm]'``).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from wai.errors import WaiStageError
from wai.stages.local import iter_local
from wai.stages.report import SceneOutcome, first_line
from wai.stages.scene_task import SceneSettings
from wai.stages.stage import Stage
from wai.stages.state import StageState


@dataclasses.dataclass(frozen=True)
class SlurmOptions:
    """Resources of each job of the array, and how the scenes are split into jobs.

    partition:      SLURM partition (None: the cluster default).
    time_min:       wall-clock limit of one job, in minutes.
    cpus:           CPUs per job; also the number of worker processes a job uses for its scenes.
    mem_gb:         memory per job.
    gpus:           GPUs per job.
    scenes_per_job: scenes handled by one job of the array.
    max_parallel:   how many jobs of the array run at once.
    account:        SLURM account to charge (None: the user's default).
    log_folder:     where submitit keeps job pickles and logs (None: ``<root>/_submitit/<stage>``).
    extra:          further sbatch options, e.g. ``{"qos": "high", "constraint": "volta32gb"}``.
    poll_s:         how often the job states are polled while waiting.
    """

    partition: str | None = None
    time_min: int = 240
    cpus: int = 4
    mem_gb: float = 16.0
    gpus: int = 0
    scenes_per_job: int = 20
    max_parallel: int = 64
    account: str | None = None
    log_folder: Path | None = None
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    poll_s: float = 15.0

    def __post_init__(self) -> None:
        for name in ("time_min", "cpus", "scenes_per_job", "max_parallel"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise WaiStageError(f"SlurmOptions.{name} must be a positive integer, got {value!r}")
        if not isinstance(self.gpus, int) or self.gpus < 0:
            raise WaiStageError(f"SlurmOptions.gpus must be an integer >= 0, got {self.gpus!r}")
        if self.mem_gb <= 0 or self.poll_s <= 0:
            raise WaiStageError("SlurmOptions.mem_gb and SlurmOptions.poll_s must be positive")

    def executor_parameters(self, stage: str) -> dict[str, Any]:
        """Keyword arguments for submitit's ``AutoExecutor.update_parameters``."""
        params: dict[str, Any] = {
            "name": f"wai-{stage}",
            "timeout_min": self.time_min,
            "cpus_per_task": self.cpus,
            "mem_gb": self.mem_gb,
            "gpus_per_node": self.gpus,
            "slurm_array_parallelism": self.max_parallel,
        }
        if self.partition:
            params["slurm_partition"] = self.partition
        if self.account:
            params["slurm_account"] = self.account
        if self.extra:
            params["slurm_additional_parameters"] = dict(self.extra)
        return params


def import_submitit() -> ModuleType:
    """Import submitit, or explain how to install it."""
    try:
        import submitit
    except ImportError as exc:
        raise WaiStageError(
            "the 'slurm' and 'submitit-local' executors need the optional package submitit: "
            "pip install 'wai-toolkit[slurm]'"
        ) from exc
    return submitit


def chunk_scenes(scenes: Sequence[str], size: int) -> list[list[str]]:
    """Consecutive chunks of at most `size` scenes."""
    return [list(scenes[i : i + size]) for i in range(0, len(scenes), size)]


def run_chunk(
    stage: Stage, root: Path, scenes: list[str], settings: SceneSettings, workers: int
) -> list[SceneOutcome]:
    """The body of one job: the same local run, on this job's scenes."""
    return list(iter_local(stage, root, scenes, settings, workers))


def iter_submitit(
    stage: Stage,
    root: Path,
    scenes: Sequence[str],
    settings: SceneSettings,
    options: SlurmOptions,
    cluster: Literal["slurm", "local"],
) -> Iterator[SceneOutcome]:
    """Submit the scenes as one job array and yield each scene's outcome as its job completes."""
    if not scenes:
        return
    submitit = import_submitit()
    if cluster == "slurm" and shutil.which("sbatch") is None:
        raise WaiStageError("executor 'slurm': no 'sbatch' command found; run this on a SLURM login node")
    folder = Path(options.log_folder) if options.log_folder else Path(root) / "_submitit" / stage.name
    try:
        executor = submitit.AutoExecutor(folder=folder / "%j", cluster=cluster)
        executor.update_parameters(**options.executor_parameters(stage.name))
    except (RuntimeError, NameError, AssertionError) as exc:
        raise WaiStageError(f"executor '{cluster}': could not configure submitit: {exc}") from exc
    chunks = chunk_scenes(scenes, options.scenes_per_job)
    count = len(chunks)
    try:
        jobs = executor.map_array(
            run_chunk,
            [stage] * count,
            [Path(root)] * count,
            chunks,
            [settings] * count,
            [options.cpus] * count,
        )
    except Exception as exc:
        raise WaiStageError(f"executor '{cluster}': submitting {count} jobs failed: {exc}") from exc
    chunk_of = {id(job): chunk for job, chunk in zip(jobs, chunks, strict=True)}
    for job in submitit.helpers.as_completed(jobs, poll_frequency=options.poll_s):
        try:
            outcomes = job.result()
        except Exception as exc:
            reason = (
                f"job {job.job_id} failed: {first_line(str(exc)) or type(exc).__name__} (logs in {folder})"
            )
            outcomes = [SceneOutcome(scene, StageState.FAILED.value, reason) for scene in chunk_of[id(job)]]
        yield from outcomes
