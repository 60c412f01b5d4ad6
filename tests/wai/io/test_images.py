"""`image`, `binary` and `png16`: channel and bit-depth handling, masks from other writers, scaling."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.realdata import REALDATA
from tests.wai.io.helpers import one_bit_png, write
from wai.errors import WaiFormatError
from wai.io import load, store

REDKITCHEN_DIR = REALDATA / "redkitchen_rgbd"


def _bgr_file(path: Path, pixels: np.ndarray) -> Path:
    ok, buffer = cv2.imencode(path.suffix, pixels)
    assert ok
    return write(path, buffer.tobytes())


def test_image_is_rgb_not_bgr(tmp_path: Path) -> None:
    pixels = np.zeros((2, 3, 3), np.uint8)
    pixels[..., 2] = 200  # red in OpenCV's BGR order
    rgb = load(_bgr_file(tmp_path / "red.png", pixels), "image")
    assert rgb.shape == (2, 3, 3) and rgb.dtype == np.uint8
    assert (rgb[..., 0] == 200).all() and (rgb[..., 1:] == 0).all()


def test_grey_and_rgba_become_rgb(tmp_path: Path) -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    loaded = load(_bgr_file(tmp_path / "grey.png", grey), "image")
    assert loaded.shape == (3, 4, 3)
    assert all((loaded[..., c] == grey).all() for c in range(3))
    bgra = np.dstack([grey, grey + 1, grey + 2, np.full_like(grey, 7)])
    loaded = load(_bgr_file(tmp_path / "rgba.png", bgra), "image")
    np.testing.assert_array_equal(loaded, np.dstack([grey + 2, grey + 1, grey]))


def test_sixteen_bit_png_is_scaled_not_truncated(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32896, 65535]], np.uint16)
    loaded = load(_bgr_file(tmp_path / "deep.png", values), "image")
    np.testing.assert_array_equal(loaded[0, :, 0], [0, 1, 128, 255])


def test_float_image_is_clipped_and_rounded(tmp_path: Path) -> None:
    data = np.array([[[-0.5, 0.5, 1.7], [0.2, 1.0, 0.0]]], np.float32)
    loaded = load(store(tmp_path / "f.png", data, "image"), "image")
    np.testing.assert_array_equal(loaded, [[[0, 128, 255], [51, 255, 0]]])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((4, 4), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((4, 4, 3), np.int64), "uint8 or float"),
        (np.full((4, 4, 3), np.nan, np.float32), "NaN"),
    ],
)
def test_image_store_rejects(tmp_path: Path, data: np.ndarray, message: str) -> None:
    with pytest.raises(WaiFormatError, match=message):
        store(tmp_path / "bad.png", data, "image")


def test_jpeg_is_high_quality_without_chroma_subsampling(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    jpeg_plugin = pytest.importorskip("PIL.JpegImagePlugin")
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
    path = store(tmp_path / "frame.jpg", data, "image")
    with image_module.open(path) as im:
        assert jpeg_plugin.get_sampling(im) == 0  # 0 means 4:4:4
        assert im.mode == "RGB"
        pil_pixels = np.asarray(im)
    ours = load(path, "image")
    assert (
        np.abs(ours.astype(int) - pil_pixels.astype(int)).max() <= 2
    )  # same decoder family, same orientation


def test_mask_from_pil_style_one_bit_png(tmp_path: Path) -> None:
    mask = np.zeros((5, 11), bool)  # width not a multiple of 8: rows are padded
    mask[1:4, 2:9] = True
    mask[0, 10] = True
    loaded = load(write(tmp_path / "mask.png", one_bit_png(mask)), "binary")
    assert loaded.dtype == np.bool_
    np.testing.assert_array_equal(loaded, mask)


def test_mask_is_stored_as_exact_0_255_grey(tmp_path: Path) -> None:
    mask = np.eye(4, 6, dtype=bool)
    path = store(tmp_path / "mask.png", mask[None], "binary")  # (1, H, W) squeezes
    raw = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and raw.ndim == 2
    assert set(np.unique(raw)) == {0, 255}
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(path) as im:
        # the reference converts L to 1 (dithering); exact 0/255 survives it unchanged
        np.testing.assert_array_equal(np.asarray(im.convert("1")), mask)


def test_jpeg_mask_is_thresholded(tmp_path: Path) -> None:
    yy, xx = np.mgrid[:48, :48]
    mask = (yy - 20.3) ** 2 + (xx - 25.1) ** 2 < 13.0**2  # curved edges ring under JPEG
    path = store(tmp_path / "mask.jpg", mask, "binary", quality=60)
    raw = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert len(np.unique(raw)) > 2  # lossy: ringing values around the edges
    np.testing.assert_array_equal(load(path, "binary"), mask)


def test_mask_threshold_is_above_127(tmp_path: Path) -> None:
    grey = np.array([[0, 127, 128, 255]], np.uint8)
    loaded = load(_bgr_file(tmp_path / "m.png", grey), "binary")
    np.testing.assert_array_equal(loaded, [[False, False, True, True]])


def test_sixteen_bit_mask_is_refused(tmp_path: Path) -> None:
    path = _bgr_file(tmp_path / "m16.png", np.zeros((2, 2), np.uint16))
    with pytest.raises(WaiFormatError, match="8-bit mask"):
        load(path, "binary")


def test_truncated_png_names_the_file(tmp_path: Path) -> None:
    path = store(tmp_path / "images" / "000001.png", np.zeros((40, 40, 3), np.uint8), "image")
    blob = path.read_bytes()
    path.write_bytes(blob[:-15])
    with pytest.raises(WaiFormatError, match=r"000001\.png.*truncated"):
        load(path, "image")


@pytest.mark.parametrize("suffix", [".jpg", ".webp"])
def test_truncated_lossy_image(tmp_path: Path, suffix: str) -> None:
    data = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = store(tmp_path / f"frame{suffix}", data, "image")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(WaiFormatError, match=f"frame\\{suffix}.*cannot decode"):
        load(path, "image")


def test_png16_scale_and_zero(tmp_path: Path) -> None:
    depth = np.array([[0.0, 1.0, 2.5004, 65.535]], np.float32)
    path = store(tmp_path / "d.png", depth, "png16", scale=1000)
    raw = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16
    np.testing.assert_array_equal(raw, [[0, 1000, 2500, 65535]])
    loaded = load(path, "png16", scale=1000)
    assert loaded.dtype == np.float32 and loaded[0, 0] == 0.0
    np.testing.assert_allclose(loaded, [[0.0, 1.0, 2.5, 65.535]], rtol=1e-6)
    np.testing.assert_allclose(load(path, "png16", scale=5000), loaded / 5, rtol=1e-6)


@pytest.mark.parametrize("bad", [-0.01, 65.536, np.inf])
def test_png16_rejects_out_of_range(tmp_path: Path, bad: float) -> None:
    with pytest.raises(WaiFormatError, match="uint16 range|finite"):
        store(tmp_path / "d.png", np.array([[1.0, bad]]), "png16", scale=1000)


def test_png16_invalid_marker(tmp_path: Path) -> None:
    path = _bgr_file(tmp_path / "d.png", np.array([[1500, 65535]], np.uint16))
    np.testing.assert_array_equal(load(path, "png16", invalid=65535), [[1.5, 0.0]])


def test_png16_reads_seven_scenes_depth() -> None:
    path = REDKITCHEN_DIR / "frame-000000.depth.png"
    if not path.is_file():
        pytest.skip("real 7-Scenes sample not available")
    depth = load(path, "png16", scale=1000.0)
    assert depth.shape == (480, 640) and depth.dtype == np.float32
    valid = depth[depth > 0]
    assert valid.size > 0.5 * depth.size
    assert 0.3 < float(np.median(valid)) < 4.0  # a kitchen seen by a Kinect, in metres


def test_pil_reads_our_png_image(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    data = np.random.default_rng(3).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = store(tmp_path / "x.png", data, "image")
    with image_module.open(io.BytesIO(path.read_bytes())) as im:
        assert im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), data)
