"""Command-line options shared by every stage command (`wai convert NAME`, covisibility, ...).

@stage_options
@click.command()
def covisibility(root, **options):
    report = run_stage(stage, root, **stage_run_kwargs(options))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from wai.errors import WaiStageError
from wai.stages import EXECUTORS, SlurmOptions, StageReport, parse_shard

F = TypeVar("F", bound=Callable[..., Any])

_TIME = re.compile(r"^(?:(?P<days>\d+)-)?(?P<rest>\d+(?::\d+){0,2})$")
SLURM_KEYS = (
    "slurm_partition",
    "slurm_time",
    "slurm_cpus",
    "slurm_mem_gb",
    "slurm_gpus",
    "slurm_scenes_per_job",
    "slurm_max_parallel",
    "slurm_account",
    "slurm_log_dir",
)


def parse_time_minutes(text: str | int) -> int:
    """A SLURM time limit in whole minutes (seconds round up).

    Accepts SLURM's forms: ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``, ``D-H:M:S``.
    """
    if isinstance(text, int):
        minutes = text
    else:
        match = _TIME.match(text.strip())
        if match is None:
            raise WaiStageError(
                f"bad time limit {text!r}: expected minutes, 'M:S', 'H:M:S', 'D-H', 'D-H:M' or 'D-H:M:S'"
            )
        parts = [int(p) for p in match.group("rest").split(":")]
        if match.group("days") is not None:
            days = int(match.group("days"))
            hours, mins, secs = (parts + [0, 0])[:3]
        else:
            days = 0
            hours, mins, secs = [[0, *parts, 0], [0, *parts], parts][len(parts) - 1]
        minutes = ((days * 24 + hours) * 60 + mins) + (1 if secs else 0)
    if minutes < 1:
        raise WaiStageError(f"bad time limit {text!r}: must be at least one minute")
    return minutes


def _shard_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        return parse_shard(value)
    except WaiStageError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def _time_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_time_minutes(value)
    except WaiStageError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


#: `--shard i/N`, for every per-scene command (stages and `wai validate` alike).
shard_option = click.option(
    "--shard",
    type=str,
    default=None,
    callback=_shard_callback,
    metavar="i/N",
    help="Process only shard i of N (0-based) of the sorted scene list, e.g. 0/4.",
)

_OPTIONS = [
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Worker processes for a local run (1: run in this process).",
    ),
    shard_option,
    click.option(
        "--overwrite/--no-overwrite",
        default=False,
        show_default=True,
        help="Redo scenes that already finished this stage (and repair unreadable process logs).",
    ),
    click.option(
        "--executor",
        type=click.Choice(list(EXECUTORS)),
        default="local",
        show_default=True,
        help="Where to run: here, as a SLURM job array, or as local submitit jobs.",
    ),
    click.option("--slurm-partition", type=str, default=None, help="SLURM partition."),
    click.option(
        "--slurm-time",
        type=str,
        default=None,
        callback=_time_callback,
        help="Time limit per job, as SLURM writes it: M, M:S, H:M:S, D-H, D-H:M or D-H:M:S (default: 240 min).",
    ),
    click.option("--slurm-cpus", type=click.IntRange(min=1), default=None, help="CPUs per job."),
    click.option(
        "--slurm-mem-gb",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Memory per job in GB.",
    ),
    click.option("--slurm-gpus", type=click.IntRange(min=0), default=None, help="GPUs per job."),
    click.option(
        "--slurm-scenes-per-job",
        type=click.IntRange(min=1),
        default=None,
        help="Scenes handled by each job of the array.",
    ),
    click.option(
        "--slurm-max-parallel",
        type=click.IntRange(min=1),
        default=None,
        help="Jobs of the array running at the same time.",
    ),
    click.option("--slurm-account", type=str, default=None, help="SLURM account."),
    click.option(
        "--slurm-log-dir",
        type=click.Path(path_type=Path),
        default=None,
        help="Folder for submitit logs (default: <root>/_submitit/<stage>).",
    ),
]


def stage_options(command: F) -> F:
    """Add the shared stage options to a click command, or to its function before `@click.command`.

    Either way they appear in `--help` in the order listed here, after the command's own options.
    """
    # A decorator on a function collects options in reverse; on a built Command they are appended in order.
    options = _OPTIONS if isinstance(command, click.Command) else list(reversed(_OPTIONS))
    for option in options:
        command = option(command)
    return command


#: Exit status of a stage command when no scene failed but some were left, locked by another job.
EXIT_WORK_LEFT = 3


def exit_with_report(report: StageReport) -> None:
    """Print the run's summary and end the command: status 0 when every scene is done or needs nothing, 1 when a
    scene failed, `EXIT_WORK_LEFT` (3) when none failed but some were locked by another job and are still to do."""
    click.echo(report.summary())
    if report.failed:
        raise SystemExit(1)
    if report.left:
        raise SystemExit(EXIT_WORK_LEFT)


def stage_run_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Turn parsed option values into `run_stage` keyword arguments; other keys of `values` are ignored."""
    kwargs: dict[str, Any] = {
        "workers": values.get("workers", 1),
        "shard": values.get("shard"),
        "overwrite": bool(values.get("overwrite", False)),
        "executor": values.get("executor", "local"),
    }
    if kwargs["executor"] != "local":
        fields = {
            "partition": values.get("slurm_partition"),
            "time_min": values.get("slurm_time"),
            "cpus": values.get("slurm_cpus"),
            "mem_gb": values.get("slurm_mem_gb"),
            "gpus": values.get("slurm_gpus"),
            "scenes_per_job": values.get("slurm_scenes_per_job"),
            "max_parallel": values.get("slurm_max_parallel"),
            "account": values.get("slurm_account"),
            "log_folder": values.get("slurm_log_dir"),
        }
        kwargs["slurm"] = SlurmOptions(**{k: v for k, v in fields.items() if v is not None})
    else:
        used = [k for k in SLURM_KEYS if values.get(k) is not None]
        if used:
            flags = ", ".join("--" + k.replace("_", "-") for k in used)
            raise WaiStageError(f"{flags}: only used with --executor slurm or submitit-local")
    return kwargs
