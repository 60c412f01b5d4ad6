"""The codec interface: one small class per format, with a load, a store and a few capability flags.

`wai.io.FORMATS` maps each format name (the `format` field of a modality in `scene_meta.json`) to one codec
instance. Codecs receive a `Path` whose suffix the dispatcher has already checked and whose file exists (for
`load`); they raise `WaiFormatError` for content they cannot decode, naming the file and what they expected.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from wai.errors import WaiFormatError, where


class Codec(abc.ABC):
    """Reads and writes one WAI format.

    Class attributes:
        name: the format name as written in `frame_modalities[...]["format"]`.
        suffixes: file suffixes this codec reads and writes (lower case); the first is the usual one.
        description: one line for listings (`wai formats`, error messages).
        can_store: False for read-only codecs.
        renames_on_store: True when `store` writes to a different name than the one requested (`mmap` adds the
            array shape), so callers must record the returned path.
        per_pixel: True for raster formats whose arrays are (H, W) or (H, W, C) images of a frame, so writers can
            check their size against the frame's camera.
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]
    description: ClassVar[str]
    can_store: ClassVar[bool] = True
    renames_on_store: ClassVar[bool] = False
    per_pixel: ClassVar[bool] = False

    @abc.abstractmethod
    def load(self, path: Path, **options: Any) -> Any:
        """Decode the existing file at `path`."""

    @abc.abstractmethod
    def store(self, path: Path, data: Any, **options: Any) -> Path:
        """Write `data` atomically to `path` (parents created) and return the path actually written."""

    def check_suffix(self, path: Path, storing: bool = False) -> None:
        """Refuse a file name whose suffix this format cannot read (or, with `storing`, write)."""
        if path.suffix.lower() not in self.suffixes:
            raise WaiFormatError(
                f"{where(file=str(path))}: format '{self.name}' expects a file ending in "
                f"{' / '.join(self.suffixes)}, got suffix '{path.suffix}'"
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} format={self.name!r} suffixes={self.suffixes}>"


def format_error(path: Path, fmt: str, message: str) -> WaiFormatError:
    """A `WaiFormatError` that names the file and the format: ``file 'x.exr': format 'depth': <message>``."""
    return WaiFormatError(f"{where(file=str(path))}: format '{fmt}': {message}")


def as_array(data: Any, path: Path, fmt: str) -> np.ndarray:
    """`data` as a numpy array; anything array-like works (lists, memmaps), objects that numpy cannot convert do not."""
    try:
        array = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise format_error(path, fmt, f"expected an array, got {type(data).__name__}: {exc}") from exc
    if array.dtype == object:
        raise format_error(
            path, fmt, f"expected a numeric array, got {type(data).__name__} with dtype object"
        )
    return array


def squeeze_to_2d(array: np.ndarray, path: Path, fmt: str) -> np.ndarray:
    """Drop size-1 axes until the array is (H, W); refuse anything that does not squeeze to two axes."""
    squeezed = array
    while squeezed.ndim > 2 and 1 in squeezed.shape:
        squeezed = np.squeeze(squeezed, axis=squeezed.shape.index(1))
    if squeezed.ndim != 2:
        raise format_error(path, fmt, f"expected a 2-D (H, W) array, got shape {array.shape}")
    return squeezed
