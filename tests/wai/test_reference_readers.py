"""A scene we write must load in the reference's readers. These tests read our output the way the MapAnything
release does (spec sections 1.6, 2.3, 2.5, 2.7, 2.9), using only plain libraries, not `wai`'s own readers."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

import wai
from tests.factories import H, W, make_scene


def reference_load_meta(scene_dir: Path) -> dict:
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    meta["frame_names"] = {frame["frame_name"]: i for i, frame in enumerate(meta["frames"])}
    return meta


def reference_intrinsics(meta: dict, frame: dict) -> np.ndarray:
    """The reference's K builder: each coefficient from the frame if present, else from the scene; PINHOLE only."""
    model = frame.get("camera_model", meta.get("camera_model"))
    assert model == "PINHOLE"
    for key in ("k1", "k2", "k3", "k4", "p1", "p2"):
        assert frame.get(key, meta.get(key, 0)) == 0
    fx, fy, cx, cy = (frame.get(k, meta.get(k)) for k in ("fl_x", "fl_y", "cx", "cy"))
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64)


def test_scene_we_write_loads_the_reference_way(tmp_path: Path) -> None:
    scene_dir = make_scene(tmp_path / "s", n_frames=2)
    meta = reference_load_meta(scene_dir)
    ours = wai.open_scene(scene_dir)
    assert set(meta["frame_names"]) == {"000000", "000001"}
    for name, index in meta["frame_names"].items():
        frame = meta["frames"][index]
        extrinsics = np.asarray(frame["transform_matrix"], dtype=np.float64).reshape(4, 4)
        np.testing.assert_array_equal(extrinsics, ours.frame(name).cam2world)
        np.testing.assert_array_equal(reference_intrinsics(meta, frame), ours.frame(name).intrinsics)
        leaf = meta["frame_modalities"]["depth"]
        assert leaf["format"] == "depth"
        with OpenEXR.File(str(scene_dir / frame[leaf["frame_key"]]), separate_channels=True) as exr:
            header = exr.header()
            assert header["compression"] == OpenEXR.ZIP_COMPRESSION
            channels = exr.channels()
            assert list(channels) == ["Y"] and channels["Y"].pixels.dtype == np.float16
            depth = channels["Y"].pixels.astype(np.float32)
        np.testing.assert_array_equal(depth, ours.frame(name).depth)
        image = cv2.imread(str(scene_dir / frame[meta["frame_modalities"]["image"]["frame_key"]]))
        np.testing.assert_array_equal(image[:, :, ::-1], ours.frame(name).image)
        assert frame["file_path"] == frame["image"]


def test_masks_are_zero_or_255_so_the_reference_mode_1_conversion_is_exact(tmp_path: Path) -> None:
    mask = np.zeros((H, W), bool)
    mask[3:9, 5:20] = True
    path = wai.store(tmp_path / "m.png", mask, "binary")
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and raw.ndim == 2
    assert set(np.unique(raw)) == {0, 255}


@pytest.mark.parametrize("n", [3, 17, 812])
def test_covisibility_opens_with_the_reference_fixed_offset(tmp_path: Path, n: int) -> None:
    """The reference parses the shape from the file name and memory-maps float32 at a fixed 128-byte offset."""
    matrix = np.random.default_rng(n).random((n, n), dtype=np.float32)
    path = Path(wai.store(tmp_path / "covisibility/v0/pairwise_covisibility.npy", matrix, "mmap"))
    shape = tuple(int(d) for d in path.stem.split("--")[1].split("x"))
    mapped = np.memmap(path, dtype=np.float32, mode="r", offset=128, shape=shape)
    np.testing.assert_array_equal(mapped, matrix)
    np.testing.assert_array_equal(np.load(path), matrix)
