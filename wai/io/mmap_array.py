"""`mmap`: a float32 array (the pairwise covisibility matrix) opened memory-mapped, with its shape in the file name.

Store writes `<stem>--<d0>x<d1>.npy` next to the requested name (the requested suffix is dropped) with plain
`np.save` (NPY v1.0; a C-order float32 array of ordinary shape gets the 128-byte header that the reference's loader
assumes) and returns that new path, which the caller records in `scene_modalities`.

Load parses the real NPY header instead of assuming 128 bytes, checks that the dtype is float32 and that the shape
in the name matches the header, and returns a read-only `np.memmap`.
"""

from __future__ import annotations

import re
import tokenize
from pathlib import Path
from typing import Any

import numpy as np

from wai.atomic import atomic_path
from wai.io.codec import Codec, as_array, format_error

SHAPE_SEPARATOR = "--"
_DIMS = re.compile(r"^\d+([x,]\d+)*$")


def shape_from_name(path: Path) -> tuple[int, ...] | None:
    """The shape encoded after the last `--` of the stem (`x` or `,` between dims), or None if there is none."""
    stem, sep, dims = path.stem.rpartition(SHAPE_SEPARATOR)
    if not sep or not stem or not _DIMS.match(dims):
        return None
    return tuple(int(d) for d in re.split(r"[x,]", dims))


def name_with_shape(path: Path, shape: tuple[int, ...]) -> Path:
    """`dir/<stem>--<d0>x<d1>.npy` for a requested `dir/<stem>[--dims].<any suffix>`."""
    stem = path.stem
    if shape_from_name(path) is not None:
        stem = stem.rpartition(SHAPE_SEPARATOR)[0]
    return path.with_name(f"{stem}{SHAPE_SEPARATOR}{'x'.join(str(d) for d in shape)}.npy")


def _read_npy_header(path: Path, fmt: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, data offset) from the NPY header of `path`."""
    with open(path, "rb") as fh:
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        except (ValueError, SyntaxError, tokenize.TokenError, EOFError) as exc:
            # numpy parses the header dict with Python's tokenizer: a damaged header can raise any of these
            raise format_error(path, fmt, f"not a valid .npy file: {exc}") from exc
        return tuple(shape), bool(fortran), np.dtype(dtype), fh.tell()


class MmapCodec(Codec):
    """Memory-mapped float32 array whose shape is part of its file name."""

    name = "mmap"
    suffixes = (".npy",)
    description = "<stem>--<d0>x<d1>.npy float32 (renamed on store) <-> read-only np.memmap"
    renames_on_store = True

    def check_suffix(self, path: Path, storing: bool = False) -> None:
        # The reference drops whatever suffix the requested name has and writes `.npy`.
        if not storing:
            super().check_suffix(path)

    def load(self, path: Path) -> np.ndarray:
        """Read-only (d0, d1, ...) float32 memmap."""
        named = shape_from_name(path)
        if named is None:
            raise format_error(
                path, self.name, f"expected a file name '<stem>{SHAPE_SEPARATOR}<d0>x<d1>.npy'"
            )
        shape, fortran, dtype, offset = _read_npy_header(path, self.name)
        if dtype != np.dtype("<f4"):
            raise format_error(
                path, self.name, f"expected little-endian float32 data, the header says {dtype}"
            )
        if shape != named:
            raise format_error(
                path, self.name, f"the name says shape {named} but the NPY header says {shape}"
            )
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        size = path.stat().st_size
        if size < offset + nbytes:
            raise format_error(
                path, self.name, f"truncated: {size} bytes, but header ({offset}) + data ({nbytes}) need more"
            )
        if nbytes == 0:
            empty = np.zeros(shape, dtype=np.float32)
            empty.flags.writeable = False
            return empty
        return np.memmap(
            path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C"
        )

    def store(self, path: Path, data: Any) -> Path:
        array = np.ascontiguousarray(as_array(data, path, self.name), dtype=np.float32)
        if array.ndim == 0:
            raise format_error(path, self.name, "expected an array with at least one dimension, got a scalar")
        target = name_with_shape(path, array.shape)
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        return target
