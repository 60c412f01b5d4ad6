"""`wai info`: summarise a scene (a block of facts) or a dataset root (a table of scenes and a total line), or with
`--index META` every scene of a parquet index without reading the dataset folders."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.errors import report_wai_errors
from metadata.index.info import index_info
from wai.info import info as summarise


@click.command(short_help="Summarise a scene, a dataset root or an index.")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--index",
    "meta",
    type=click.Path(path_type=Path, file_okay=False),
    help="Answer from the parquet index in META (`wai index ROOT --out META`) instead of reading PATH.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (the same shape for a scene, a dataset root and an index).",
)
@report_wai_errors
def info(path: Path | None, meta: Path | None, as_json: bool) -> None:
    """Summarise a WAI scene folder or dataset root (PATH), or the index in META (--index).

    Unreadable scenes are listed with the reason, in the text and under "errors" in the JSON. Exit status: 0 when
    every scene was read, 1 otherwise.
    """
    if (path is None) == (meta is None):
        raise click.UsageError("give either PATH (a scene folder or a dataset root) or --index META")
    if meta is not None:
        indexed = index_info(meta)
        click.echo(json.dumps(indexed.to_dict(), indent=2) if as_json else indexed.table())
        return
    summary = summarise(path)
    click.echo(json.dumps(summary.to_dict(), indent=2) if as_json else summary.text())
    if not summary.ok:
        raise SystemExit(1)
