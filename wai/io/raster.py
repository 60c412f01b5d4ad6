"""Encoding and decoding of raster files (PNG, JPEG, WebP) through OpenCV, shared by the pixel codecs.

Files are read into memory and decoded with `cv2.imdecode` (and encoded with `cv2.imencode`), so paths with any
characters work, missing files and undecodable files are told apart, and writes go through `wai.atomic`.
OpenCV does not reliably report a truncated PNG, so a PNG must end with its `IEND` record (a cheap check on the
hot path); callers that need the text chunks get a full chunk walk with CRC checks.
`IMREAD_UNCHANGED` keeps the stored channel count and bit depth (the codecs convert explicitly) and, like the
reference's Pillow reader, ignores EXIF orientation.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from wai.atomic import atomic_write_bytes
from wai.errors import WaiFormatError, where
from wai.io.png_chunks import Chunk, iter_chunks

RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_raster(path: Path, fmt: str, with_chunks: bool = False) -> tuple[np.ndarray, list[Chunk] | None]:
    """Decode `path` as stored: (H, W) or (H, W, C) in OpenCV's BGR(A) order, uint8 or uint16.

    Returns the pixels and, for PNG files with `with_chunks`, the file's chunks (to read text chunks).
    """
    blob = path.read_bytes()
    if with_chunks and blob.startswith(PNG_SIGNATURE):
        chunks = iter_chunks(blob, path)
        return decode_raster(blob, path, fmt, checked=True), chunks
    return decode_raster(blob, path, fmt), None


def decode_raster(blob: bytes, path: Path | str, fmt: str, checked: bool = False) -> np.ndarray:
    """Decode the encoded bytes of a raster file (named `path` in errors) as `read_raster` does.

    `checked`: the caller has already walked the PNG chunks, so the IEND check is skipped.
    """
    path = Path(path)
    # Decide by content, not by name: the reference links ETH3D's JPEGs as `images/<frame>.png`.
    if blob.startswith(PNG_SIGNATURE) and not checked:
        if not blob.endswith(PNG_END):
            raise WaiFormatError(
                f"{where(file=str(path))}: format '{fmt}': PNG file does not end with an IEND record "
                f"({len(blob)} bytes; truncated?)"
            )
    pixels = cv2.imdecode(np.frombuffer(blob, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise WaiFormatError(
            f"{where(file=str(path))}: format '{fmt}': OpenCV cannot decode this file as {path.suffix} "
            f"({len(blob)} bytes; truncated or not an image)"
        )
    if pixels.dtype not in (np.uint8, np.uint16):
        raise WaiFormatError(
            f"{where(file=str(path))}: format '{fmt}': expected 8- or 16-bit integer pixels, got {pixels.dtype}"
        )
    return pixels


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """BGR(A) or grey pixels from `read_raster` as (H, W, 3) RGB of the same dtype (alpha is dropped)."""
    if pixels.ndim == 2:
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    if pixels.shape[2] == 1:
        return cv2.cvtColor(pixels[:, :, 0], cv2.COLOR_GRAY2RGB)
    if pixels.shape[2] == 4:
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def encode_raster(path: Path, pixels: np.ndarray, params: list[int]) -> bytes:
    """Encode (H, W) or (H, W, 3) BGR pixels in the codec that the suffix of `path` names."""
    ok, buffer = cv2.imencode(path.suffix.lower(), np.ascontiguousarray(pixels), params)
    if not ok:
        raise WaiFormatError(
            f"{where(file=str(path))}: OpenCV could not encode {pixels.dtype} {pixels.shape}"
        )
    return buffer.tobytes()


def encode_params(path: Path, quality: int, png_compression: int) -> list[int]:
    """OpenCV writer flags for the suffix of `path`: JPEG at `quality` with 4:4:4 chroma, WebP, PNG level."""
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return [
            cv2.IMWRITE_JPEG_QUALITY,
            int(quality),
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
            cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
        ]
    if suffix == ".webp":
        return [cv2.IMWRITE_WEBP_QUALITY, int(quality)]
    return [cv2.IMWRITE_PNG_COMPRESSION, int(png_compression)]


def write_raster(path: Path, pixels: np.ndarray, params: list[int]) -> Path:
    """Encode and write atomically; return `path`."""
    atomic_write_bytes(path, encode_raster(path, pixels, params))
    return path
