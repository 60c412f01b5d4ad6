"""`wai info`: summarise a scene (a block of facts) or a dataset root (a table of scenes and a total line)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.errors import report_wai_errors
from wai.info import dataset_info, scene_info
from wai.validate.runner import is_scene_folder


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@report_wai_errors
def info(path: Path, as_json: bool) -> None:
    """Summarise a WAI scene folder or dataset root (PATH)."""
    if path.is_dir() and is_scene_folder(path):
        summary = scene_info(path)
        text = summary.describe()
    else:
        summary = dataset_info(path)
        text = summary.table()
    click.echo(json.dumps(summary.to_dict(), indent=2) if as_json else text)
