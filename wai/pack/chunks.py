"""Whole-chunk reads of the arrays `wai pack` writes, without zarr's asynchronous machinery.

Each `frame.load` reads one chunk. Through zarr's synchronous API every read hops to zarr's event-loop thread, which
costs about as much as decoding a depth map; for arrays whose metadata is exactly what `wai pack` writes (regular
chunks, default ``/`` chunk keys, codecs ``bytes`` little-endian + ``zstd`` or ``blosc``) this module reads the chunk object with
a plain file or fsspec call and decompresses it directly. Any other array is read through zarr, so stores written
by other tools still load.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

_DTYPES = {"bool", "uint8", "int64", "float16", "float32", "float64", "uint16", "int32"}


def _plain_layout(metadata: dict[str, Any]) -> bool:
    """Whether an array's v3 metadata is one this module decodes: bytes(little) + zstd or blosc, default '/' keys."""
    codecs = metadata.get("codecs") or []
    names = [c.get("name") for c in codecs]
    if names not in (["bytes", "zstd"], ["bytes", "blosc"]):
        return False
    endian = (codecs[0].get("configuration") or {}).get("endian", "little")
    keys = metadata.get("chunk_key_encoding") or {}
    separator = (keys.get("configuration") or {}).get("separator", "/")
    grid = (metadata.get("chunk_grid") or {}).get("name")
    return (
        endian == "little"
        and keys.get("name") == "default"
        and separator == "/"
        and grid == "regular"
        and metadata.get("data_type") in _DTYPES
    )


class ChunkReader:
    """Reads row `i` (the chunk ``c/i/0/...``) of a per-frame array; falls back to zarr for other layouts."""

    def __init__(self, array: Any, key: str, read_object: Any) -> None:
        self.array = array
        self.key = key
        self._read_object = read_object
        metadata = array.metadata.to_dict()
        self.chunks = tuple(metadata["chunk_grid"]["configuration"]["chunk_shape"])
        self.fast = _plain_layout(metadata) and self.chunks[0] == 1 and self.chunks[1:] == array.shape[1:]
        if self.fast:
            from numcodecs import Blosc, Zstd

            # both decoders read their parameters from the compressed frame
            self._decoder = Zstd() if metadata["codecs"][1]["name"] == "zstd" else Blosc()
            self.dtype = np.dtype(metadata["data_type"]).newbyteorder("<")
            self.fill = metadata.get("fill_value", 0)

    def row(self, i: int) -> np.ndarray:
        """The chunk of row `i`, shape ``array.shape[1:]`` (fill values where the chunk was never written)."""
        if not self.fast:
            return np.asarray(self.array[i])
        name = "/".join([self.key, "c", str(i), *("0" for _ in self.chunks[1:])])
        raw = self._read_object(name)
        if raw is None:  # zarr does not write chunks that hold only the fill value
            return np.full(self.chunks[1:], self.fill, dtype=self.dtype)
        data = np.frombuffer(self._decoder.decode(raw), dtype=self.dtype)
        return data.reshape(self.chunks[1:])


def object_reader(location: str) -> Any:
    """A function ``key -> bytes | None`` reading objects of the store at `location` (path or fsspec URL)."""
    if "://" not in location:
        root = os.fspath(location)

        def read_local(key: str) -> bytes | None:
            try:
                with open(os.path.join(root, key), "rb") as fh:
                    return fh.read()
            except FileNotFoundError:
                return None

        return read_local
    import fsspec

    fs, root = fsspec.core.url_to_fs(location)

    def read_remote(key: str) -> bytes | None:
        try:
            return fs.cat_file(f"{root.rstrip('/')}/{key}")
        except FileNotFoundError:
            return None

    return read_remote
