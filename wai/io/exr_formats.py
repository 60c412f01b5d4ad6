"""The EXR-backed formats: `depth`, `scalar` and `normals`, in the reference's EXR layout.

- `depth`: (H, W) float32 z-depth, stored as half float by default like the reference (relative rounding error
  <= 2^-11, largest finite value 65504); `precision="float32"` keeps it exact. 0 marks an invalid pixel, so a
  stored depth map holds only finite values >= 0: NaN and infinity are refused (or, with ``nonfinite="zero"``,
  written as 0; `zero_nonfinite` does that and counts them), and negative depths are refused.
- `scalar`: float32 with any channel count, stored as float32.
- `normals`: (H, W, 3) unit vectors (or zero for no normal), stored as float32, x in channel `B`, z in `R`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from wai.io.codec import Codec, as_array, format_error, squeeze_to_2d
from wai.io.exr import Precision, read_exr, write_exr

HALF_MAX = float(np.finfo(np.float16).max)
PRECISIONS = ("half", "float32")


def _float_array(data: Any, path: Path, fmt: str) -> np.ndarray:
    array = as_array(data, path, fmt)
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise format_error(path, fmt, f"expected a float array, got dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


def _check_precision(precision: str, path: Path, fmt: str) -> None:
    if precision not in PRECISIONS:
        raise format_error(path, fmt, f"precision must be one of {PRECISIONS}, got {precision!r}")


def _check_half_range(array: np.ndarray, path: Path, fmt: str) -> None:
    """Half float turns finite values beyond 65504 into inf; refuse instead of corrupting them silently."""
    finite = array[np.isfinite(array)]
    if finite.size and float(np.abs(finite).max()) > HALF_MAX:
        raise format_error(
            path,
            fmt,
            f"largest |value| {float(np.abs(finite).max()):g} exceeds the half-float maximum {HALF_MAX:g}; "
            "pass precision='float32'",
        )


NonFinite = Literal["error", "zero"]


def zero_nonfinite(depth: np.ndarray) -> tuple[np.ndarray, int]:
    """`depth` with NaN and +-inf replaced by 0 (invalid), and how many pixels were replaced.

    The input is not modified; without any non-finite pixel it is returned as is.
    """
    bad = ~np.isfinite(depth)
    count = int(np.count_nonzero(bad))
    if not count:
        return depth, 0
    return np.where(bad, np.zeros((), depth.dtype), depth), count


def _check_depth_values(array: np.ndarray, nonfinite: NonFinite, path: Path, fmt: str) -> np.ndarray:
    """Apply the depth value rules: finite (or zeroed when `nonfinite` is "zero") and never negative."""
    if nonfinite not in ("error", "zero"):
        raise format_error(path, fmt, f"nonfinite must be 'error' or 'zero', got {nonfinite!r}")
    cleaned, count = zero_nonfinite(array)
    if count and nonfinite == "error":
        raise format_error(
            path,
            fmt,
            f"{count} of {array.size} pixels are NaN or infinite; depth marks invalid pixels with 0 "
            "(replace them, or pass nonfinite='zero')",
        )
    negative = np.argwhere(cleaned < 0)
    if len(negative):
        row, col = (int(v) for v in negative[0])
        raise format_error(
            path,
            fmt,
            f"{len(negative)} pixels have negative depth (first at row {row}, column {col}: "
            f"{float(cleaned[row, col]):g}); expected z-depth >= 0, with 0 for invalid pixels",
        )
    return cleaned


class DepthCodec(Codec):
    """Depth map. Options: store `precision` ("half" default, or "float32") and `nonfinite` ("error" default, or
    "zero" to write NaN and infinity as 0)."""

    name = "depth"
    per_pixel = True
    suffixes = (".exr",)
    description = "EXR channel Y (half by default) <-> (H, W) float32 depth"

    def load(self, path: Path) -> np.ndarray:
        """(H, W) float32."""
        array = read_exr(path, self.name)
        if array.ndim != 2:
            raise format_error(path, self.name, f"expected a one-channel EXR, got {array.shape[2]} channels")
        return array

    def store(
        self, path: Path, data: Any, precision: Precision = "half", nonfinite: NonFinite = "error"
    ) -> Path:
        _check_precision(precision, path, self.name)
        array = squeeze_to_2d(_float_array(data, path, self.name), path, self.name)
        array = _check_depth_values(array, nonfinite, path, self.name)
        if precision == "half":
            _check_half_range(array, path, self.name)
        return write_exr(path, array, precision)


class ScalarCodec(Codec):
    """Float map with any channel count. Options: store `precision` ("float32" default, or "half")."""

    name = "scalar"
    per_pixel = True
    suffixes = (".exr",)
    description = "EXR (Y; B,G,R; ...) float32 <-> (H, W) or (H, W, C) float32"

    def load(self, path: Path) -> np.ndarray:
        """(H, W) or (H, W, C) float32."""
        return read_exr(path, self.name)

    def store(self, path: Path, data: Any, precision: Precision = "float32") -> Path:
        _check_precision(precision, path, self.name)
        array = _float_array(data, path, self.name)
        if array.ndim not in (2, 3) or min(array.shape) == 0:
            raise format_error(
                path, self.name, f"expected an (H, W) or (H, W, C) array, got shape {array.shape}"
            )
        if precision == "half":
            _check_half_range(array, path, self.name)
        return write_exr(path, array, precision)


def normals_layout(array: np.ndarray, path: Path, fmt: str) -> np.ndarray:
    """Squeeze and bring normals to (H, W, 3); a (3, H, W) array is transposed."""
    squeezed = np.squeeze(array)
    if squeezed.ndim != 3:
        raise format_error(path, fmt, f"expected (H, W, 3) or (3, H, W) normals, got shape {array.shape}")
    if squeezed.shape[-1] != 3 and squeezed.shape[0] == 3:
        squeezed = np.transpose(squeezed, (1, 2, 0))
    if squeezed.shape[-1] != 3:
        raise format_error(path, fmt, f"expected 3 channels, got shape {array.shape}")
    return squeezed


class NormalsCodec(Codec):
    """Surface normals: every pixel must have norm ~1 (abs tol 1e-3) or ~0, as the reference checks."""

    name = "normals"
    per_pixel = True
    suffixes = (".exr",)
    description = "EXR B,G,R float32 (x in B, z in R) <-> (H, W, 3) float32 unit normals"

    def load(self, path: Path) -> np.ndarray:
        """(H, W, 3) float32."""
        array = read_exr(path, self.name)
        if array.ndim != 3 or array.shape[2] != 3:
            got = 1 if array.ndim == 2 else array.shape[2]
            raise format_error(path, self.name, f"expected a 3-channel EXR, got {got} channels")
        return array

    def store(self, path: Path, data: Any) -> Path:
        array = normals_layout(_float_array(data, path, self.name), path, self.name)
        norms = np.linalg.norm(array.astype(np.float64), axis=-1)
        valid = np.isclose(norms, 1.0, atol=1e-3) | np.isclose(norms, 0.0)
        if not valid.all():
            bad = np.argwhere(~valid)
            row, col = (int(v) for v in bad[0])
            raise format_error(
                path,
                self.name,
                f"{len(bad)} pixels have a norm that is neither ~1 nor ~0 (first at row {row}, column {col}: "
                f"norm {norms[row, col]:.6g})",
            )
        return write_exr(path, array, "float32")
