"""`wai metadata download` against a Hugging Face cache laid out as huggingface_hub lays one out, with no network:
the installed huggingface_hub resolves refs/main, finds the snapshot and (with a cached tree listing) checks it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from cli.wai_cli import main
from metadata.hub import dataset_splits, download_metadata, expected_files
from metadata.scene_lists import write_scene_list
from wai.errors import WaiFileNotFoundError, WaiFormatError, WaiStageError

COMMIT = "5f1e2d3c4b5a69788796a5b4c3d2e1f0a1b2c3d4"
LISTS = {
    "eth3d": {"test": ["courtyard", "delivery_area"]},
    "tav2_wb": {"train": ["A", "B"], "val": ["HongKong"], "test": ["Sewerage"]},
    "ase": {"train": ["1", "2", "10"], "val": ["3"]},
}


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def list_bytes(tmp: Path, names: list[str]) -> bytes:
    return write_scene_list(tmp / "scratch.npy", names).read_bytes()


def make_cache(cache: Path, files: dict[str, bytes], tree: dict[str, bytes] | None = None) -> Path:
    """``datasets--facebook--map-anything/{blobs,snapshots/<commit>,refs/main}``; snapshot files are relative
    symlinks to blobs named by their git blob id. `tree` also writes the cached tree listing of the commit."""
    repo = cache / "datasets--facebook--map-anything"
    for rel, data in files.items():
        blob = repo / "blobs" / git_blob_id(data)
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = repo / "snapshots" / COMMIT / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    if tree is not None:
        listing = {rel: {"size": len(data), "blob_id": git_blob_id(data)} for rel, data in tree.items()}
        (repo / "trees").mkdir(exist_ok=True)
        (repo / "trees" / f"{COMMIT}.json").write_text(json.dumps({"format_version": 1, "files": listing}))
    return repo


def reference_files(tmp: Path) -> dict[str, bytes]:
    return {
        f"mapanything_dataset_metadata/{split}/{ds}_scene_list_{split}.npy": list_bytes(tmp, names)
        for ds, splits in LISTS.items()
        for split, names in splits.items()
    }


def run_offline(cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "HF_HUB_DISABLE_TELEMETRY": "1"}
    code = "import sys; from cli.wai_cli import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, "metadata", "download", *args], env=env, capture_output=True, text=True
    )


def test_expected_layout_follows_the_split_rules() -> None:
    assert dataset_splits("eth3d") == ("test",)
    assert dataset_splits("scannetppv2") == ("train", "val", "test")
    assert dataset_splits("blendedmvs") == ("train", "val")
    assert expected_files(["eth3d"]) == ["mapanything_dataset_metadata/test/eth3d_scene_list_test.npy"]
    assert expected_files(["ase"], prefix="") == [
        "train/ase_scene_list_train.npy",
        "val/ase_scene_list_val.npy",
    ]


def test_offline_download_from_the_cache_with_hf_hub_offline(tmp_path: Path) -> None:
    cache = tmp_path / "hf"
    make_cache(cache, reference_files(tmp_path))
    out = tmp_path / "meta"
    first = run_offline(cache, "--to", str(out), "--datasets", "eth3d", "--datasets", "tav2_wb")
    assert first.returncode == 0, first.stderr
    assert (
        "4 split lists from facebook/map-anything@5f1e2d3c4b5a in" in first.stdout
        and "4 written" in first.stdout
    )
    assert list(np.load(out / "test" / "eth3d_scene_list_test.npy", allow_pickle=True)) == [
        "courtyard",
        "delivery_area",
    ]
    assert list(np.load(out / "val" / "tav2_wb_scene_list_val.npy", allow_pickle=True)) == ["HongKong"]
    assert not (out / "train" / "ase_scene_list_train.npy").exists()  # only the requested datasets
    assert json.loads((out / "hub_download.json").read_text())["commit"] == COMMIT
    again = run_offline(cache, "--to", str(out), "--datasets", "eth3d", "--datasets", "tav2_wb")
    assert again.returncode == 0 and "0 written, 4 unchanged" in again.stdout


def test_missing_files_are_listed(tmp_path: Path) -> None:
    files = reference_files(tmp_path)
    del files["mapanything_dataset_metadata/test/tav2_wb_scene_list_test.npy"]
    make_cache(tmp_path / "hf", files)
    result = run_offline(
        tmp_path / "hf", "--to", str(tmp_path / "meta"), "--datasets", "tav2_wb", "--datasets", "ase"
    )
    assert result.returncode != 0
    assert (
        "lacks 1 of 5 expected split lists: mapanything_dataset_metadata/test/tav2_wb_scene_list_test.npy"
        in result.stderr
    )
    assert not (tmp_path / "meta").exists()  # nothing copied before the check passed


def test_local_files_only_in_process_and_incomplete_snapshot(tmp_path: Path) -> None:
    files = reference_files(tmp_path)
    make_cache(tmp_path / "hf", files)
    result = download_metadata(tmp_path / "meta", ["ase"], cache_dir=tmp_path / "hf", offline=True)
    assert result.commit == COMMIT and result.copied == 2
    assert result.scenes == {"train/ase_scene_list_train.npy": 3, "val/ase_scene_list_val.npy": 1}

    # A cached tree listing that names a file the snapshot lacks: huggingface_hub itself reports it incomplete.
    partial = dict(files)
    dropped = "mapanything_dataset_metadata/val/ase_scene_list_val.npy"
    del partial[dropped]
    make_cache(tmp_path / "hf2", partial, tree=files)
    with pytest.raises(WaiFileNotFoundError, match="incomplete") as info:
        download_metadata(tmp_path / "meta2", ["ase"], cache_dir=tmp_path / "hf2", offline=True)
    assert dropped in str(info.value)

    with pytest.raises(WaiFileNotFoundError, match="is not in the cache"):
        download_metadata(tmp_path / "meta3", ["ase"], cache_dir=tmp_path / "empty", offline=True)


def test_corrupt_list_in_the_snapshot(tmp_path: Path) -> None:
    files = reference_files(tmp_path)
    files["mapanything_dataset_metadata/test/eth3d_scene_list_test.npy"] = b"\x93NUMPY garbage"
    make_cache(tmp_path / "hf", files)
    with pytest.raises(WaiFormatError, match=r"eth3d_scene_list_test\.npy.*not a readable"):
        download_metadata(tmp_path / "meta", ["eth3d"], cache_dir=tmp_path / "hf", offline=True)


def test_cli_offline_flag_and_missing_huggingface_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_cache(tmp_path / "hf", reference_files(tmp_path))
    args = ["metadata", "download", "--to", str(tmp_path / "meta"), "--datasets", "eth3d"]
    ok = CliRunner().invoke(main, [*args, "--offline", "--cache-dir", str(tmp_path / "hf"), "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["scenes"] == {"test/eth3d_scene_list_test.npy": 2}
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(WaiStageError, match=r"pip install 'wai-toolkit\[hub\]'"):
        download_metadata(tmp_path / "meta", ["eth3d"], offline=True)
