"""The `mapa-train` command: the model registry and the prediction stages that run models over WAI datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.benchmark_cmd import benchmark_cmd
from cli.errors import reports_errors
from cli.profile_data_cmd import profile_data_cmd
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from cli.train_cmd import StageShortcutGroup, plot_loss_cmd, presets_cmd, submit_cmd, train_cmd


@click.group(cls=StageShortcutGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Train MapAnything-style models on WAI datasets, evaluate them, and run them over datasets."""


@main.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON for scripts.")
@reports_errors
def models_cmd(as_json: bool) -> None:
    """List every registered model variant with its parameter count (counted on the meta device)."""
    import json

    from mapa_train.models.registry import format_model_table, model_table

    rows = model_table()
    click.echo(json.dumps(rows, indent=2) if as_json else format_model_table(rows))


@main.command("predict-moge2")
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--weights",
    type=click.Path(path_type=Path),
    required=True,
    help="A save_pretrained folder (model.safetensors + config.json) or an official MoGe-2 model.pt/.safetensors.",
)
@click.option(
    "--model",
    "model_name",
    default="moge2_vitl_normal",
    show_default=True,
    help="MoGe-2 variant to build for an official checkpoint (ignored for save_pretrained folders).",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:N or mps.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=4, show_default=True, help="Frames per pass."
)
@click.option(
    "--resize",
    type=click.IntRange(min=0),
    default=1600,
    show_default=True,
    help="Run images whose long side exceeds this at this long side (0: never); outputs keep the image size.",
)
@click.option(
    "--num-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="ViT token budget per image (default: the model's largest, MoGe's resolution level 9).",
)
@stage_options
@reports_errors
def predict_moge2_cmd(
    root: Path,
    weights: Path,
    model_name: str,
    device: str,
    batch_size: int,
    resize: int,
    num_tokens: int | None,
    **options: Any,
) -> None:
    """Predict MoGe-2 depth, mask and normals for every frame of the scenes in ROOT (stage 'moge')."""
    from mapa_train.stages.moge2 import predict_moge2

    report = predict_moge2(
        root,
        weights,
        model_name=model_name,
        device=device,
        batch_size=batch_size,
        resize=resize or None,
        num_tokens=num_tokens,
        **stage_run_kwargs(options),
    )
    exit_with_report(report)


main.add_command(benchmark_cmd)
main.add_command(train_cmd)
main.add_command(presets_cmd)
main.add_command(plot_loss_cmd)
main.add_command(submit_cmd)

main.add_command(profile_data_cmd)

if (
    __name__ == "__main__"
):  # `python -m cli.mapa_train_cli`, as `accelerate launch -m` and `torchrun -m` run it
    main()
