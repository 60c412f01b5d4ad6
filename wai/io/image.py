"""`image`: RGB frames as PNG, JPEG or WebP; (H, W, 3) uint8 RGB in memory.

Grey and grey+alpha files are expanded to three channels and alpha is dropped, explicitly, so every loaded image has
the same shape. 16-bit PNGs are scaled to 8 bits by value (round(v / 257)), never truncated or read as 0..65535.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from wai.io.codec import Codec, as_array, format_error
from wai.io.raster import RASTER_SUFFIXES, decode_raster, encode_params, read_raster, to_rgb, write_raster


def rgb_from_array(data: Any, path: Path, fmt: str) -> np.ndarray:
    """Validate an image for writing: (H, W, 3) uint8, or float in [0, 1] (clipped, then rounded to 0..255)."""
    array = as_array(data, path, fmt)
    if array.ndim != 3 or array.shape[2] != 3:
        raise format_error(path, fmt, f"expected an (H, W, 3) RGB array, got shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise format_error(path, fmt, "float image contains NaN or infinite values")
        return np.rint(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)
    raise format_error(path, fmt, f"expected uint8 or float in [0, 1], got dtype {array.dtype}")


def rgb_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """Decoded raster pixels as (H, W, 3) uint8 RGB: 16-bit scaled by value, grey expanded, alpha dropped."""
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return to_rgb(pixels)


def image_from_bytes(blob: bytes, name: str | Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB from the encoded bytes of an image file (`name` is used in errors), as `load` gives."""
    return rgb_from_pixels(decode_raster(blob, name, ImageCodec.name))


class ImageCodec(Codec):
    """RGB image. Options: load none; store `quality` (JPEG/WebP, default 95), `png_compression` (0-9, default 1)."""

    name = "image"
    per_pixel = True
    suffixes = RASTER_SUFFIXES
    description = "RGB image (PNG/JPEG/WebP) <-> (H, W, 3) uint8 RGB"

    def load(self, path: Path) -> np.ndarray:
        """(H, W, 3) uint8 RGB."""
        pixels, _ = read_raster(path, self.name)
        return rgb_from_pixels(pixels)

    def store(self, path: Path, data: Any, quality: int = 95, png_compression: int = 1) -> Path:
        rgb = rgb_from_array(data, path, self.name)
        return write_raster(path, rgb[:, :, ::-1], encode_params(path, quality, png_compression))
