"""`run_pack` as a stage: reruns skip, overwrite repacks, crashes leave nothing a reader accepts, bad input is named."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wai
from tests.wai.pack.fixtures import convert_synthetic, make_mixed_scene
from wai.errors import WaiError, WaiFormatError, WaiStageError
from wai.pack import run_pack
from wai.pack.writer import _SceneWriter


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return convert_synthetic(tmp_path / "synthetic")


def test_rerun_skips_and_overwrite_repacks(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "stores"
    assert len(run_pack(root, out, progress=False).done) == 2
    again = run_pack(root, out, progress=False)
    assert not again.done and len(again.skipped) == 2
    assert len(run_pack(root, out, overwrite=True, progress=False).done) == 2
    log = json.loads((out / "room_000.zarr" / "_process_log.json").read_text())
    assert log["pack"]["state"] == "finished"


def test_shard_packs_every_other_scene(root: Path, tmp_path: Path) -> None:
    report = run_pack(root, tmp_path / "stores", shard=(1, 2), progress=False)
    assert [o.scene for o in report.done] == ["room_000.zarr"]
    assert not (tmp_path / "stores" / "objects_001.zarr").exists()


def test_outdated_stores_are_refused_without_overwrite(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "stores"
    run_pack(root, out, progress=False)
    with pytest.raises(
        WaiStageError, match=r"room_000 \(packed at full size, asked for \(32, 24\)\).*--overwrite"
    ):
        run_pack(root, out, resolution=(32, 24), progress=False)
    scene = wai.open_scene(root / "room_000")
    scene.meta["note"] = "changed"
    scene.save_meta()
    with pytest.raises(WaiStageError, match=r"room_000 \(its scene_meta.json changed"):
        run_pack(root, out, progress=False)
    assert len(run_pack(root, out, overwrite=True, progress=False).done) == 2
    assert wai.open_scene(out / "room_000.zarr").meta["note"] == "changed"


def test_a_crash_mid_pack_leaves_a_refused_store_that_the_rerun_redoes(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "stores"
    original = _SceneWriter.frame_modality

    def crash_on_mask(self: _SceneWriter, name: str):  # type: ignore[no-untyped-def]
        if name == "mask":
            raise RuntimeError("power cut")
        return original(self, name)

    monkeypatch.setattr(_SceneWriter, "frame_modality", crash_on_mask)
    report = run_pack(root, out, progress=False)
    assert len(report.failed) == 2 and "power cut" in report.failed[0].reason
    assert (out / "room_000.zarr" / "frames" / "depth").is_dir()  # half-written...
    with pytest.raises(WaiFormatError, match="incomplete packed store"):
        wai.open_scene(out / "room_000.zarr")  # ...and refused
    monkeypatch.setattr(_SceneWriter, "frame_modality", original)
    assert len(run_pack(root, out, progress=False).done) == 2
    packed = wai.open_scene(out / "room_000.zarr")
    np.testing.assert_array_equal(
        packed.frames[2].load("mask"), wai.open_scene(root / "room_000").frames[2].load("mask")
    )


def test_truncated_image_fails_the_scene_naming_scene_and_file(tmp_path: Path) -> None:
    scene_dir = make_mixed_scene(tmp_path / "src" / "mixed_000")
    image = scene_dir / "images" / "000001.png"
    image.write_bytes(image.read_bytes()[:100])
    report = run_pack(scene_dir, tmp_path / "out", progress=False)
    (failure,) = report.failed
    assert "scene 'mixed_000'" in failure.reason and "000001.png" in failure.reason


def test_unfinished_scene_is_reported_not_skipped(root: Path, tmp_path: Path) -> None:
    (root / "room_000" / "scene_meta.json").unlink()
    report = run_pack(root, tmp_path / "out", progress=False)
    assert [o.scene for o in report.failed] == ["room_000.zarr"]
    assert "scene_meta.json" in report.failed[0].reason


def test_bad_arguments_are_refused_before_any_scene(root: Path, tmp_path: Path) -> None:
    with pytest.raises(WaiError, match="no such scene folder"):
        run_pack(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(WaiStageError, match="inside the source"):
        run_pack(root, root / "packed")
    with pytest.raises(WaiError, match="unknown scene"):
        run_pack(root, tmp_path / "out", scenes=["nope"])
