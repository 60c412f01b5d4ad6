"""`wai pack SOURCE --out STORE`: packs, skips on rerun, repacks with --overwrite, and names bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from tests.wai.pack.fixtures import convert_synthetic


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def test_pack_rerun_overwrite_and_resolution(tmp_path: Path) -> None:
    root = convert_synthetic(tmp_path / "synthetic")
    out = tmp_path / "stores"
    first = invoke("pack", str(root), "--out", str(out))
    assert first.exit_code == 0, first.output
    assert "2 done, 0 skipped, 0 failed" in first.output
    rerun = invoke("pack", str(root), "--out", str(out))
    assert rerun.exit_code == 0 and "0 done, 2 skipped" in rerun.output
    mismatch = invoke("pack", str(root), "--out", str(out), "--resolution", "32x24")
    assert mismatch.exit_code == 1 and "--overwrite" in mismatch.output
    redo = invoke(
        "pack", str(root), "--out", str(out), "--resolution", "32x24", "--overwrite", "--workers", "2"
    )
    assert redo.exit_code == 0 and "2 done" in redo.output, redo.output
    frame = wai.open_scene(out / "room_000").frames[0]
    assert frame.image.shape == (24, 32, 3)
    np.testing.assert_allclose(
        frame.intrinsics, wai.open_scene(root / "room_000").frames[0].camera.resized(32, 24).K
    )


def test_one_scene_folder_and_bad_options(tmp_path: Path) -> None:
    root = convert_synthetic(tmp_path / "synthetic")
    one = invoke("pack", str(root / "room_000"), "--out", str(tmp_path / "one"))
    assert one.exit_code == 0, one.output
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["room_000.zarr"]
    bad = invoke("pack", str(root), "--out", str(tmp_path / "x"), "--resolution", "big")
    assert bad.exit_code == 2 and "expected WxH" in bad.output
    inside = invoke("pack", str(root), "--out", str(root / "packed"))
    assert inside.exit_code == 1 and "inside the source" in inside.output


def test_a_failed_scene_exits_1_with_its_reason(tmp_path: Path) -> None:
    root = convert_synthetic(tmp_path / "synthetic")
    depth = next((root / "room_000" / "depth").glob("*.exr"))
    depth.write_bytes(b"not an exr")
    result = invoke("pack", str(root), "--out", str(tmp_path / "stores"))
    assert result.exit_code == 1
    assert "1 failed" in result.output and depth.name in result.output and "room_000" in result.output


def test_wai_info_on_a_store(tmp_path: Path) -> None:
    root = convert_synthetic(tmp_path / "synthetic")
    assert invoke("pack", str(root), "--out", str(tmp_path / "stores")).exit_code == 0
    result = invoke("info", str(tmp_path / "stores" / "room_000.zarr"))
    assert result.exit_code == 0, result.output
    assert "room_000" in result.output
