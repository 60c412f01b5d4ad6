"""`numpy` and `mmap`: the npz `arr_0` convention, the covisibility file name and the NPY header."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from wai.errors import WaiFormatError
from wai.io import load, store

RNG = np.random.default_rng(5)


def test_npz_keeps_the_array_under_arr_0(tmp_path: Path) -> None:
    faces = RNG.integers(0, 100, (7, 3)).astype(np.int32)
    path = store(tmp_path / "rendered_mesh_faces" / "0001.npz", faces)
    with np.load(path) as archive:
        assert archive.files == ["arr_0"]
        np.testing.assert_array_equal(archive["arr_0"], faces)
    loaded = load(path)
    assert loaded.dtype == np.int32
    np.testing.assert_array_equal(loaded, faces)


def test_npz_with_several_arrays(tmp_path: Path) -> None:
    arrays = {"a": np.arange(3), "b": np.eye(2)}
    path = store(tmp_path / "many.npz", arrays, "numpy")
    with pytest.raises(WaiFormatError, match=r"many\.npz.*no array 'arr_0'.*all_arrays=True"):
        load(path)
    loaded = load(path, all_arrays=True)
    assert sorted(loaded) == ["a", "b"]
    np.testing.assert_array_equal(loaded["b"], np.eye(2))
    np.savez(tmp_path / "plain.npz", np.ones(2), extra=np.zeros(1))  # arr_0 plus another: arr_0 wins
    np.testing.assert_array_equal(load(tmp_path / "plain.npz"), np.ones(2))


def test_npy_round_trip_keeps_dtype(tmp_path: Path) -> None:
    data = RNG.random((3, 4)).astype(np.float16)
    loaded = load(store(tmp_path / "x.npy", data))
    assert loaded.dtype == np.float16
    np.testing.assert_array_equal(loaded, data)


def test_pickles_are_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(WaiFormatError, match=r"obj\.npy"):
        load(tmp_path / "obj.npy")
    with pytest.raises(WaiFormatError, match="object"):
        store(tmp_path / "obj2.npy", np.array([{"a": 1}], dtype=object))


def test_mmap_name_shape_and_header(tmp_path: Path) -> None:
    matrix = RNG.random((23, 23))  # float64 in, float32 on disk
    requested = tmp_path / "covisibility" / "v0" / "pairwise_covisibility.npy"
    written = store(requested, matrix, "mmap")
    assert written == requested.with_name("pairwise_covisibility--23x23.npy")
    assert not requested.exists()
    blob = written.read_bytes()
    assert blob[:8] == b"\x93NUMPY\x01\x00"  # NPY v1.0
    assert 10 + int.from_bytes(blob[8:10], "little") == 128  # the offset the reference's loader assumes
    reference_view = np.frombuffer(blob, np.float32, offset=128).reshape(23, 23)
    np.testing.assert_array_equal(reference_view, matrix.astype(np.float32))
    loaded = load(written, "mmap")
    assert isinstance(loaded, np.memmap) and loaded.dtype == np.float32
    assert not loaded.flags.writeable
    np.testing.assert_array_equal(loaded, matrix.astype(np.float32))
    np.testing.assert_array_equal(np.load(written), loaded)  # downstream code also uses plain np.load


def test_mmap_store_drops_requested_suffix_and_old_shape(tmp_path: Path) -> None:
    data = np.zeros((2, 3, 4), np.float32)
    assert store(tmp_path / "m.bin", data, "mmap").name == "m--2x3x4.npy"
    assert store(tmp_path / "m--2x3x4.npy", data, "mmap").name == "m--2x3x4.npy"
    assert store(tmp_path / "m--9x9.npy", data, "mmap").name == "m--2x3x4.npy"


def test_mmap_reads_the_real_header_length(tmp_path: Path) -> None:
    """A valid NPY file with a 256-byte header loads, where the reference's fixed 128-byte offset would misread it."""
    matrix = RNG.random((4, 4)).astype(np.float32)
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }"
    header = header.ljust(256 - 10 - 1) + b"\n"
    path = tmp_path / "c--4x4.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + matrix.tobytes())
    np.testing.assert_array_equal(np.load(path), matrix)  # numpy agrees the file is valid
    np.testing.assert_array_equal(load(path, "mmap"), matrix)


def test_mmap_comma_separated_shape(tmp_path: Path) -> None:
    path = tmp_path / "c--3,5.npy"
    np.save(path, np.ones((3, 5), np.float32))
    assert load(path, "mmap").shape == (3, 5)


@pytest.mark.parametrize(
    ("name", "array", "message"),
    [
        ("c--4x5.npy", np.ones((4, 4), np.float32), r"name says shape \(4, 5\).*header says \(4, 4\)"),
        ("c--4x4.npy", np.ones((4, 4), np.float64), "float32"),
        ("c.npy", np.ones((4, 4), np.float32), "--<d0>x<d1>"),
    ],
)
def test_mmap_refuses(tmp_path: Path, name: str, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / name, array)
    with pytest.raises(WaiFormatError, match=message):
        load(tmp_path / name, "mmap")


def test_mmap_truncated_data(tmp_path: Path) -> None:
    path = store(tmp_path / "c.npy", np.ones((8, 8)), "mmap")
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(WaiFormatError, match=r"c--8x8\.npy.*truncated"):
        load(path, "mmap")
