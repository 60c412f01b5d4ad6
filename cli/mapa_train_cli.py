"""The `mapa-train` command: models, configs and training stages."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Train MapAnything-style models on WAI datasets."""


@main.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON for scripts.")
def models_cmd(as_json: bool) -> None:
    """List every registered model variant with its parameter count (counted on the meta device)."""
    import json

    from mapa_train.models.registry import format_model_table, model_table

    rows = model_table()
    click.echo(json.dumps(rows, indent=2) if as_json else format_model_table(rows))
