"""Submitting a training stage to SLURM through submitit, with the rendezvous set up by the job itself.

One task per GPU: SLURM starts `nodes x gpus_per_node` tasks; each reads its global rank, local rank and the node
list from `submitit.JobEnvironment`, exports the torch.distributed variables (RANK, LOCAL_RANK, WORLD_SIZE,
MASTER_ADDR = the first node, MASTER_PORT) and runs `train`, which Accelerate then joins into one process group.
A preempted or timed-out job is requeued (submitit's checkpoint hook) and resumes from the stage's last
checkpoint, like any rerun. `cluster="local"` runs the same tasks as local processes (for tests and one machine).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from mapa_train.errors import MapaConfigError, MapaMissingDependencyError


@dataclasses.dataclass(frozen=True)
class SubmitOptions:
    """Resources of the job.

    nodes:          machines.
    gpus_per_node:  GPUs (= tasks = processes) per machine; 0 runs CPU processes (`cpu_tasks_per_node`).
    cpus_per_task:  CPU cores per process (data-loader workers run on these).
    mem_gb:         memory per node.
    time_min:       wall-clock limit; the job is requeued when it is reached and resumes.
    partition, account: SLURM partition and account (None: the cluster's default).
    port:           MASTER_PORT of the rendezvous on the first node.
    extra:          further sbatch options, e.g. {"qos": "high"}.
    """

    nodes: int = 1
    gpus_per_node: int = 8
    cpus_per_task: int = 12
    mem_gb: float = 400.0
    time_min: int = 4320
    partition: str | None = None
    account: str | None = None
    port: int = 29500
    cpu_tasks_per_node: int = 1
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def tasks_per_node(self) -> int:
        return self.gpus_per_node or self.cpu_tasks_per_node

    def executor_parameters(self, stage: str, cluster: str) -> dict[str, Any]:
        if self.nodes < 1 or self.tasks_per_node() < 1:
            raise MapaConfigError(f"submit: need at least one node and one task per node, got {self}")
        params: dict[str, Any] = {
            "name": f"mapa-{stage}",
            "nodes": self.nodes,
            "tasks_per_node": self.tasks_per_node(),
            "gpus_per_node": self.gpus_per_node,
            "cpus_per_task": self.cpus_per_task,
            "timeout_min": self.time_min,
        }
        if cluster == "slurm":
            params["mem_gb"] = self.mem_gb
            if self.partition:
                params["slurm_partition"] = self.partition
            if self.account:
                params["slurm_account"] = self.account
            if self.extra:
                params["slurm_additional_parameters"] = dict(self.extra)
        return params


def rendezvous_environment(
    global_rank: int, local_rank: int, num_tasks: int, local_tasks: int, hostnames: list[str], port: int
) -> dict[str, str]:
    """The torch.distributed variables of one task."""
    return {
        "RANK": str(global_rank),
        "LOCAL_RANK": str(local_rank),
        "WORLD_SIZE": str(num_tasks),
        "LOCAL_WORLD_SIZE": str(local_tasks),
        "MASTER_ADDR": hostnames[0] if hostnames else "127.0.0.1",
        "MASTER_PORT": str(port),
    }


class TrainJob:
    """The function every task runs (pickled by submitit)."""

    def __init__(self, stage: str, overrides: list[str], port: int) -> None:
        self.stage, self.overrides, self.port = stage, list(overrides), port

    def __call__(self) -> dict[str, Any]:
        import submitit

        from mapa_train.config.compose import compose
        from mapa_train.train.loop import train

        env = submitit.JobEnvironment()
        local_tasks = max(1, env.num_tasks // max(1, env.num_nodes))
        os.environ.update(
            rendezvous_environment(
                env.global_rank, env.local_rank, env.num_tasks, local_tasks, list(env.hostnames), self.port
            )
        )
        result = train(compose(self.stage, self.overrides))
        return {"rank": env.global_rank, "step": result.state.step, "epoch": result.state.epoch}

    def checkpoint(self) -> Any:
        """On preemption or timeout: requeue the same job; it resumes from the stage's last checkpoint."""
        import submitit

        return submitit.helpers.DelayedSubmission(TrainJob(self.stage, self.overrides, self.port))


def submit(
    stage: str,
    overrides: list[str],
    options: SubmitOptions,
    folder: str | Path,
    cluster: Literal["slurm", "local"] = "slurm",
) -> Any:
    """Submit `stage` and return the submitit job (`job.results()` waits for every task)."""
    try:
        import submitit
    except ImportError as exc:
        raise MapaMissingDependencyError(
            "mapa-train submit needs submitit: pip install 'wai-toolkit[slurm]'"
        ) from exc
    from mapa_train.config.compose import compose

    compose(stage, overrides)  # fail on a bad stage or key here, not in the queue
    if cluster == "slurm" and shutil.which("sbatch") is None:
        raise MapaConfigError("mapa-train submit: no 'sbatch' command found; run this on a SLURM login node")
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    executor.update_parameters(**options.executor_parameters(stage, cluster))
    return executor.submit(TrainJob(stage, overrides, options.port))
