"""Reading raw dataset files for converters, with errors that name the scene and the file.

Converters read many small raw files (camera text files, NumPy arrays, images that are only linked). Every reader
here checks what the converter relies on (the file exists, an image is complete, a matrix has its rows) and raises
a `wai.errors` error whose message starts with ``scene '...', file '...'``, so a bad file in a 10,000-scene
conversion is found from the summary line alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from wai import io
from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.io.exr_formats import HALF_MAX

_DIGITS = re.compile(r"(\d+)")
_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"IEND\xaeB`\x82"


def natural_key(text: str) -> list[object]:
    """Sort key that orders embedded numbers by value (``frame_2`` before ``frame_10``), as natsort does."""
    return [int(part) if part.isdigit() else part for part in _DIGITS.split(text)]


def natural_sorted(items: Iterable[str]) -> list[str]:
    """`items` in natural order."""
    return sorted(items, key=natural_key)


def subdirectories(folder: Path) -> list[str]:
    """Names of the immediate sub-folders of `folder`, sorted (the reference's default scene enumeration)."""
    if not folder.is_dir():
        raise WaiFileNotFoundError(f"{where(file=str(folder))}: raw dataset folder not found")
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def require_file(path: Path, what: str, *, scene: str, frame: str | None = None) -> Path:
    """`path` if it is an existing file, else `WaiFileNotFoundError` naming it and saying what it should hold."""
    if not path.is_file():
        raise WaiFileNotFoundError(f"{where(scene=scene, frame=frame, file=str(path))}: missing {what}")
    return path


def require_dir(path: Path, what: str, *, scene: str) -> Path:
    """`path` if it is an existing folder, else `WaiFileNotFoundError`."""
    if not path.is_dir():
        raise WaiFileNotFoundError(f"{where(scene=scene, file=str(path))}: missing {what} folder")
    return path


def png_stems(folder: Path, what: str, *, scene: str) -> list[str]:
    """The stems of the ``.png`` files in the folder `folder` (of `what`), in natural order; an error naming the
    folder when it is missing or holds no ``.png``."""
    stems = natural_sorted(p.stem for p in require_dir(folder, what, scene=scene).glob("*.png"))
    if not stems:
        raise WaiFormatError(f"{where(scene=scene, file=str(folder))}: no .png images")
    return stems


def _relocated(exc: WaiError, scene: str, frame: str | None, path: Path) -> WaiError:
    message = str(exc)
    prefix = where(scene=scene, frame=frame)
    if str(path) not in message:
        message = f"{where(file=str(path))}: {message}"
    return type(exc)(f"{prefix}, {message}")


def check_image_complete(path: Path, *, scene: str, frame: str | None = None) -> None:
    """Refuse a PNG or JPEG whose end marker is missing (a truncated download); OpenCV decodes those silently."""
    blob = path.read_bytes()
    head = blob[:8]
    tail = blob[-64:].rstrip(b"\x00\r\n ")
    truncated = (head.startswith(_PNG_SIGNATURE) and not tail.endswith(_PNG_END)) or (
        head.startswith(_JPEG_START) and not tail.endswith(_JPEG_END)
    )
    if truncated or len(blob) == 0:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: image is truncated ({len(blob)} bytes, no end marker)"
        )


