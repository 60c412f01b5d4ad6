"""`labeled_image`: the reference's RGB + `id_to_color_mapping` form, both directions, and our 16-bit form."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.wai.io.helpers import PNG_SIGNATURE, png_chunk, write
from wai.errors import WaiFormatError
from wai.io import load, store
from wai.io.labeled_image import MAPPING_KEY, palette
from wai.io.png_chunks import iter_chunks, text_chunks

RNG = np.random.default_rng(9)


def _rgb_png_with_mapping(rgb: np.ndarray, mapping: dict, kind: bytes = b"tEXt") -> bytes:
    """An RGB PNG as Pillow writes the reference's id maps: pixels in colour, mapping in a text chunk."""
    ok, buffer = cv2.imencode(".png", rgb[:, :, ::-1])
    assert ok
    blob = buffer.tobytes()
    text = json.dumps(mapping).encode("latin-1")
    payload = MAPPING_KEY.encode() + b"\x00" + (b"\x00" + zlib.compress(text) if kind == b"zTXt" else text)
    cut = len(PNG_SIGNATURE) + 8 + 13 + 4
    return blob[:cut] + png_chunk(kind, payload) + blob[cut:]


def test_reference_form_round_trip(tmp_path: Path) -> None:
    ids = RNG.integers(0, 5000, (20, 30)).astype(np.int32)
    ids[:2] = 0
    path = store(tmp_path / "semantic" / "0001.png", ids, "labeled_image")
    blob = path.read_bytes()
    chunks = iter_chunks(blob, path)
    assert [c.kind for c in chunks][:2] == [b"IHDR", b"tEXt"]  # before the pixel data, where Pillow reads it
    mapping = json.loads(text_chunks(chunks, path)[MAPPING_KEY])
    assert sorted(int(k) for k in mapping) == sorted(np.unique(ids).tolist())
    assert mapping["0"] == [0, 0, 0]
    raw = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and raw.shape == (20, 30, 3)
    loaded = load(path, "labeled_image")
    assert loaded.dtype == np.int32
    np.testing.assert_array_equal(loaded, ids)


def test_pillow_sees_our_mapping(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    ids = np.array([[0, 1, 2], [65535, 2, 1]], np.int32)
    path = store(tmp_path / "ids.png", ids, "labeled_image")
    with image_module.open(path) as im:
        assert im.mode == "RGB"
        mapping = {int(k): v for k, v in json.loads(im.info[MAPPING_KEY]).items()}
        pixels = np.asarray(im)
    # the reference's decoding: look each pixel's colour up in the mapping
    lookup = {tuple(colour): key for key, colour in mapping.items()}
    decoded = np.array([[lookup[tuple(p)] for p in row] for row in pixels.tolist()])
    np.testing.assert_array_equal(decoded, ids)


@pytest.mark.parametrize("kind", [b"tEXt", b"zTXt"])
def test_reads_reference_written_file(tmp_path: Path, kind: bytes) -> None:
    table = {0: [0, 0, 0], 7: [255, 0, 10], 12: [1, 2, 3], 5410: [200, 200, 200]}
    ids = RNG.choice(list(table), size=(9, 11))
    rgb = np.array([[table[i] for i in row] for row in ids], np.uint8)
    path = write(
        tmp_path / "ref.png", _rgb_png_with_mapping(rgb, {str(k): v for k, v in table.items()}, kind)
    )
    np.testing.assert_array_equal(load(path, "labeled_image"), ids)


def test_reads_pillow_written_file(tmp_path: Path) -> None:
    image_module = pytest.importorskip("PIL.Image")
    png_plugin = pytest.importorskip("PIL.PngImagePlugin")
    table = {0: [0, 0, 0], 3: [10, 20, 30], 4: [30, 20, 10]}
    ids = np.array([[0, 3, 4], [4, 4, 3]])
    info = png_plugin.PngInfo()
    info.add_text(MAPPING_KEY, json.dumps({str(k): v for k, v in table.items()}))
    rgb = np.array([[table[i] for i in row] for row in ids], np.uint8)
    image_module.fromarray(rgb, "RGB").save(tmp_path / "pil.png", pnginfo=info)
    np.testing.assert_array_equal(load(tmp_path / "pil.png", "labeled_image"), ids)


def test_unknown_colour_is_an_error(tmp_path: Path) -> None:
    rgb = np.array([[[0, 0, 0], [9, 9, 9]]], np.uint8)
    path = write(tmp_path / "bad.png", _rgb_png_with_mapping(rgb, {"1": [1, 1, 1]}))
    with pytest.raises(WaiFormatError, match=r"bad\.png.*1 pixels have colours missing"):
        load(path, "labeled_image")


def test_rgb_without_mapping_is_an_error(tmp_path: Path) -> None:
    path = store(tmp_path / "plain.png", np.zeros((2, 2, 3), np.uint8), "image")
    with pytest.raises(WaiFormatError, match=MAPPING_KEY):
        load(path, "labeled_image")


def test_png16_form(tmp_path: Path) -> None:
    ids = RNG.integers(0, 65536, (6, 5)).astype(np.int32)
    path = store(tmp_path / "ids.png", ids, "labeled_image", form="png16")
    raw = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16 and raw.ndim == 2
    np.testing.assert_array_equal(load(path, "labeled_image"), ids)
    with pytest.raises(WaiFormatError, match="0..65535"):
        store(tmp_path / "big.png", np.array([[70000]]), "labeled_image", form="png16")


def test_store_rejects_bad_ids(tmp_path: Path) -> None:
    with pytest.raises(WaiFormatError, match="integer ids"):
        store(tmp_path / "f.png", np.zeros((2, 2), np.float32), "labeled_image")
    with pytest.raises(WaiFormatError, match=r"\[-1, 0\]"):
        store(tmp_path / "n.png", np.array([[-1, 0]]), "labeled_image")


def test_palette_is_deterministic_distinct_and_black_only_for_zero() -> None:
    ids = np.arange(0, 1 << 16)
    colours = palette(ids)
    assert colours[0].tolist() == [0, 0, 0]
    packed = (colours[:, 0].astype(np.int64) << 16) | (colours[:, 1].astype(np.int64) << 8) | colours[:, 2]
    assert len(np.unique(packed)) == len(ids)
    assert packed[1:].min() > 0
    np.testing.assert_array_equal(palette(ids), colours)


def test_itxt_chunk_cut_before_its_flags_is_a_format_error(tmp_path: Path) -> None:
    path = write(tmp_path / "x.png", PNG_SIGNATURE + png_chunk(b"iTXt", b"key\x00") + png_chunk(b"IEND", b""))
    chunks = iter_chunks(path.read_bytes(), path)
    with pytest.raises(WaiFormatError, match=r"x\.png.*iTXt chunk b'key' is cut before its flags"):
        text_chunks(chunks, path)
