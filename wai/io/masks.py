"""`binary`: masks; (H, W) bool in memory, 8-bit 0/255 grey PNG on disk.

The reference reads masks with Pillow and converts grey to 1-bit, which dithers everything except exact 0 and 255;
writing exactly 0/255 keeps our files bit-exact there. We read 1-bit PNGs (OpenCV expands them to 0/255), 8-bit grey,
and colour files (converted to grey), and threshold at > 127, so a JPEG mask such as the ASE converter writes loads
as the mask it was meant to be rather than a dithered one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from wai.io.codec import Codec, as_array, format_error, squeeze_to_2d
from wai.io.raster import RASTER_SUFFIXES, encode_params, read_raster, write_raster

MASK_THRESHOLD = 127


class BinaryCodec(Codec):
    """Boolean mask. Options: store `quality` (only for a .jpg name, default 95)."""

    name = "binary"
    per_pixel = True
    suffixes = RASTER_SUFFIXES
    description = "mask (1- or 8-bit PNG, JPEG) <-> (H, W) bool, True where the stored value > 127"

    def load(self, path: Path) -> np.ndarray:
        """(H, W) bool."""
        pixels, _ = read_raster(path, self.name)
        if pixels.dtype != np.uint8:
            raise format_error(path, self.name, f"expected a 1- or 8-bit mask, got {pixels.dtype} pixels")
        if pixels.ndim == 3:
            if pixels.shape[2] == 4:
                pixels = pixels[:, :, :3]
            pixels = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_BGR2GRAY)
        return pixels > MASK_THRESHOLD

    def store(self, path: Path, data: Any, quality: int = 95) -> Path:
        array = squeeze_to_2d(as_array(data, path, self.name), path, self.name)
        if np.issubdtype(array.dtype, np.floating) and np.isnan(array).any():
            raise format_error(path, self.name, "mask contains NaN")
        pixels = np.where(array.astype(bool), np.uint8(255), np.uint8(0))
        return write_raster(path, pixels, encode_params(path, quality, png_compression=1))