def read_image(path: Path, *, scene: str, frame: str | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a raw PNG or JPEG (decoded by content), after checking that it is complete."""
    require_file(path, "image", scene=scene, frame=frame)
    check_image_complete(path, scene=scene, frame=frame)
    try:
        return io.load(path, "image")
    except WaiError as exc:
        raise _relocated(exc, scene, frame, path) from exc


def image_size(path: Path, *, scene: str, frame: str | None = None) -> tuple[int, int]:
    """(height, width) of a raw image, decoding it fully so that a corrupt file is found now, not in training."""
    return read_image(path, scene=scene, frame=frame).shape[:2]


def check_image_size(
    path: Path, size: tuple[int, int], source: str, *, scene: str, frame: str | None = None
) -> None:
    """Decode the raw image (refusing a truncated one, as `image_size`) and refuse it unless it is ``size``
    (height, width), the size that `source` (the file describing it, e.g. ``transforms.json``) states."""
    height, width = image_size(path, scene=scene, frame=frame)
    if (height, width) != tuple(size):
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: image is {width}x{height}, {source} says "
            f"{size[1]}x{size[0]}"
        )


def load_npy(path: Path, what: str, *, scene: str, frame: str | None = None) -> np.ndarray:
    """A NumPy array from a raw `.npy` file (no pickles)."""
    require_file(path, what, scene=scene, frame=frame)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot read {what} as .npy: {exc}"
        ) from exc


def expect_shape(
    array: np.ndarray, shape: tuple[int, ...], what: str, path: Path, *, scene: str, frame: str | None = None
) -> np.ndarray:
    """`array` if its shape is `shape`, else `WaiFormatError` naming the file and both shapes."""
    if array.shape != shape:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: {what} has shape {array.shape}, expected {shape}"
        )
    return array


def parse_numbers(line: str, count: int, what: str, path: Path, *, scene: str, line_no: int) -> np.ndarray:
    """Exactly `count` whitespace-separated numbers from one text line (1-based `line_no` for the message)."""
    parts = line.split()
    try:
        values = np.array([float(p) for p in parts], dtype=np.float64)
    except ValueError:
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: line {line_no}: {what}: expected numbers, got {line.strip()!r}"
        ) from None
    if values.size != count:
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: line {line_no}: {what}: expected {count} numbers, "
            f"got {values.size}"
        )
    return values


def load_rows(path: Path, columns: int, what: str, *, scene: str, min_rows: int = 1) -> np.ndarray:
    """A text table of `columns` numbers per non-empty line, at least `min_rows` lines: (N, columns) float64."""
    require_file(path, what, scene=scene)
    lines = [(i, ln) for i, ln in enumerate(path.read_text().splitlines(), start=1) if ln.strip()]
    rows = [parse_numbers(ln, columns, what, path, scene=scene, line_no=i) for i, ln in lines]
    if len(rows) < min_rows:
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: {what}: {len(rows)} rows, expected at least {min_rows}"
        )
    return np.stack(rows) if rows else np.zeros((0, columns))


def clean_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W) float32 with every value WAI reads as invalid set to 0: NaN, +-inf, negative, and values beyond the
    half-float maximum (65504) that the float16 EXR would turn into inf."""
    out = np.asarray(depth, dtype=np.float32).copy()
    bad = ~np.isfinite(out) | (out < 0) | (out > HALF_MAX)
    out[bad] = 0.0
    return out


def invert_depth(numerator: np.ndarray | float, disparity: np.ndarray) -> np.ndarray:
    """``numerator / disparity`` where the disparity is a finite positive number, 0 (invalid) elsewhere."""
    disp = np.asarray(disparity, dtype=np.float64)
    ok = np.isfinite(disp) & (disp > 0)
    out = np.zeros(disp.shape, dtype=np.float64)
    num = np.broadcast_to(np.asarray(numerator, dtype=np.float64), disp.shape)
    out[ok] = num[ok] / disp[ok]
    return out


def read_json(path: Path, what: str, *, scene: str, frame: str | None = None) -> object:
    """The parsed content of a raw JSON file; a missing or unparsable file is an error naming it."""
    import json

    require_file(path, what, scene=scene, frame=frame)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot parse {what} as JSON: {exc}"
        ) from exc


def matrix_field(
    value: object, shape: tuple[int, int], what: str, path: Path, *, scene: str, frame: str | None = None
) -> np.ndarray:
    """A nested list of numbers as a float64 matrix of `shape`, else `WaiFormatError` naming the file and field."""
    try:
        matrix = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        matrix = None
    if matrix is None or matrix.shape != shape:
        got = "non-numeric rows" if matrix is None else f"shape {matrix.shape}"
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path), field=what)}: expected a {shape[0]}x{shape[1]} "
            f"matrix, got {got}"
        )
    if not np.all(np.isfinite(matrix)):
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path), field=what)}: matrix has NaN or infinite entries"
        )
    return matrix


def listed(items: list[str], limit: int = 10) -> str:
    """The first `limit` items joined with commas, and how many more there are (keeps process logs short)."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
