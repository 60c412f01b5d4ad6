"""Conformance tests run against every codec in `wai.io.FORMATS`.

A new codec is tested the day it is registered: it needs one entry in `SAMPLES` (file name, data, comparison),
and every test here runs on it. A codec without a sample fails `test_every_format_has_a_sample`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wai.atomic import TMP_MARKER
from wai.errors import WaiFileNotFoundError, WaiFormatError
from wai.io import FORMATS, Codec, load, store

RNG = np.random.default_rng(7)
H, W = 12, 17


def _unit_normals() -> np.ndarray:
    normals = RNG.normal(size=(H, W, 3))
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    normals[0, 0] = 0.0  # "no normal" is allowed too
    return normals.astype(np.float32)


def _exact(loaded: Any, data: Any) -> None:
    np.testing.assert_array_equal(np.asarray(loaded), np.asarray(data))


def _depth_half(loaded: np.ndarray, data: np.ndarray) -> None:
    assert loaded.dtype == np.float32 and loaded.shape == data.shape
    np.testing.assert_allclose(loaded, data, rtol=2.0**-11, atol=0)


def _dicts_equal(loaded: dict, data: dict) -> None:
    for key, value in data.items():
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


@dataclass
class Sample:
    filename: str
    data: Any
    check: Callable[[Any, Any], None] = _exact


SAMPLES: dict[str, Sample] = {
    "readable": Sample("meta.json", {"z": 1, "a": [1.5, "x", None], "nested": {"k": True}}),
    "image": Sample("rgb.png", RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)),
    "binary": Sample("mask.png", RNG.random((H, W)) > 0.5),
    "depth": Sample("depth.exr", RNG.uniform(0.1, 80.0, (H, W)).astype(np.float32), _depth_half),
    "scalar": Sample("conf.exr", RNG.random((H, W)).astype(np.float32)),
    "normals": Sample("normals.exr", _unit_normals()),
    "numpy": Sample("faces.npz", RNG.integers(0, 1000, (5, 3)).astype(np.int32)),
    "mmap": Sample("pairwise_covisibility.npy", RNG.random((6, 6)).astype(np.float32)),
    "labeled_image": Sample("labels.png", RNG.integers(0, 40, (H, W)).astype(np.int32)),
    "mesh": Sample(
        "cloud.ply",
        {
            "vertices": RNG.random((9, 3)).astype(np.float32),
            "faces": np.array([[0, 1, 2], [2, 3, 8]], np.int32),
        },
        _dicts_equal,
    ),
    "labeled_mesh": Sample(
        "labeled_mesh.ply",
        {
            "vertices": RNG.random((4, 3)).astype(np.float32),
            "vertices_color": RNG.integers(0, 256, (4, 3)).astype(np.uint8),
            "vertices_semantic_class_id": np.array([0, 3, 3, 7], np.int32),
            "vertices_instance_id": np.array([0, 1, 2, 2], np.int32),
            "faces": np.array([[0, 1, 2], [1, 2, 3]], np.int32),
        },
        _dicts_equal,
    ),
    "png16": Sample("depth.png", np.round(RNG.uniform(0, 60, (H, W)), 3).astype(np.float32)),
}

NAMES = sorted(FORMATS)


def test_every_format_has_a_sample() -> None:
    missing = sorted(set(FORMATS) - set(SAMPLES))
    assert not missing, f"add a Sample for the new codec(s) {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_codec_declares_its_interface(name: str) -> None:
    codec = FORMATS[name]
    assert isinstance(codec, Codec)
    assert codec.name == name
    assert codec.suffixes and all(s.startswith(".") and s == s.lower() for s in codec.suffixes)
    assert codec.description
    assert Path(SAMPLES[name].filename).suffix in codec.suffixes


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name: str, tmp_path: Path) -> None:
    sample = SAMPLES[name]
    written = store(tmp_path / "sub" / "dir" / sample.filename, sample.data, name)
    assert written.is_file()
    assert written.parent == tmp_path / "sub" / "dir"
    if not FORMATS[name].renames_on_store:
        assert written == tmp_path / "sub" / "dir" / sample.filename
    sample.check(load(written, name), sample.data)


@pytest.mark.parametrize("name", NAMES)
def test_store_leaves_no_temporaries(name: str, tmp_path: Path) -> None:
    sample = SAMPLES[name]
    store(tmp_path / sample.filename, sample.data, name)
    store(tmp_path / sample.filename, sample.data, name)  # overwrite in place
    leftovers = [p.name for p in tmp_path.rglob(f"{TMP_MARKER}*")]
    assert leftovers == []
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("name", NAMES)
def test_missing_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / SAMPLES[name].filename
    if name == "mmap":
        path = path.with_name("pairwise_covisibility--6x6.npy")
    with pytest.raises(WaiFileNotFoundError, match=path.name) as info:
        load(path, name)
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize("name", NAMES)
def test_garbage_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / SAMPLES[name].filename
    if name == "mmap":
        path = path.with_name("pairwise_covisibility--6x6.npy")
    path.write_bytes(b"this is not what the format expects\n\x00\x01")
    with pytest.raises(WaiFormatError, match=path.name):
        load(path, name)


@pytest.mark.parametrize("name", NAMES)
def test_truncated_file(name: str, tmp_path: Path) -> None:
    """Half of a valid file is reported as a format error naming the file (never a crash or a silent partial)."""
    sample = SAMPLES[name]
    written = store(tmp_path / sample.filename, sample.data, name)
    blob = written.read_bytes()
    written.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(WaiFormatError, match=written.name):
        load(written, name)


@pytest.mark.parametrize("name", NAMES)
def test_wrong_suffix(name: str, tmp_path: Path) -> None:
    with pytest.raises(WaiFormatError, match=name):
        load(tmp_path / "file.unknownsuffix", name)


@pytest.mark.parametrize("name", NAMES)
def test_damaged_file_is_a_format_error(name: str, tmp_path: Path) -> None:
    """A valid file cut at many lengths or with one byte flipped loads or raises `WaiFormatError`, nothing else."""
    sample = SAMPLES[name]
    written = store(tmp_path / sample.filename, sample.data, name)
    blob = written.read_bytes()
    rng = np.random.default_rng(len(blob))
    damaged = [blob[:cut] for cut in sorted(set(np.linspace(0, len(blob) - 1, 24).astype(int)))]
    for position in rng.integers(0, len(blob), 24):
        flipped = bytearray(blob)
        flipped[position] ^= 0xFF
        damaged.append(bytes(flipped))
    for data in damaged:
        written.write_bytes(data)
        try:
            load(written, name)
        except WaiFormatError as exc:
            assert written.name in str(exc)


def test_a_bug_inside_a_codec_is_not_reported_as_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only what a bad file raises becomes "cannot decode"; a KeyError or IndexError from the code surfaces."""
    path = store(tmp_path / "rgb.png", SAMPLES["image"].data, "image")
    for error in (KeyError("width"), IndexError("list index out of range"), ValueError("bad argument")):

        def broken(self: Codec, path: Path, error: Exception = error) -> Any:
            raise error

        monkeypatch.setattr(type(FORMATS["image"]), "load", broken)
        with pytest.raises(type(error)) as info:
            load(path, "image")
        assert not isinstance(info.value, WaiFormatError)
