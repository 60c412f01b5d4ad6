"""`wai info`: summarise a scene (a block of facts) or a dataset root (a table of scenes and a total line)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.errors import report_wai_errors
from wai.info import info as summarise


@click.command(short_help="Summarise a scene or a dataset root.")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (the same shape for a scene and a dataset root)."
)
@report_wai_errors
def info(path: Path, as_json: bool) -> None:
    """Summarise a WAI scene folder or dataset root (PATH).

    Unreadable scenes are listed with the reason, in the text and under "errors" in the JSON. Exit status: 0 when
    every scene was read, 1 otherwise.
    """
    summary = summarise(path)
    click.echo(json.dumps(summary.to_dict(), indent=2) if as_json else summary.text())
    if not summary.ok:
        raise SystemExit(1)
