"""Hand-made files for the codec tests: PNGs written byte by byte, so no test depends on the code under test."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def one_bit_png(mask: np.ndarray) -> bytes:
    """A 1-bit greyscale PNG (color type 0, bit depth 1) as Pillow writes mode '1' images."""
    height, width = mask.shape
    rows = np.packbits(mask.astype(np.uint8), axis=1)  # MSB first, rows padded to whole bytes
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter type 0 per row
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def write(path: Path, blob: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return path
