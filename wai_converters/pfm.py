"""Reading PFM (Portable Float Map) depth files, the format of BlendedMVS's `rendered_depth_maps`.

Layout: a header line ``Pf`` (one channel) or ``PF`` (three), a line ``<width> <height>``, a line with the scale
whose sign gives the byte order (negative: little-endian, positive: big-endian; its magnitude is ignored, as the
reference ignores it), then float32 rows stored bottom-up.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wai.errors import WaiFileNotFoundError, WaiFormatError, where


def _header_line(blob: bytes, start: int, path: Path, what: str) -> tuple[str, int]:
    end = blob.find(b"\n", start)
    if end < 0:
        raise WaiFormatError(f"{where(file=str(path))}: PFM header ends before the {what} line")
    return blob[start:end].decode("ascii", errors="replace").strip(), end + 1


def read_pfm(path: Path) -> np.ndarray:
    """(H, W) float32 for ``Pf`` files, (H, W, 3) for ``PF``, top row first."""
    if not path.is_file():
        raise WaiFileNotFoundError(f"{where(file=str(path))}: missing PFM depth map")
    blob = path.read_bytes()
    kind, pos = _header_line(blob, 0, path, "type")
    if kind not in ("Pf", "PF"):
        raise WaiFormatError(
            f"{where(file=str(path))}: not a PFM file (header {kind[:8]!r}, expected 'Pf' or 'PF')"
        )
    dims, pos = _header_line(blob, pos, path, "size")
    parts = dims.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise WaiFormatError(f"{where(file=str(path))}: PFM size line {dims!r} is not '<width> <height>'")
    width, height = int(parts[0]), int(parts[1])
    scale_text, pos = _header_line(blob, pos, path, "scale")
    try:
        scale = float(scale_text)
    except ValueError:
        raise WaiFormatError(
            f"{where(file=str(path))}: PFM scale line {scale_text!r} is not a number"
        ) from None
    channels = 3 if kind == "PF" else 1
    expected = width * height * channels * 4
    if len(blob) - pos != expected:
        raise WaiFormatError(
            f"{where(file=str(path))}: PFM data has {len(blob) - pos} bytes, expected {expected} for "
            f"{width}x{height}x{channels} float32 (truncated?)"
        )
    dtype = np.dtype("<f4") if scale < 0 else np.dtype(">f4")
    data = np.frombuffer(blob, dtype=dtype, offset=pos, count=width * height * channels)
    shape = (height, width) if channels == 1 else (height, width, 3)
    return np.flipud(data.reshape(shape)).astype(np.float32)
