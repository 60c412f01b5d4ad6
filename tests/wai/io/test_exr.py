"""EXR formats: precision, header layout (compression, pixel type, channel names) and OpenCV compatibility."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import OpenEXR
import pytest

from wai.errors import WaiFormatError
from wai.io import load, store
from wai.io.exr import header_of

RNG = np.random.default_rng(11)


def _channels(path: Path) -> dict[str, tuple[OpenEXR.PixelType, np.ndarray]]:
    with OpenEXR.File(str(path), separate_channels=True) as exr:
        return {name: (ch.type(), ch.pixels.copy()) for name, ch in exr.channels().items()}


def test_depth_half_precision_bound(tmp_path: Path) -> None:
    depth = RNG.uniform(0.01, 60000.0, (40, 50)).astype(np.float32)
    depth[0, :3] = [0.0, 1.0, 65504.0]
    loaded = load(store(tmp_path / "d.exr", depth, "depth"), "depth")
    assert loaded.dtype == np.float32 and loaded.shape == depth.shape
    relative = np.abs(loaded - depth)[depth > 0] / depth[depth > 0]
    assert float(relative.max()) <= 2.0**-11
    assert loaded[0, 0] == 0.0  # invalid stays exactly 0


def test_depth_float32_is_exact(tmp_path: Path) -> None:
    depth = RNG.uniform(0.0, 1e6, (9, 13)).astype(np.float32)
    path = store(tmp_path / "d.exr", depth, "depth", precision="float32")
    np.testing.assert_array_equal(load(path, "depth"), depth)
    assert {kind for kind, _ in _channels(path).values()} == {OpenEXR.FLOAT}


def test_depth_header_is_zip_half_y(tmp_path: Path) -> None:
    path = store(tmp_path / "d.exr", np.ones((3, 4), np.float64), "depth")
    header = header_of(path)
    assert header["compression"] == OpenEXR.ZIP_COMPRESSION
    assert int(header["compression"]) == 3  # the code OpenCV writes
    channels = _channels(path)
    assert list(channels) == ["Y"]
    assert channels["Y"][0] == OpenEXR.HALF
    assert channels["Y"][1].shape == (3, 4)


def test_depth_squeezes_and_refuses_non_2d(tmp_path: Path) -> None:
    depth = RNG.random((1, 5, 6, 1)).astype(np.float32)
    loaded = load(store(tmp_path / "d.exr", depth, "depth", precision="float32"), "depth")
    np.testing.assert_array_equal(loaded, depth[0, :, :, 0])
    with pytest.raises(WaiFormatError, match=r"2-D \(H, W\)"):
        store(tmp_path / "bad.exr", np.zeros((2, 5, 6)), "depth")


def test_depth_beyond_half_range_is_refused(tmp_path: Path) -> None:
    depth = np.array([[1.0, 70000.0]], np.float32)
    with pytest.raises(WaiFormatError, match="precision='float32'"):
        store(tmp_path / "far.exr", depth, "depth")


def test_depth_never_stores_non_finite_or_negative_values(tmp_path: Path) -> None:
    """0 marks an invalid pixel: NaN and inf are refused unless asked to become 0; negatives are refused."""
    bad = np.array([[1.0, np.inf], [np.nan, -np.inf]], np.float32)
    with pytest.raises(WaiFormatError, match="3 of 4 pixels are NaN or infinite.*nonfinite='zero'"):
        store(tmp_path / "inf.exr", bad, "depth")
    assert not (tmp_path / "inf.exr").exists()
    written = load(store(tmp_path / "inf.exr", bad, "depth", nonfinite="zero"), "depth")
    np.testing.assert_array_equal(written, [[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(
        WaiFormatError, match=r"1 pixels have negative depth \(first at row 0, column 1: -2\)"
    ):
        store(tmp_path / "neg.exr", np.array([[1.0, -2.0]], np.float32), "depth")
    with pytest.raises(WaiFormatError, match="nonfinite must be"):
        store(tmp_path / "x.exr", bad, "depth", nonfinite="keep")


def test_depth_load_refuses_three_channels(tmp_path: Path) -> None:
    path = store(tmp_path / "rgb.exr", np.zeros((2, 2, 3), np.float32), "scalar")
    with pytest.raises(WaiFormatError, match="one-channel"):
        load(path, "depth")


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
def test_scalar_any_channel_count_float32(tmp_path: Path, channels: int) -> None:
    data = RNG.normal(size=(6, 7, channels)).astype(np.float32)
    path = store(tmp_path / "s.exr", data[..., 0] if channels == 1 else data, "scalar")
    assert header_of(path)["compression"] == OpenEXR.ZIP_COMPRESSION
    assert {kind for kind, _ in _channels(path).values()} == {OpenEXR.FLOAT}
    loaded = load(path, "scalar")
    np.testing.assert_array_equal(loaded, data[..., 0] if channels == 1 else data)


def test_normals_channel_mapping_is_opencv_bgr(tmp_path: Path) -> None:
    normals = np.zeros((2, 3, 3), np.float32)
    normals[..., 0] = 1.0  # +x everywhere
    normals[1, 2] = [0.0, 0.0, 1.0]  # +z at one pixel
    path = store(tmp_path / "n.exr", normals, "normals")
    channels = _channels(path)
    assert sorted(channels) == ["B", "G", "R"]
    assert all(kind == OpenEXR.FLOAT for kind, _ in channels.values())
    np.testing.assert_array_equal(channels["B"][1], normals[..., 0])  # x -> B
    np.testing.assert_array_equal(channels["G"][1], normals[..., 1])
    np.testing.assert_array_equal(channels["R"][1], normals[..., 2])  # z -> R
    np.testing.assert_array_equal(load(path, "normals"), normals)


def test_normals_accept_channel_first(tmp_path: Path) -> None:
    normals = np.zeros((3, 4, 5), np.float32)
    normals[1] = -1.0  # (3, H, W), every normal is -y
    loaded = load(store(tmp_path / "n.exr", normals, "normals"), "normals")
    assert loaded.shape == (4, 5, 3)
    np.testing.assert_array_equal(loaded[..., 1], -1.0)


def test_normals_validation(tmp_path: Path) -> None:
    normals = np.zeros((4, 4, 3), np.float32)
    normals[..., 2] = 1.0
    normals[2, 3] = [0.5, 0.0, 0.5]  # norm 0.707: neither unit nor zero
    with pytest.raises(WaiFormatError, match=r"n\.exr.*1 pixels.*row 2, column 3"):
        store(tmp_path / "n.exr", normals, "normals")
    assert not (tmp_path / "n.exr").exists()
    normals[2, 3] = [0.0, 0.0, 1.0005]  # within the 1e-3 tolerance
    store(tmp_path / "n.exr", normals, "normals")


def test_normals_load_refuses_one_channel(tmp_path: Path) -> None:
    path = store(tmp_path / "d.exr", np.ones((2, 2), np.float32), "depth")
    with pytest.raises(WaiFormatError, match="3-channel"):
        load(path, "normals")


def test_reads_channels_written_by_another_tool(tmp_path: Path) -> None:
    """A file written RGB-first with other names still maps R -> channel 2 and reads HALF as float32."""
    path = tmp_path / "other.exr"
    planes = {
        name: np.full((2, 2), value, np.float16) for name, value in (("R", 3.0), ("G", 2.0), ("B", 1.0))
    }
    header = {"compression": OpenEXR.PIZ_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, planes) as exr:
        exr.write(str(path))
    loaded = load(path, "scalar")
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded[0, 0], [1.0, 2.0, 3.0])


def test_uint_channels_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "ids.exr"
    with OpenEXR.File({"type": OpenEXR.scanlineimage}, {"Y": np.ones((2, 2), np.uint32)}) as exr:
        exr.write(str(path))
    with pytest.raises(WaiFormatError, match="UINT"):
        load(path, "depth")


# Runs under an OpenCV that can do EXR: reads our file (argv 1) into argv 2, and writes the array in argv 3 the way
# the reference does (depth as HALF) to argv 4. WAI_EXR_CV2_PYTHON may name another interpreter whose cv2 has EXR
# (e.g. a venv with opencv-python-headless==4.10.0.84, the reference's pin).
_CV2_SCRIPT = """
import sys
import cv2
import numpy as np
image = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
if image is None:
    sys.exit(3)
