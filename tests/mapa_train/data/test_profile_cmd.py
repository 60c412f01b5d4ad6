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
    args += ["--no-packed", "--repeats", "1"]
    result = CliRunner().invoke(main, [*args, "--resolution", "56x42", "--samples", "6", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report["loader_views_per_s"]) == {"0", "1"} and report["floor_views_per_s"] > 0
    for workers, rate in report["loader_views_per_s"].items():
        assert report["ratio"][workers] == pytest.approx(rate / report["floor_views_per_s"])
    assert "packed" not in report and report["repeats"] == 1


def test_profile_data_packs_and_prints_the_packed_rows(synthetic_root: Path, tmp_path: Path) -> None:
    args = ["profile-data", str(synthetic_root), "--dataset", "synthetic", "--views", "2", "--workers", "0"]
    args += ["--resolution", "32x24", "--samples", "4", "--repeats", "2", "--aug-crop", "4"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.output.splitlines():
        parts = line.split()
        if parts and parts[0] in ("folder", "packed") and parts[-1].replace(".", "", 1).isdigit():
            # layout, pass name, views/s, x floor, x floor by CPU time (numeric: every pass runs in-process)
            rows[(parts[0], " ".join(parts[1:-3]))] = tuple(float(v) for v in parts[-3:])
    assert set(rows) == {
        (layout, name) for layout in ("folder", "packed") for name in ("bare decode", "loader, 0 workers")
    }
    assert rows[("folder", "bare decode")][1:] == pytest.approx((1.0, 1.0))  # the floor against itself
    assert all(rate > 0 and ratio > 0 and cpu > 0 for rate, ratio, cpu in rows.values())
    assert "packed at 35x27" in result.output  # the resolution plus the aug_crop jitter (4 - 1)
    assert "median of 2 interleaved" in result.output

    # Given stores: the same table from them, and the JSON has the packed figures against the folder floor.
    from wai.pack import run_pack

    stores = tmp_path / "stores"
    assert not run_pack(synthetic_root, stores, progress=False).failed
    given = CliRunner().invoke(main, [*args, "--repeats", "1", "--packed", str(stores), "--json"])
    assert given.exit_code == 0, given.output
    report = json.loads(given.output)
    packed = report["packed"]
    assert packed["location"] == str(stores) and set(packed["loader_views_per_s"]) == {"0"}
    assert packed["ratio"]["0"] == pytest.approx(
        packed["loader_views_per_s"]["0"] / report["floor_views_per_s"]
    )
    clash = CliRunner().invoke(main, [*args, "--packed", str(stores), "--no-packed"])
    assert clash.exit_code != 0 and "exclude each other" in clash.output


def test_profile_data_text_and_errors(synthetic_root: Path, tmp_path: Path) -> None:
    args = ["profile-data", str(synthetic_root), "--dataset", "synthetic", "--views", "2", "--workers", "0"]
    result = CliRunner().invoke(
        main,
        [
            *args,
            "--resolution",
            "56x42",
            "--samples",
            "4",
            "--interpolation",
            "linear",
            "--no-packed",
            "--repeats",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "bare decode (floor)" in result.output and "x floor" in result.output
    assert "folder   loader, 0 workers" in result.output and "packed" not in result.output
    bad = CliRunner().invoke(main, [*args, "--resolution", "56by42"])
    assert bad.exit_code != 0 and "WxH" in bad.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = CliRunner().invoke(main, ["profile-data", str(empty)])
    assert none.exit_code == 1 and "no scenes" in none.output
    unknown = CliRunner().invoke(main, [*args, "--dataset", "nope"])
    assert unknown.exit_code == 1 and "unknown dataset row" in unknown.output
