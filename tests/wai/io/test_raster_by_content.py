"""Raster files are decoded by content: a JPEG behind a `.png` name (the reference's ETH3D links) loads, and a
truncated real PNG is still refused."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from wai import io
from wai.errors import WaiFormatError


def test_jpeg_named_png_loads(tmp_path: Path) -> None:
    rgb = np.zeros((6, 8, 3), np.uint8)
    rgb[:] = (200, 40, 10)  # flat colour: JPEG keeps it within a few levels
    ok, jpeg = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    assert ok
    path = tmp_path / "DSC_0001.png"
    path.write_bytes(jpeg.tobytes())
    loaded = io.load(path, "image")
    assert loaded.shape == (6, 8, 3)
    assert np.abs(loaded.astype(int) - rgb).max() <= 8


def test_truncated_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    io.store(path, np.full((6, 8, 3), 90, np.uint8), "image")
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(WaiFormatError, match="IEND"):
        io.load(path, "image")
