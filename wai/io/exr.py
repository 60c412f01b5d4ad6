"""OpenEXR files through the `OpenEXR` package (3.x `OpenEXR.File` API), independent of the installed OpenCV.

The reference writes EXR with OpenCV, and opencv-python 5.x wheels ship without EXR, so we read and write the same
bytes layout ourselves: scanline image, ZIP compression (code 3), one channel `Y` for 2-D arrays, `B`, `G`, `R`
(`A`) for 3- and 4-channel arrays with array channel 0 -> `B`, 1 -> `G`, 2 -> `R`, 3 -> `A`, as OpenCV does.
Other channel counts get zero-padded names `C00`, `C01`, ... so that the file's alphabetical order is the array
order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import OpenEXR

from wai.atomic import atomic_path
from wai.errors import WaiFormatError, where

EXR_MAGIC = b"\x76\x2f\x31\x01"

#: Channel names for an array with that many channels (OpenCV's convention where it has one).
OPENCV_CHANNELS: dict[int, tuple[str, ...]] = {1: ("Y",), 3: ("B", "G", "R"), 4: ("B", "G", "R", "A")}

Precision = Literal["half", "float32"]


def channel_names(count: int) -> tuple[str, ...]:
    """EXR channel names, in array order, for an array with `count` channels."""
    return OPENCV_CHANNELS.get(count) or tuple(f"C{i:02d}" for i in range(count))


def _array_order(names: list[str]) -> list[str]:
    """The file's channel names in array order: the inverse of `channel_names`."""
    for known in OPENCV_CHANNELS.values():
        if sorted(names) == sorted(known):
            return list(known)
    return sorted(names)


def read_exr(path: Path, fmt: str) -> np.ndarray:
    """Decode `path`: (H, W) for a one-channel file, else (H, W, C) in array order; float32 always.

    HALF and FLOAT channels are accepted; UINT channels and subsampled channels are refused.
    """
    # One pass over the File object: its channels carry type and sampling, so the header dict (a Python object per
    # attribute) is never built, and the magic number is read only to explain a failure. The File object owns its
    # pixel buffers and clears them on close, so the pixels are converted (copied) inside.
    try:
        with OpenEXR.File(str(path), separate_channels=True) as exr:
            described = exr.channels()
            kinds = {name: ch.type() for name, ch in described.items()}
            sampling = [(ch.xSampling, ch.ySampling) for ch in described.values()]
            channels = {name: ch.pixels.astype(np.float32) for name, ch in described.items()}
    except (RuntimeError, ValueError) as exc:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != EXR_MAGIC:
            raise WaiFormatError(
                f"{where(file=str(path))}: format '{fmt}': not an OpenEXR file (bad magic number)"
            ) from exc
        raise WaiFormatError(f"{where(file=str(path))}: format '{fmt}': cannot decode EXR: {exc}") from exc
    if not channels:
        raise WaiFormatError(f"{where(file=str(path))}: format '{fmt}': EXR file has no channels")
    if any(s != (1, 1) for s in sampling):
        raise WaiFormatError(
            f"{where(file=str(path))}: format '{fmt}': subsampled EXR channels are not supported"
        )
    for name, kind in kinds.items():
        if kind not in (OpenEXR.HALF, OpenEXR.FLOAT):
            raise WaiFormatError(
                f"{where(file=str(path))}: format '{fmt}': channel '{name}' has pixel type {kind.name}; "
                "expected HALF or FLOAT"
            )
    order = _array_order(list(channels))
    planes = [channels[name] for name in order]
    if len(planes) == 1:
        return planes[0]
    return np.stack(planes, axis=-1)


def header_of(path: Path) -> dict:
    """The EXR header as the OpenEXR package returns it (compression, channels, windows)."""
    with OpenEXR.File(str(path), header_only=True) as exr:
        return dict(exr.header())


def write_exr(path: Path, array: np.ndarray, precision: Precision = "float32") -> Path:
    """Write (H, W) or (H, W, C) `array` atomically as a ZIP-compressed scanline EXR; return `path`."""
    dtype = {"half": np.float16, "float32": np.float32}[precision]
    planes = array[:, :, None] if array.ndim == 2 else array
    names = channel_names(planes.shape[2])
    channels = {name: np.ascontiguousarray(planes[:, :, i], dtype=dtype) for i, name in enumerate(names)}
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with atomic_path(path) as tmp, OpenEXR.File(header, channels) as exr:
        exr.write(str(tmp))
    return path
