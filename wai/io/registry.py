"""The one format table and the `load` / `store` / `infer_format` entry points.

`FORMATS` maps each format name to its codec; `SUFFIX_FORMATS` is the reference's suffix -> format table used when
no format is given. Formats that only a suffix cannot tell apart (`depth` vs `scalar`, `binary` vs `image`, ...)
must be named, as the `format` field of each modality in `scene_meta.json` does.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path
from typing import Any

import cv2

from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.io.arrays import NumpyCodec
from wai.io.codec import Codec, format_error
from wai.io.exr_formats import DepthCodec, NormalsCodec, ScalarCodec
from wai.io.image import ImageCodec
from wai.io.labeled_image import LabeledImageCodec
from wai.io.masks import BinaryCodec
from wai.io.meshes import LabeledMeshCodec, MeshCodec
from wai.io.mmap_array import MmapCodec
from wai.io.png16 import Png16Codec
from wai.io.readable import ReadableCodec

FORMATS: dict[str, Codec] = {
    codec.name: codec
    for codec in (
        ReadableCodec(),
        ImageCodec(),
        BinaryCodec(),
        DepthCodec(),
        ScalarCodec(),
        NormalsCodec(),
        NumpyCodec(),
        MmapCodec(),
        LabeledImageCodec(),
        MeshCodec(),
        LabeledMeshCodec(),
        Png16Codec(),
    )
}

#: Format inferred from a suffix when none is given (the reference's suffix table).
SUFFIX_FORMATS: dict[str, str] = {
    ".json": "readable",
    ".yaml": "readable",
    ".yml": "readable",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".webp": "image",
    ".npy": "numpy",
    ".npz": "numpy",
    ".exr": "scalar",
    ".ply": "mesh",
    ".obj": "mesh",
    ".glb": "mesh",
}

#: Reference formats that hold torch objects or need more than a file; `wai` stays torch-free and refuses them.
UNSUPPORTED_FORMATS: dict[str, str] = {
    "ptz": "gzip-compressed torch.save files need torch",
    "sft": "safetensors latents belong to the trainer, not to wai",
    "latent": "safetensors latents belong to the trainer, not to wai",
    "scene_meta": "scene metadata is read and written by wai.scene",
}

# What the libraries under the codecs raise on bad bytes (a failed read, a cut stream, corrupt compressed data, text
# that is not UTF-8). Codecs turn their own checks into `WaiFormatError`; anything else (KeyError, IndexError, a plain
# ValueError) is a bug in a codec and propagates unchanged.
_DECODE_ERRORS = (OSError, EOFError, UnicodeDecodeError, struct.error, zlib.error, cv2.error)


def codec_for(format: str) -> Codec:
    """The codec registered under `format`; the error lists every known format."""
    codec = FORMATS.get(format)
    if codec is not None:
        return codec
    known = ", ".join(sorted(FORMATS))
    reason = UNSUPPORTED_FORMATS.get(format)
    detail = f" ({reason})" if reason else ""
    raise WaiFormatError(f"unknown format {format!r}{detail}; known formats: {known}")


def infer_format(path: str | os.PathLike) -> str:
    """The format the reference infers from the suffix of `path` (`.exr` -> 'scalar', `.png` -> 'image', ...)."""
    suffix = Path(path).suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    reason = UNSUPPORTED_FORMATS.get(suffix.lstrip("."))
    if reason is not None:
        raise WaiFormatError(
            f"{where(file=str(path))}: format '{suffix.lstrip('.')}' is not supported: {reason}"
        )
    raise WaiFormatError(
        f"{where(file=str(path))}: cannot infer a format from suffix '{suffix}'; known suffixes: "
        f"{', '.join(SUFFIX_FORMATS)}; or pass format= (one of {', '.join(sorted(FORMATS))})"
    )


def load(path: str | os.PathLike, format: str | None = None, **options: Any) -> Any:
    """Read the file at `path` as `format` (inferred from the suffix when None). Returns NumPy arrays or dicts."""
    path = Path(path)
    name = format if format is not None else infer_format(path)
    codec = codec_for(name)
    codec.check_suffix(path)
    try:
        is_file = stat.S_ISREG(os.stat(path).st_mode)  # one system call on the per-frame path
    except (FileNotFoundError, NotADirectoryError):
        raise WaiFileNotFoundError(f"{where(file=str(path))}: no such file (format '{name}')") from None
    if not is_file:
        raise WaiFormatError(f"{where(file=str(path))}: format '{name}': expected a file, found a directory")
    try:
        return codec.load(path, **options)
    except (WaiError, PermissionError):
        raise
    except _DECODE_ERRORS as exc:
        raise format_error(path, name, f"cannot decode: {type(exc).__name__}: {exc}") from exc


def store(path: str | os.PathLike, data: Any, format: str | None = None, **options: Any) -> Path:
    """Write `data` to `path` as `format` (parents created, atomic). Returns the path written (`mmap` renames)."""
    path = Path(path)
    name = format if format is not None else infer_format(path)
    codec = codec_for(name)
    if not codec.can_store:
        raise WaiFormatError(f"{where(file=str(path))}: format '{name}' is read-only")
    codec.check_suffix(path, storing=True)
    return codec.store(path, data, **options)
