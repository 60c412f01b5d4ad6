"""The image size of a per-pixel array, as each codec lays it out, for checks against a frame's camera."""

from __future__ import annotations

import numpy as np

from wai.errors import WaiFormatError


def pixel_size(array: np.ndarray, format: str) -> tuple[int, int]:
    """(height, width) of `array` written as `format`.

    Single-channel formats (depth, masks) may carry extra size-1 axes, which their codecs squeeze away; normals may
    be given channels-first, (3, H, W).
    """
    shape = array.shape
    if format == "normals" and len(shape) == 3 and shape[0] == 3 and shape[-1] != 3:
        return shape[1], shape[2]
    if format in ("depth", "binary") and len(shape) > 2:
        shape = list(shape)
        while len(shape) > 2 and 1 in shape:
            shape.remove(1)
    if len(shape) < 2:
        raise WaiFormatError(
            f"format '{format}': expected an image array of at least 2 axes, got shape {array.shape}"
        )
    return int(shape[0]), int(shape[1])
