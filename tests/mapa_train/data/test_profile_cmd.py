"""`mapa-train profile-data`: prints views/s per worker count and the ratio against the bare decode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.mapa_train_cli import main

pytest.importorskip("torch")


def test_profile_data_json(synthetic_root: Path) -> None:
    args = ["profile-data", str(synthetic_root), "--dataset", "synthetic", "--views", "2", "--workers", "0,1"]
    result = CliRunner().invoke(main, [*args, "--resolution", "56x42", "--samples", "6", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["loader_views_per_s"]) == {"0", "1"} and report["floor_views_per_s"] > 0
    for workers, rate in report["loader_views_per_s"].items():
        assert report["ratio"][workers] == pytest.approx(rate / report["floor_views_per_s"])


def test_profile_data_text_and_errors(synthetic_root: Path, tmp_path: Path) -> None:
    args = ["profile-data", str(synthetic_root), "--dataset", "synthetic", "--views", "2", "--workers", "0"]
    result = CliRunner().invoke(
        main, [*args, "--resolution", "56x42", "--samples", "4", "--interpolation", "linear"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "bare decode (floor)" in result.output
        and "loader, 0 workers" in result.output
        and "ratio" in result.output
    )
    bad = CliRunner().invoke(main, [*args, "--resolution", "56by42"])
    assert bad.exit_code != 0 and "WxH" in bad.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = CliRunner().invoke(main, ["profile-data", str(empty)])
    assert none.exit_code == 1 and "no scenes" in none.output
    unknown = CliRunner().invoke(main, [*args, "--dataset", "nope"])
    assert unknown.exit_code == 1 and "unknown dataset row" in unknown.output
