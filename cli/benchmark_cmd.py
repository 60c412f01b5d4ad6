"""`mapa-train benchmark`: the dense N-view benchmark of one model, and `benchmark compare A B`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import reports_errors
from mapa_train.errors import MapaConfigError


def _int_list(value: str) -> tuple[int, ...]:
    try:
        items = tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from exc
    if not items or min(items) < 1:
        raise click.BadParameter(f"expected positive view counts, got {value!r}")
    return items


def _names(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _resolution(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError as exc:
        raise click.BadParameter(f"expected WxH, e.g. 518x336, got {value!r}") from exc
    return w, h


class BenchmarkGroup(click.Group):
    """`mapa-train benchmark [OPTIONS]` runs; `mapa-train benchmark compare A B` compares."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A first argument that is not a subcommand (an option) means "run the benchmark".
        self.invoke_without_command = not (args and args[0] in self.commands)
        return super().parse_args(ctx, args)


@click.group("benchmark", cls=BenchmarkGroup, invoke_without_command=True)
@click.option(
    "--model",
    help="Registered model name (see `mapa-train models`), a save_pretrained folder, or a training checkpoint folder (checkpoints/final, best, step_*).",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="State dict for --model NAME.",
)
@click.option(
    "--data",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Data root: one folder per dataset.",
)
@click.option("--views", default="2,4,8,16,24", show_default=True, help="Comma-separated view counts N.")
@click.option(
    "--task", "tasks", default="images_only", show_default=True, help="Comma-separated input tasks."
)
@click.option(
    "--datasets",
    default="eth3d,scannetpp,tav2_wb",
    show_default=True,
    help="eth3d, scannetpp, tav2_wb, synthetic.",
)
@click.option("--sets-per-scene", type=click.IntRange(min=1), default=10, show_default=True)
@click.option(
    "--metadata",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Folder with test/<dataset>_scene_list_test.npy (default: every scene).",
)
@click.option("--resolution", help="WxH for every dataset (default: 518x336, TAv2-WB 518x518).")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=1, show_default=True, help="Sets per forward."
)
@click.option(
    "--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default="auto", show_default=True
)
@click.option("--label", help="Name of the model in results and plots.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmark_results"), show_default=True)
@click.pass_context
@reports_errors
def benchmark_cmd(ctx: click.Context, **opts: Any) -> None:
    """Run the dense N-view benchmark of one model (or `compare A B`)."""
    if ctx.invoked_subcommand is not None:
        return
    if not opts["model"] or not opts["data"]:
        raise MapaConfigError("mapa-train benchmark needs --model and --data")
    from mapa_train.benchmark.report import format_table
    from mapa_train.benchmark.runner import BenchmarkConfig, run_benchmark

    config = BenchmarkConfig(
        model=opts["model"],
        data=opts["data"],
        out=opts["out"],
        views=_int_list(opts["views"]),
        tasks=_names(opts["tasks"]),
        datasets=_names(opts["datasets"]),
        sets_per_scene=opts["sets_per_scene"],
        metadata=opts["metadata"],
        weights=opts["weights"],
        resolution=_resolution(opts["resolution"]),
        batch_size=opts["batch_size"],
        precision=opts["precision"],
        label=opts["label"],
    )
    result = run_benchmark(config)
    if not result.is_main_process:
        return
    click.echo(format_table(result.summary))
    click.echo(result.timings.summary())
    failed = sum(1 for r in result.rows if r.get("error"))
    if failed:
        click.echo(f"{failed} set(s) failed to load (see the 'error' column of rows.parquet)", err=True)
    click.echo(f"wrote {len(result.files)} files under {config.out}")


@benchmark_cmd.command("compare")
@click.argument("a", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("b", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--plots", type=click.Path(path_type=Path), help="Write one PNG per metric with both models here."
)
@reports_errors
def compare_cmd(a: Path, b: Path, plots: Path | None) -> None:
    """Put two result folders side by side (A, B, B - A and which is better, per metric)."""
    from mapa_train.benchmark.report import compare_table, plot_metrics, read_rows, summarise

    rows_a, rows_b = read_rows(a), read_rows(b)
    names = {r["model"] for r in rows_a} | {r["model"] for r in rows_b}
    if len(names) < 2:  # the same model label on both sides: name them by folder
        rows_a = [r | {"model": f"A:{a.name}"} for r in rows_a]
        rows_b = [r | {"model": f"B:{b.name}"} for r in rows_b]
    sa, sb = summarise(rows_a), summarise(rows_b)
    click.echo(compare_table(sa, sb))
    if plots is not None:
        paths = plot_metrics(sa | sb, plots)
        click.echo(f"wrote {len(paths)} plots under {plots}")


@benchmark_cmd.command("plot")
@click.argument(
    "results", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, file_okay=False)
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Folder for the PNGs.")
@click.option("--dataset", default="Average", show_default=True, help="Which dataset's values to plot.")
@reports_errors
def plot_cmd(results: tuple[Path, ...], out: Path, dataset: str) -> None:
    """One PNG per metric against the number of views, one line per model of the RESULTS folders."""
    from mapa_train.benchmark.report import plot_metrics, read_rows, summarise

    rows = [row for folder in results for row in read_rows(folder)]
    paths = plot_metrics(summarise(rows), out, dataset=dataset)
    click.echo(f"wrote {len(paths)} plots under {out}")
