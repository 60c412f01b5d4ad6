"""`mapa-train train --stage NAME [--print-config] [key=value ...]` and `mapa-train presets`.

`mapa-train --stage NAME ...` (the design card's form) is the same as `mapa-train train --stage NAME ...`. Under
`accelerate launch` the command runs once per process; Accelerate reads the rank and world size from the launcher.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import click

from mapa_train.errors import MapaError
from wai.errors import WaiError


class StageShortcutGroup(click.Group):
    """A click group that reads `mapa-train --stage X ...` as `mapa-train train --stage X ...`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and (args[0] == "--stage" or args[0].startswith("--stage=")):
            args = ["train", *args]
        return super().parse_args(ctx, args)


def _one_line_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MapaError, WaiError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


@click.command(
    "train",
    context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]},
)
@click.option(
    "--stage", required=True, help="Preset to run (`mapa-train presets` lists them), e.g. 4v or 24v."
)
@click.option("--print-config", is_flag=True, help="Print the resolved config and exit.")
@click.option(
    "--estimate-memory",
    is_flag=True,
    help="Print the start-up estimate of peak memory per GPU (model on the meta device, no data) and exit.",
)
@click.option(
    "--gpus",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for --estimate-memory (default: the preset's reference GPU count).",
)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@_one_line_errors
def train_cmd(
    stage: str, print_config: bool, estimate_memory: bool, gpus: int | None, overrides: tuple[str, ...]
) -> None:
    """Train one stage. OVERRIDES are `group=choice` (loss=vggt_loss, model/task=images_only,
    machine=/path/mine.yaml) and dotted keys in the reference's spelling
    (train_params.max_num_of_imgs_per_gpu=48, model.info_sharing.module_args.gradient_checkpointing=true).
    A stage resumes from its own last checkpoint, and a later stage starts from the earlier one's result."""
    from mapa_train.config.compose import compose, to_yaml

    cfg = compose(stage, list(overrides))
    if print_config:
        click.echo(to_yaml(cfg), nl=False)
        return
    if estimate_memory:
        from mapa_train.train.memory import estimate_for_config

        click.echo(estimate_for_config(cfg, gpus or int(cfg.run.reference_gpus)).line())
        return
    from mapa_train.config.presets import preset_status

    status = preset_status(stage)
    if not status.runnable:
        raise click.ClickException(f"preset {stage!r} cannot run yet: {status.reason}")
    from mapa_train.train.loop import train

    result = train(cfg)
    click.echo(f"done: step {result.state.step}, epoch {result.state.epoch}, output {result.output_dir}")


@click.command("presets")
@click.option("--json", "as_json", is_flag=True, help="Print the presets as JSON for scripts.")
@_one_line_errors
def presets_cmd(as_json: bool) -> None:
    """List every named run preset, what it reproduces, and whether it can run with this install."""
    from mapa_train.config.presets import all_presets, format_presets

    rows = all_presets()
    if as_json:
        data = [
            {
                "name": r.stage.name,
                "reproduces": r.stage.reproduces,
                "description": r.stage.description,
                "runnable": r.runnable,
                "reason": r.reason,
                "init_from": r.stage.init_from,
                "groups": r.stage.groups,
            }
            for r in rows
        ]
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(format_presets(rows))


@click.command("plot-loss")
@click.argument("stage_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="PNG to write (default STAGE_DIR/loss.png)."
)
@_one_line_errors
def plot_loss_cmd(stage_dir: str, out: str | None) -> None:
    """Plot a stage's training and validation loss from its log.jsonl as a PNG."""
    from pathlib import Path

    from mapa_train.train.plot import plot_losses

    click.echo(plot_losses(stage_dir, out or Path(stage_dir) / "loss.png"))


@click.command(
    "submit", context_settings={"ignore_unknown_options": True, "help_option_names": ["-h", "--help"]}
)
@click.option("--stage", required=True, help="Preset to run, as for `mapa-train train`.")
@click.option("--nodes", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--gpus-per-node",
    type=click.IntRange(min=0),
    default=8,
    show_default=True,
    help="GPUs per node: one process each (0: CPU processes, see --cpu-tasks-per-node).",
)
@click.option("--cpu-tasks-per-node", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--cpus-per-task", type=click.IntRange(min=1), default=12, show_default=True)
@click.option("--mem-gb", type=float, default=400.0, show_default=True, help="Memory per node.")
@click.option(
    "--time-min",
    type=click.IntRange(min=1),
    default=4320,
    show_default=True,
    help="Wall-clock limit; a timed-out or preempted job is requeued and resumes.",
)
@click.option("--partition", default=None)
@click.option("--account", default=None)
@click.option("--port", type=click.IntRange(min=1, max=65535), default=29500, show_default=True)
@click.option(
    "--folder",
    type=click.Path(file_okay=False),
    default="submitit_logs",
    show_default=True,
    help="Where submitit keeps job files and logs.",
)
@click.option(
    "--local", is_flag=True, help="Run the tasks as local processes instead of submitting to SLURM."
)
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@_one_line_errors
def submit_cmd(stage: str, folder: str, local: bool, overrides: tuple[str, ...], **resources: Any) -> None:
    """Submit one stage to SLURM through submitit (one task per GPU); each task sets up the rendezvous itself."""
    from mapa_train.train.submit import SubmitOptions, submit

    job = submit(
        stage, list(overrides), SubmitOptions(**resources), folder, cluster="local" if local else "slurm"
    )
    click.echo(f"submitted {stage}: job {job.job_id} (logs in {folder})")
    if local:
        click.echo(json.dumps(job.results()))
