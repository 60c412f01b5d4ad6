"""Split lists: per-dataset rules, eligibility, the reference's file format, reading back and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.wai_cli import main
from metadata.natural_sort import natural_sorted
from metadata.scene_lists import read_scene_list, scene_list_path, write_scene_list
from metadata.splits import SplitInputs, load_splits, make_splits, write_splits
from wai.errors import WaiFileNotFoundError, WaiFormatError


def make_root(root: Path, names: list[str], covis: str = "covisibility/v0", depth: str = "depth") -> Path:
    """Scene folders with exactly what the eligibility filters look at."""
    for name in names:
        scene = root / name
        (scene / covis).mkdir(parents=True)
        (scene / depth).mkdir(parents=True)
        (scene / "scene_meta.json").write_text(json.dumps({"scene_name": name, "frames": []}))
    return root


def test_natural_sort_orders_numbers_as_integers() -> None:
    assert natural_sorted(["s10", "s2", "s1", "a", "s02b"]) == ["a", "s1", "s2", "s02b", "s10"]


def test_scene_list_file_is_the_reference_format(tmp_path: Path) -> None:
    path = write_scene_list(scene_list_path(tmp_path, "eth3d", "test"), ["a", "b10", "b2"])
    assert path == tmp_path / "test" / "eth3d_scene_list_test.npy"
    array = np.load(path, allow_pickle=True)  # exactly how the reference's loaders read it
    assert array.dtype == object and array.ndim == 1
    assert list(array) == ["a", "b10", "b2"] and all(type(x) is str for x in array)
    assert read_scene_list(path) == ["a", "b10", "b2"]


def test_eth3d_is_all_test_and_ineligible_scenes_are_reported(tmp_path: Path) -> None:
    root = make_root(tmp_path / "eth3d", ["courtyard", "delivery_area", "office10", "office2"])
    (tmp_path / "eth3d" / "nocovis" / "depth").mkdir(parents=True)
    (tmp_path / "eth3d" / "nocovis" / "scene_meta.json").write_text("{}")
    (tmp_path / "eth3d" / "unconverted").mkdir()
    result = make_splits(root, "eth3d")
    assert result.splits == {
        "train": [],
        "val": [],
        "test": ["courtyard", "delivery_area", "office2", "office10"],
    }
    assert result.dropped == {"nocovis": "no covisibility/v0/ folder", "unconverted": "no scene_meta.json"}
    written = write_splits(tmp_path / "meta", result)
    assert written["train"] is None and written["val"] is None
    assert load_splits(tmp_path / "meta", "eth3d", root=root) == {"test": result.splits["test"]}


def test_tav2_fixed_lists_and_listed_scenes_that_are_missing(tmp_path: Path) -> None:
    names = [
        "DesertGasStation",
        "OldScandinavia",
        "PolarSciFi",
        "Sewerage",
        "HongKong",
        "EndofTheWorld",
        "A",
        "B",
    ]
    root = make_root(tmp_path / "tav2_wb", names)
    result = make_splits(root, "tav2_wb")
    assert result.splits["test"] == ["DesertGasStation", "OldScandinavia", "PolarSciFi", "Sewerage"]
    assert result.splits["val"] == ["EndofTheWorld", "HongKong"]
    assert result.splits["train"] == ["A", "B"]
    assert set(result.listed_missing["test"]) == {"Supermarket"}
    assert "no such scene under" in result.listed_missing["test"]["Supermarket"]
    assert set(result.listed_missing["val"]) == {"WesternDesertTown"}


def test_random_val_is_reproducible_independent_of_hash_seed_and_at_least_one(tmp_path: Path) -> None:
    names = [f"scene_{i}" for i in range(45)]
    root = make_root(tmp_path / "ase", names)
    code = (
        "from metadata.splits import make_splits; import sys; "
        f"print(','.join(make_splits({str(root)!r}, 'ase').splits['val']))"
    )
    outs = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        outs.add(
            subprocess.run(
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
    assert len(outs) == 1
    result = make_splits(root, "ase")
    assert len(result.splits["val"]) == 2  # max(1, int(0.05 * 45))
    assert sorted(result.splits["val"] + result.splits["train"]) == sorted(names)
    other = make_splits(root, "ase", SplitInputs(seed=7))
    assert len(other.splits["val"]) == 2
    small = make_splits(make_root(tmp_path / "mvs_synth", ["x", "y", "z"]), "mvs_synth")
    assert len(small.splits["val"]) == 1 and len(small.splits["train"]) == 2


def test_blendedmvs_dust3r_hex_rule(tmp_path: Path) -> None:
    val_id = "5a3ca9cb270f0e3f14d0eddb"[:8] + f"{10 * 0x123456789:016x}"  # last 16 hex digits % 10 == 0
    train_id = "5a3ca9cb" + f"{10 * 0x123456789 + 3:016x}"
    root = make_root(tmp_path / "blendedmvs", [val_id, train_id, "not_an_id"])
    result = make_splits(root, "blendedmvs")
    assert result.splits["val"] == [val_id] and result.splits["train"] == [train_id]
    assert result.left_out == {"not_an_id": "not a 24-hex-digit BlendedMVS id"}


def test_scannetpp_needs_id_files_and_uses_rendered_depth(tmp_path: Path) -> None:
    root = make_root(tmp_path / "scannetppv2", ["s1", "s2", "s3", "s4"], depth="rendered_depth")
    make_root(tmp_path / "scannetppv2", ["plain_depth"])
    with pytest.raises(WaiFormatError, match="its test ids are not built in; pass --test-list FILE"):
        make_splits(root, "scannetppv2")
    (tmp_path / "test.txt").write_text("s1\n# comment\ns2\n")
    (tmp_path / "val.txt").write_text("s3\ns2\n")
    inputs = SplitInputs(test_list=tmp_path / "test.txt", val_list=tmp_path / "val.txt")
    result = make_splits(root, "scannetppv2", inputs)
    assert result.splits == {"train": ["s4"], "val": ["s3"], "test": ["s1", "s2"]}
    assert result.listed_missing["val"] == {"s2": "already in another split"}
    assert result.dropped == {"plain_depth": "no rendered_depth/ folder"}


def test_dl3dv_benchmark_csv_and_mpsd_npy(tmp_path: Path) -> None:
    root = make_root(
        tmp_path / "dl3dv",
        ["1K_aaa", "2K_bbb", "3K_ccc"],
        covis="covisibility/v0_mvsa_based",
        depth="mvsanywhere/v0/depth",
    )
    (tmp_path / "bench.csv").write_text("hash,scene\naaa,x\nbbb,y\nzzz,q\n")
    (tmp_path / "valid.csv").write_text("batch,hash\n1K,aaa\n2K,bbb\n")
    inputs = SplitInputs(dl3dv_benchmark_csv=tmp_path / "bench.csv", dl3dv_valid_csv=tmp_path / "valid.csv")
    result = make_splits(root, "dl3dv", inputs)
    assert result.splits["val"] == ["1K_aaa", "2K_bbb"] and result.splits["train"] == ["3K_ccc"]
    (tmp_path / "bad.csv").write_text("id\n1\n")
    with pytest.raises(WaiFormatError, match=r"bad\.csv': missing column \['hash'\]; header is \['id'\]"):
        make_splits(
            root,
            "dl3dv",
            SplitInputs(dl3dv_benchmark_csv=tmp_path / "bad.csv", dl3dv_valid_csv=tmp_path / "valid.csv"),
        )

    mroot = make_root(tmp_path / "mpsd", ["geo_1", "geo_2", "geo_3"])
    write_scene_list(tmp_path / "val_recon.npy", ["geo/2"])
    result = make_splits(mroot, "mpsd", SplitInputs(mpsd_val_npy=tmp_path / "val_recon.npy"))
    assert result.splits["val"] == ["geo_2"] and result.splits["train"] == ["geo_1", "geo_3"]


def test_reading_back_names_file_and_missing_scenes(tmp_path: Path) -> None:
    root = make_root(tmp_path / "spring", ["0001", "0013"])
    meta = tmp_path / "meta"
    write_scene_list(scene_list_path(meta, "spring", "train"), ["0001", "0099", "0100"])
    with pytest.raises(WaiFileNotFoundError) as info:
        load_splits(meta, "spring", root=root)
    message = str(info.value)
    assert message.startswith("2 listed scenes do not exist")
    assert "spring_scene_list_train.npy" in message and "'0099'" in message and "'0100'" in message
    with pytest.raises(WaiFileNotFoundError, match="no split lists for dataset 'eth3d'"):
        load_splits(meta, "eth3d")


def test_corrupt_and_malformed_lists(tmp_path: Path) -> None:
    path = scene_list_path(tmp_path, "ase", "val")
    write_scene_list(path, ["a", "b"])
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(WaiFormatError, match=r"ase_scene_list_val\.npy.*not a readable"):
        read_scene_list(path)
    np.save(path, np.zeros((2, 2)))
    with pytest.raises(WaiFormatError, match="1-D array"):
        read_scene_list(path)
    np.save(path, np.array(["a", 3], dtype=object), allow_pickle=True)
    with pytest.raises(WaiFormatError, match=r"field '\[1\]'"):
        read_scene_list(path)


def test_check_meta_drops_unreadable_scene_meta(tmp_path: Path) -> None:
    root = make_root(tmp_path / "ase", ["good", "broken"])
    (root / "broken" / "scene_meta.json").write_text("{not json")
    assert make_splits(root, "ase").dropped == {}
    result = make_splits(root, "ase", SplitInputs(check_meta=True))
    assert "broken" in result.dropped and "malformed JSON" in result.dropped["broken"]
    assert "scene_meta.json" in result.dropped["broken"]


def test_cli_writes_rewrites_and_checks(tmp_path: Path) -> None:
    root = make_root(tmp_path / "megadepth", ["0015_0", "0022_0", "0100_0", "0200_1"])
    meta = tmp_path / "meta"
    runner = CliRunner()
    out = runner.invoke(main, ["splits", str(root), "--dataset", "megadepth", "--out", str(meta)])
    assert out.exit_code == 0, out.output
    assert "megadepth: train 2, val 2, test 0" in out.output
    assert "val list names 0015_1: no such scene under" in out.output
    assert list(np.load(meta / "val" / "megadepth_scene_list_val.npy", allow_pickle=True)) == [
        "0015_0",
        "0022_0",
    ]
    assert list(np.load(meta / "train" / "megadepth_scene_list_train.npy", allow_pickle=True)) == [
        "0100_0",
        "0200_1",
    ]

    ok = runner.invoke(main, ["splits", str(root), "--dataset", "megadepth", "--out", str(meta), "--check"])
    assert ok.exit_code == 0 and "0 listed scenes missing" in ok.output
    (root / "0200_1" / "scene_meta.json").unlink()
    (root / "0200_1" / "depth").rmdir()
    (root / "0200_1" / "covisibility" / "v0").rmdir()
    (root / "0200_1" / "covisibility").rmdir()
    (root / "0200_1").rmdir()
    bad = runner.invoke(main, ["splits", str(root), "--dataset", "megadepth", "--out", str(meta), "--check"])
    assert bad.exit_code == 1 and "scene '0200_1' has no folder" in bad.output

    as_json = runner.invoke(
        main, ["splits", str(root), "--dataset", "megadepth", "--out", str(meta), "--json"]
    )
    payload = json.loads(as_json.output)
    assert payload["splits"]["train"] == ["0100_0"]
    missing = runner.invoke(main, ["splits", str(tmp_path / "nope"), "--dataset", "x", "--out", str(meta)])
    assert missing.exit_code != 0 and "nope" in missing.output