np.save(sys.argv[2], image)
params = [cv2.IMWRITE_EXR_TYPE, cv2.IMWRITE_EXR_TYPE_HALF] if sys.argv[5] == "depth" else []
if not cv2.imwrite(sys.argv[4], np.load(sys.argv[3]), params):
    sys.exit(4)
"""


def _cv2_round_trip(ours: Path, reference_data: np.ndarray, fmt: str, tmp: Path) -> tuple[np.ndarray, Path]:
    """(what OpenCV reads from our file, path of a file OpenCV wrote from `reference_data`)."""
    python = os.environ.get("WAI_EXR_CV2_PYTHON", sys.executable)
    env = {**os.environ, "OPENCV_IO_ENABLE_OPENEXR": "1"}
    np.save(tmp / "ref.npy", reference_data)
    args = [
        python,
        "-c",
        _CV2_SCRIPT,
        str(ours),
        str(tmp / "cv2.npy"),
        str(tmp / "ref.npy"),
        str(tmp / "ref.exr"),
    ]
    result = subprocess.run([*args, fmt], env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.skip(
            "the installed OpenCV cannot read EXR even with OPENCV_IO_ENABLE_OPENEXR=1 (opencv-python 5.x wheels "
            "are built without OpenEXR; set WAI_EXR_CV2_PYTHON to a Python whose cv2 has it). "
            f"stderr: {result.stderr.strip()[-200:]}"
        )
    return np.load(tmp / "cv2.npy"), tmp / "ref.exr"


@pytest.mark.parametrize("fmt", ["depth", "normals", "scalar"])
def test_opencv_compatibility_both_ways(tmp_path: Path, fmt: str) -> None:
    if fmt == "normals":
        data = np.zeros((3, 4, 3), np.float32)
        data[..., 0], data[0, 0] = 1.0, [0.0, 0.6, 0.8]
    else:
        data = RNG.uniform(0.5, 20.0, (3, 4)).astype(np.float32)
    path = store(tmp_path / f"{fmt}.exr", data, fmt)
    read_back, reference_file = _cv2_round_trip(path, data, fmt, tmp_path)
    assert read_back.dtype == np.float32
    np.testing.assert_array_equal(read_back, load(path, fmt))
    # and a file OpenCV wrote loads in ours with the same channel order and the same header layout
    np.testing.assert_array_equal(load(reference_file, fmt), load(path, fmt))
    assert header_of(reference_file)["compression"] == OpenEXR.ZIP_COMPRESSION
    assert sorted(_channels(reference_file)) == sorted(_channels(path))
