"""`wai validate`: check a scene or a dataset root and print one line per problem plus a summary."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from cli.errors import report_wai_errors
from cli.problem_lines import problem_lines
from cli.stage_options import shard_option
from wai.validate import RULES, ValidationReport, find_scenes
from wai.validate import validate as run_validation


def _default_workers() -> int:
    return min(4, os.cpu_count() or 1)


def _print_rules() -> None:
    width = max(len(name) for name in RULES)
    for name, rule in RULES.items():
        tag = "deep " if rule.deep else "     "
        click.echo(f"{name:<{width}}  {tag} {rule.description}")


def _run(
    path: Path, deep: bool, workers: int, shard: tuple[int, int] | None, show_progress: bool
) -> ValidationReport:
    if not show_progress:
        return run_validation(path, deep=deep, workers=workers, shard=shard)
    scenes = find_scenes(path)
    total = len(scenes if shard is None else scenes[shard[0] :: shard[1]])
    with click.progressbar(length=total, label="validating", file=sys.stderr) as bar:
        return run_validation(
            path, deep=deep, workers=workers, shard=shard, progress=lambda _name, _n: bar.update(1)
        )


def shallow_note() -> str:
    """What a run without --deep left out, so a clean shallow result is not read as a full check."""
    deep_rules = ", ".join(name for name, rule in RULES.items() if rule.deep)
    return f"not checked without --deep: files were not decoded and the rules {deep_rules} did not run"


@click.command(short_help="Check a scene or a dataset root; exit status 1 if anything is wrong.")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--deep", is_flag=True, help="Also decode every file and check shapes, depth values, poses, covisibility."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Scenes checked in parallel (processes). [default: min(4, CPU count)]",
)
@shard_option
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON report instead of text.")
@click.option("--list-rules", is_flag=True, help="List the checks and exit.")
@report_wai_errors
def validate(
    path: Path | None,
    deep: bool,
    workers: int | None,
    shard: tuple[int, int] | None,
    as_json: bool,
    list_rules: bool,
) -> None:
    """Check a WAI scene folder or dataset root (PATH); exit status 1 if anything fails.

    Without --deep only the metadata and the presence of files are checked; the summary says so.
    """
    if list_rules:
        _print_rules()
        return
    if path is None:
        raise click.UsageError("missing PATH (a scene folder or a dataset root)")
    workers = workers or _default_workers()
    show_progress = not as_json and sys.stderr.isatty()
    report = _run(path, deep, workers, shard, show_progress)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for line in problem_lines(report.problems):
            click.echo(line)
        click.echo(report.summary())
        if not deep:
            click.echo(shallow_note())
    if not report.ok:
        raise SystemExit(1)
