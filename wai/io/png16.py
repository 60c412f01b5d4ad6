"""`png16` (our extension): a scalar map such as sensor depth as a 16-bit grey PNG with a fixed scale.

RGB-D datasets (7-Scenes, ScanNet, TUM) ship depth this way: stored value = depth * scale, 0 = no measurement.
Loading returns float32 in the scaled units (metres for scale 1000 on millimetre files). The scale is not in the
file, so it must be passed, unless the default (1000: millimetres) is right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from wai.io.codec import Codec, as_array, format_error, squeeze_to_2d
from wai.io.raster import encode_params, read_raster, write_raster

DEFAULT_SCALE = 1000.0
UINT16_MAX = 65535


class Png16Codec(Codec):
    """16-bit scaled scalar map.

    Options: `scale` (stored value per unit, default 1000); on load `invalid` (a raw value that marks missing data
    besides 0, e.g. 65535 in 7-Scenes, read as 0).
    """

    name = "png16"
    per_pixel = True
    suffixes = (".png",)
    description = "16-bit grey PNG / scale <-> (H, W) float32, 0 = invalid"

    def load(self, path: Path, scale: float = DEFAULT_SCALE, invalid: int | None = None) -> np.ndarray:
        """(H, W) float32: stored value / `scale`."""
        if not scale > 0:
            raise format_error(path, self.name, f"scale must be positive, got {scale}")
        pixels, _ = read_raster(path, self.name)
        if pixels.ndim != 2:
            raise format_error(
                path, self.name, f"expected a single-channel PNG, got {pixels.shape[2]} channels"
            )
        values = pixels.astype(np.float32)
        if invalid is not None:
            values[pixels == invalid] = 0.0
        return values / np.float32(scale)

    def store(self, path: Path, data: Any, scale: float = DEFAULT_SCALE) -> Path:
        if not scale > 0:
            raise format_error(path, self.name, f"scale must be positive, got {scale}")
        array = squeeze_to_2d(as_array(data, path, self.name), path, self.name).astype(np.float64)
        if not np.all(np.isfinite(array)):
            raise format_error(path, self.name, "values must be finite (store missing data as 0)")
        stored = np.rint(array * scale)
        low, high = float(stored.min(initial=0.0)), float(stored.max(initial=0.0))
        if low < 0 or high > UINT16_MAX:
            raise format_error(
                path,
                self.name,
                f"values times scale {scale} span [{low:g}, {high:g}], outside the uint16 range [0, {UINT16_MAX}]",
            )
        return write_raster(path, stored.astype(np.uint16), encode_params(path, 95, png_compression=1))
