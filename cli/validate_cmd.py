"""`wai validate`: check a scene or a dataset root and print one line per problem plus a summary."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from cli.errors import report_wai_errors
from wai.validate import RULES, ValidationReport, find_scenes
from wai.validate import validate as run_validation


def _default_workers() -> int:
    return min(4, os.cpu_count() or 1)


def _print_rules() -> None:
    width = max(len(name) for name in RULES)
    for name, rule in RULES.items():
        tag = "deep " if rule.deep else "     "
        click.echo(f"{name:<{width}}  {tag} {rule.description}")


def _run(path: Path, deep: bool, workers: int, show_progress: bool) -> ValidationReport:
    if not show_progress:
        return run_validation(path, deep=deep, workers=workers)
    total = len(find_scenes(path))
    with click.progressbar(length=total, label="validating", file=sys.stderr) as bar:
        return run_validation(path, deep=deep, workers=workers, progress=lambda _name, _n: bar.update(1))


@click.command()
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
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON report instead of text.")
@click.option("--list-rules", is_flag=True, help="List the checks and exit.")
@report_wai_errors
def validate(path: Path | None, deep: bool, workers: int | None, as_json: bool, list_rules: bool) -> None:
    """Check a WAI scene folder or dataset root (PATH); exit status 1 if anything fails."""
    if list_rules:
        _print_rules()
        return
    if path is None:
        raise click.UsageError("missing PATH (a scene folder or a dataset root)")
    workers = workers or _default_workers()
    show_progress = not as_json and sys.stderr.isatty()
    report = _run(path, deep, workers, show_progress)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)
