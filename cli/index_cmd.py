"""`wai index`: build or update the parquet index (`wai index ROOT... --out META`), query it, summarise it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from metadata.index import build_index, open_index
from metadata.index.graph_stats import DEFAULT_THRESHOLD
from wai.plural import plural
from wai_converters.registry import CONVERTERS

SCENE_COLUMNS = [
    "dataset",
    "scene",
    "split",
    "frames",
    "width",
    "height",
    "camera_model",
    "metric",
    "synthetic",
]
FRAME_COLUMNS = [
    "dataset",
    "scene",
    "frame",
    "index",
    "width",
    "height",
    "fx",
    "fy",
    "cx",
    "cy",
    "tx",
    "ty",
    "tz",
]


class _BuildByDefault(click.Group):
    """`wai index ROOT ...` means `wai index build ROOT ...`; `query`, `info` and `build` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["build", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_BuildByDefault, short_help="Build and query the parquet index of scenes and frames.")
def index() -> None:
    """Parquet index of scenes and frames: `wai index ROOT... --out META`, then `query` or `info`."""


@index.command("build", short_help="Index the scenes of ROOT(s) into META/index/.")
@click.argument("roots", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Metadata folder (META).")
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help="Dataset name of each ROOT, in order (default: each scene meta's dataset_name).",
)
@click.option("--covis-threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True)
@click.option("--rebuild", is_flag=True, help="Re-read every scene, not only the changed ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
@report_wai_errors
def build(
    roots: tuple[Path, ...],
    out: Path,
    datasets: tuple[str, ...],
    covis_threshold: float,
    rebuild: bool,
    as_json: bool,
) -> None:
    """Index the scenes of ROOT(s) into META/index/ (a rerun re-reads only changed scenes)."""
    if datasets and len(datasets) != len(roots):
        raise click.UsageError(
            f"{plural(len(roots), 'ROOT')} but {plural(len(datasets), '--dataset name')}; give one per ROOT"
        )
    flags = {name: (entry.metric, entry.synthetic) for name, entry in CONVERTERS.items()}
    report = build_index(
        list(roots),
        out,
        datasets=list(datasets) or None,
        covis_threshold=covis_threshold,
        flags=flags,
        rebuild=rebuild,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for folder, why in report.skipped.items():
            click.echo(f"skipped {folder}: {why}")
        for folder, why in report.failed.items():
            click.echo(f"failed {folder}: {why}")
        for line in report.problems:
            click.echo(f"problem: {line}")
        click.echo(report.summary())
    if report.failed:
        raise SystemExit(1)


def _print_rows(rows: list[dict[str, Any]], columns: list[str]) -> None:
    cells = [
        [("-" if r[c] is None else f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c])) for c in columns]
        for r in rows
    ]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


@index.command("query", short_help="Scenes or frames of the index matching filters.")
@click.argument("meta", type=click.Path(path_type=Path, file_okay=False))
@click.option("--dataset", "datasets", multiple=True, help="Only these datasets (repeatable).")
@click.option("--scene", "scenes", multiple=True, help="Only these scenes (repeatable).")
@click.option("--split", type=click.Choice(["train", "val", "test"]))
@click.option("--metric/--not-metric", default=None, help="Only metric (or only non-metric) scenes.")
@click.option("--synthetic/--real", default=None, help="Only synthetic (or only captured) scenes.")
@click.option("--min-frames", type=int)
@click.option("--max-frames", type=int)
@click.option("--camera-model")
@click.option(
    "--modality", help="Only scenes (frames) with this frame modality, e.g. depth or pred_depth/moge2."
)
@click.option("--frames", "want_frames", is_flag=True, help="List the frames of the matching scenes.")
@click.option("--limit", type=int, help="Print at most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of rows).")
@report_wai_errors
def query(
    meta: Path,
    datasets: tuple[str, ...],
    scenes: tuple[str, ...],
    split: str | None,
    metric: bool | None,
    synthetic: bool | None,
    min_frames: int | None,
    max_frames: int | None,
    camera_model: str | None,
    modality: str | None,
    want_frames: bool,
    limit: int | None,
    as_json: bool,
) -> None:
    """Scenes (or with --frames, their frames) of the index in META matching every filter."""
    idx = open_index(meta)
    table = idx.scenes(
        dataset=list(datasets) or None,
        scene=list(scenes) or None,
        split=split,
        metric=metric,
        synthetic=synthetic,
        min_frames=min_frames,
        max_frames=max_frames,
        camera_model=camera_model,
        modality=None if want_frames else modality,
    )
    columns = SCENE_COLUMNS
    if want_frames:
        names = table["scene"].to_pylist()
        table = idx.frames(dataset=list(datasets) or None, scene=names, modality=modality)
        columns = FRAME_COLUMNS
    total = table.num_rows
    if limit is not None:
        table = table.slice(0, limit)
    rows = table.to_pylist()
    if as_json:
        click.echo(json.dumps(rows))
        return
    _print_rows(rows, columns)
    click.echo(plural(total, "frame" if want_frames else "scene"))


@index.command("info", short_help="Per-dataset summary of the index.")
@click.argument("meta", type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True)
@report_wai_errors
def info(meta: Path, as_json: bool) -> None:
    """Per-dataset summary of the index in META (no dataset folder is read)."""
    summary = open_index(meta).summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    rows = [{**s, "splits": ", ".join(f"{k} {v}" for k, v in sorted(s["splits"].items()))} for s in summary]
    _print_rows(rows, ["dataset", "scenes", "frames", "splits", "metric", "synthetic", "with_covisibility"])
