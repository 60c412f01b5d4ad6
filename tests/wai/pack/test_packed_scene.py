"""Packed stores read back through `wai.open_scene` exactly as their folders: locally and through fsspec URLs."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import fsspec
import numpy as np
import pytest

import wai
from tests.wai.pack.fixtures import assert_same_scene, convert_synthetic, make_mixed_scene
from wai.errors import WaiFormatError
from wai.pack import pack_scene, run_pack


@pytest.fixture(scope="module")
def packed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("pack")
    root = convert_synthetic(base / "synthetic")
    make_mixed_scene(root / "mixed_000")
    report = run_pack(root, base / "stores", progress=False)
    assert len(report.done) == 3 and not report.failed, report.summary()
    return root, base / "stores"


def _scenes(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def test_every_modality_of_every_frame_is_identical(packed: tuple[Path, Path]) -> None:
    root, stores = packed
    for name in _scenes(root):
        assert_same_scene(wai.open_scene(root / name), wai.open_scene(stores / f"{name}.zarr"))


def test_store_layout_keeps_image_bytes_and_decoded_maps(packed: tuple[Path, Path]) -> None:
    root, stores = packed
    scene = wai.open_scene(stores / "room_000.zarr")
    frame = scene.frames[1]
    stored = scene.storage.info.frames["image"]
    length = int(scene.storage.group[f"{stored.group}/length"][1])
    blob = scene.storage.group[f"{stored.group}/bytes"][1, :length].tobytes()
    assert blob == (root / "room_000" / frame.raw["image"]).read_bytes()
    assert scene.storage.group["frames/depth/data"].dtype == np.float32
    mixed = wai.open_scene(stores / "mixed_000.zarr")
    assert mixed.storage.group["frames/mask/data"].dtype == np.bool_
    assert mixed.storage.group["frames/depth_confidence/data"].shape == (
        3,
        30,
        40,
        2,
    )  # padded to the largest
    np.testing.assert_array_equal(mixed.storage.group["frames/depth_confidence/shape"][1], [28, 36, 2])
    assert mixed.storage.info.frames["sensor_depth"].kind == "encoded" and not mixed.frames[1].has(
        "sensor_depth"
    )
    folder = wai.open_scene(root / "mixed_000")
    np.testing.assert_array_equal(  # load options reach the codec of an encoded modality
        mixed.frames[2].load("sensor_depth", scale=500.0), folder.frames[2].load("sensor_depth", scale=500.0)
    )
    with pytest.raises(WaiFormatError, match="no entry for modality 'sensor_depth'"):
        mixed.frames[1].load("sensor_depth")


def test_a_file_url_of_a_scene_folder_opens_the_folder(packed: tuple[Path, Path]) -> None:
    root, _ = packed
    scene = wai.open_scene((root / "room_000").as_uri())
    assert scene.storage.has_files and scene.path == root / "room_000"


def test_scene_name_addresses_a_packed_root(packed: tuple[Path, Path]) -> None:
    _, stores = packed
    scene = wai.open_scene(stores / "room_000")
    assert scene.name == "room_000" and scene.storage.location.endswith("room_000.zarr")


@pytest.mark.parametrize("protocol", ["memory", "file"])
def test_fsspec_urls_read_the_same_values(packed: tuple[Path, Path], protocol: str) -> None:
    root, stores = packed
    for name in _scenes(root):
        if protocol == "memory":
            fs = fsspec.filesystem("memory")
            fs.put(str(stores / f"{name}.zarr"), f"/wai-test/{name}.zarr", recursive=True)
            url = f"memory://wai-test/{name}.zarr"
        else:
            url = (stores / f"{name}.zarr").as_uri()
        scene = wai.open_scene(url)
        assert scene.storage.location == url
        assert_same_scene(wai.open_scene(root / name), scene)


def test_a_packed_scene_pickles_to_workers(packed: tuple[Path, Path]) -> None:
    _, stores = packed
    scene = wai.open_scene(stores / "mixed_000.zarr")
    assert scene.frames[0].depth.shape == (30, 40)  # handles cached before pickling
    copy = pickle.loads(pickle.dumps(scene))
    np.testing.assert_array_equal(copy.frames[2].load("normals"), scene.frames[2].load("normals"))


def test_folder_only_operations_say_the_scene_is_packed(packed: tuple[Path, Path]) -> None:
    _, stores = packed
    scene = wai.open_scene(stores / "mixed_000.zarr")
    with pytest.raises(WaiFormatError, match="packed store"):
        scene.frames[0].path("image")
    with pytest.raises(WaiFormatError, match="read-only packed store"):
        scene.write_frame_modality("mask", 0, np.zeros((30, 40), bool), format="binary")
    with pytest.raises(WaiFormatError, match="read-only packed store"):
        scene.save_meta()
    with pytest.raises(WaiFormatError, match="do not apply to a packed array"):
        scene.frames[0].load("depth", precision="half")
    with pytest.raises(wai.WaiFileNotFoundError, match="version 'v9'"):
        scene.covisibility("v9")
    with pytest.raises(WaiFormatError, match="unknown modality 'sky'"):
        scene.frames[0].load("sky")


def test_incomplete_store_is_refused_with_scene_and_file(tmp_path: Path) -> None:
    scene_dir = make_mixed_scene(tmp_path / "src" / "mixed_000")
    store = tmp_path / "out" / "mixed_000.zarr"
    pack_scene(scene_dir, store)
    text = (store / "zarr.json").read_text()
    (store / "zarr.json").write_text(text.replace('"complete": true', '"complete": false'))
    with pytest.raises(
        WaiFormatError, match=r"scene 'mixed_000', file '.*mixed_000.zarr'.*incomplete packed"
    ):
        wai.open_scene(store)
    with pytest.raises(wai.WaiFileNotFoundError, match="no packed scene store"):
        wai.open_scene(tmp_path / "out" / "nothing.zarr")


def test_corrupt_chunk_names_scene_frame_and_array(tmp_path: Path) -> None:
    scene_dir = make_mixed_scene(tmp_path / "src" / "mixed_000")
    store = tmp_path / "out" / "mixed_000.zarr"
    pack_scene(scene_dir, store)
    chunk = store / "frames" / "depth" / "data" / "c" / "1" / "0" / "0"
    chunk.write_bytes(chunk.read_bytes()[:20])
    scene = wai.open_scene(store)
    np.testing.assert_array_equal(scene.frames[0].depth, wai.open_scene(scene_dir).frames[0].depth)
    with pytest.raises(WaiFormatError, match=r"scene 'mixed_000', frame '000001'.*array 'frames/depth'"):
        _ = scene.frames[1].depth


def test_import_wai_and_wai_pack_stay_light() -> None:
    code = (
        "import sys, wai, wai.pack; print(sorted(m for m in ('zarr', 'fsspec', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_wai_info_reads_packed_stores_and_roots(packed: tuple[Path, Path]) -> None:
    from wai.info import info

    root, stores = packed
    one = info(stores / "mixed_000.zarr")
    assert one.ok and [s.name for s in one.scenes] == ["mixed_000"]
    (scene,) = one.scenes
    assert scene.frames == 3 and scene.covisibility == ["covisibility/v0"]
    assert "pred_depth/moge2" in scene.frame_modalities and scene.depth_min is not None
    folder = info(root / "mixed_000").scenes[0]
    assert (scene.depth_min, scene.depth_max) == (folder.depth_min, folder.depth_max)
    everything = info(stores)
    assert everything.ok and sorted(s.name for s in everything.scenes) == [
        "mixed_000",
        "objects_001",
        "room_000",
    ]
