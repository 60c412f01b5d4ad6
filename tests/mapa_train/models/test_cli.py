"""`mapa-train models` lists every registered variant with its meta-device parameter count."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.mapa_train_cli import main
from mapa_train.models.registry import MODELS


def test_models_json_lists_every_variant() -> None:
    result = CliRunner().invoke(main, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == set(MODELS)
    assert rows["mapanything_v1.1"]["params"] == 1_228_491_222
    assert rows["mapanything_v1"]["params"] == 563_335_382


def test_models_table_text() -> None:
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert "1,228,491,222" in result.output and "mapanything_tiny" in result.output
