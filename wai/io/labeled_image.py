"""`labeled_image`: semantic or instance id maps; (H, W) int32 ids in memory.

Two forms on disk, both read:
- the reference's: an 8-bit RGB PNG where each id is painted in a colour, plus a `tEXt` chunk
  `id_to_color_mapping` holding JSON ``{"<id>": [r, g, b]}``. Colours are mapped back to ids by packing RGB into one
  integer and looking it up in the sorted table (no 256^3 lookup table). Black is id 0 even when not listed.
- a plain 16-bit (or 8-bit) grey PNG whose values are the ids (compact, for our own data).

Writing uses the reference form by default (`form="rgb"`), so MapAnything's loaders read our files. Our palette is
deterministic: colour(id) = (id * 0x5BD1E9) mod 2^24 split into R, G, B. The multiplier is odd, so the map is a
bijection of [0, 2^24): distinct ids get distinct colours and only id 0 is black.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np

from wai.atomic import atomic_write_bytes
from wai.io.codec import Codec, as_array, format_error, squeeze_to_2d
from wai.io.png_chunks import add_text_chunk, text_chunks
from wai.io.raster import encode_params, encode_raster, read_raster

MAPPING_KEY = "id_to_color_mapping"
PALETTE_MULTIPLIER = 0x5BD1E9
MAX_RGB_ID = (1 << 24) - 1
UINT16_MAX = 65535


def palette(ids: np.ndarray) -> np.ndarray:
    """(N,) non-negative ids below 2^24 -> (N, 3) uint8 RGB colours; id 0 is black, all colours distinct."""
    packed = (ids.astype(np.int64) * PALETTE_MULTIPLIER) & MAX_RGB_ID
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=-1).astype(np.uint8)


def _pack(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int64)
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def _parse_mapping(text: str, path: Path, fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """JSON ``{id: [r, g, b]}`` -> (sorted packed colours, their ids)."""
    try:
        raw = json.loads(text)
        items = [(int(key), value) for key, value in raw.items()]
        ids = np.array([key for key, _ in items], dtype=np.int64)
        colours = np.array([value for _, value in items], dtype=np.int64).reshape(len(items), 3)
    except (ValueError, TypeError, AttributeError) as exc:
        raise format_error(path, fmt, f"chunk '{MAPPING_KEY}' is not JSON {{id: [r, g, b]}}: {exc}") from exc
    if colours.size and (colours.min() < 0 or colours.max() > 255):
        raise format_error(path, fmt, f"chunk '{MAPPING_KEY}' has colour components outside 0..255")
    packed = _pack(colours)
    order = np.argsort(packed, kind="stable")
    packed, ids = packed[order], ids[order]
    duplicated = packed[1:] == packed[:-1]
    if duplicated.any():
        clash = ids[1:][duplicated][0]
        raise format_error(path, fmt, f"chunk '{MAPPING_KEY}' gives id {clash} the same colour as another id")
    return packed, ids


class LabeledImageCodec(Codec):
    """Integer id map. Options: store `form` ("rgb": the reference's colour PNG, "png16": 16-bit grey ids)."""

    name = "labeled_image"
    per_pixel = True
    suffixes = (".png",)
    description = "id map (RGB PNG + id_to_color_mapping chunk, or 16-bit grey PNG) <-> (H, W) int32"

    def load(self, path: Path) -> np.ndarray:
        """(H, W) int32 ids."""
        pixels, chunks = read_raster(path, self.name, with_chunks=True)
        if pixels.ndim == 2:
            return pixels.astype(np.int32)
        if pixels.shape[2] != 3 or pixels.dtype != np.uint8:
            raise format_error(
                path,
                self.name,
                f"expected an 8-bit RGB or a grey PNG, got {pixels.shape[2]} {pixels.dtype} channels",
            )
        texts = text_chunks(chunks or [], path)
        if MAPPING_KEY not in texts:
            raise format_error(path, self.name, f"RGB id map without a '{MAPPING_KEY}' text chunk")
        keys, ids = _parse_mapping(texts[MAPPING_KEY], path, self.name)
        packed = _pack(pixels[:, :, ::-1])
        if keys.size == 0:
            slot = np.zeros(packed.shape, dtype=np.int64)
            known = np.zeros(packed.shape, dtype=bool)
        else:
            slot = np.minimum(np.searchsorted(keys, packed), keys.size - 1)
            known = keys[slot] == packed
        unknown = ~known & (packed != 0)
        if unknown.any():
            raise format_error(
                path, self.name, f"{int(unknown.sum())} pixels have colours missing from '{MAPPING_KEY}'"
            )
        out = np.zeros(packed.shape, dtype=np.int32)
        if keys.size:
            out[known] = ids[slot[known]]
        return out

    def store(self, path: Path, data: Any, form: Literal["rgb", "png16"] = "rgb") -> Path:
        array = squeeze_to_2d(as_array(data, path, self.name), path, self.name)
        if not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
            raise format_error(path, self.name, f"expected integer ids, got dtype {array.dtype}")
        ids = array.astype(np.int64)
        low, high = int(ids.min(initial=0)), int(ids.max(initial=0))
        if form == "png16":
            if low < 0 or high > UINT16_MAX:
                raise format_error(
                    path, self.name, f"ids span [{low}, {high}]; form 'png16' holds 0..{UINT16_MAX}"
                )
            blob = encode_raster(path, ids.astype(np.uint16), encode_params(path, 95, png_compression=1))
        elif form == "rgb":
            if low < 0 or high > MAX_RGB_ID:
                raise format_error(
                    path, self.name, f"ids span [{low}, {high}]; form 'rgb' holds 0..{MAX_RGB_ID}"
                )
            present, inverse = np.unique(ids, return_inverse=True)
            colours = palette(present)
            rgb = colours[inverse.reshape(ids.shape)]
            mapping = {
                str(int(i)): [int(c) for c in colour] for i, colour in zip(present, colours, strict=True)
            }
            blob = encode_raster(path, rgb[:, :, ::-1], encode_params(path, 95, png_compression=1))
            blob = add_text_chunk(blob, MAPPING_KEY, json.dumps(mapping))
        else:
            raise format_error(path, self.name, f"unknown form {form!r}; expected 'rgb' or 'png16'")
        atomic_write_bytes(path, blob)
        return path
