"""Deep content rules: referenced files decode, have the shape and dtype their format promises, match the camera's
image size, and depth maps hold only finite, non-negative values.

These read every file, so they run only with ``--deep``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from wai import io
from wai.camera.rules import image_size
from wai.errors import WaiError
from wai.plural import plural
from wai.validate.context import SceneContext
from wai.validate.files import Reference, iter_references, safe_relative
from wai.validate.problem import Problem

#: What reading a bad file raises: `wai.io.load` turns decoder failures into `WaiFormatError` (a `WaiError`) and
#: lets OS errors (unreadable file, permissions) through. Anything else is a bug in a codec or a rule and propagates.
DECODE_FAILURES: tuple[type[BaseException], ...] = (WaiError, OSError)

#: Per-pixel formats: expected number of array dimensions, channel count (None for (H, W)) and dtype (None: any).
PIXEL_FORMATS: dict[str, tuple[int | None, np.dtype | None]] = {
    "image": (3, np.dtype(np.uint8)),
    "depth": (None, np.dtype(np.float32)),
    "binary": (None, np.dtype(np.bool_)),
    "scalar": (None, np.dtype(np.float32)),
    "normals": (3, np.dtype(np.float32)),
    "labeled_image": (None, None),
    "png16": (None, None),
}


def _shape_text(channels: int | None) -> str:
    return "HxW" if channels is None else f"HxWx{channels}"


def _decodable(ctx: SceneContext, ref: Reference) -> tuple[str, Any] | None:
    """`(rel, data)` for a reference whose file exists and decodes; None if it is missing or rejected earlier.

    Depth maps also leave their bad-pixel counts in `ctx.depth_counts` for the depth-values rule.
    """
    rel = safe_relative(ref)
    if rel is None or not (ctx.path / rel).is_file():
        return None
    data = io.load(ctx.path / rel, ref.leaf.format)
    if ref.leaf.format == "depth" and isinstance(data, np.ndarray) and data.dtype.kind == "f":
        ctx.depth_counts[rel] = _bad_depth_counts(data)
    return rel, data


def _bad_depth_counts(depth: np.ndarray) -> tuple[int, int, int, int]:
    return (
        int(np.count_nonzero(np.isnan(depth))),
        int(np.count_nonzero(np.isinf(depth))),
        int(np.count_nonzero(depth < 0)),
        int(depth.size),
    )


def _camera_size(ctx: SceneContext, frame_name: str | None) -> tuple[int, int] | None:
    """(h, w) of a frame's merged camera, if both pass the size rule (the camera rule reports anything else)."""
    entry = ctx.frame_by_name.get(frame_name) if frame_name is not None else None
    return None if entry is None else image_size(ctx.camera_values(entry))


def _check_pixels(ctx: SceneContext, ref: Reference, rel: str, data: Any) -> Iterator[Problem]:
    channels, dtype = PIXEL_FORMATS[ref.leaf.format or ""]
    expected = _shape_text(channels) + (f" {dtype}" if dtype is not None else "")
    where = {"frame": ref.frame, "file": rel, "field": ref.field}
    array = np.asarray(data)
    want_ndim = 2 if channels is None else 3
    if array.ndim != want_ndim or (channels is not None and array.shape[-1] != channels):
        yield ctx.issue(f"format '{ref.leaf.format}': expected {expected}, got shape {array.shape}", **where)
        return
    if dtype is not None and array.dtype != dtype:
        yield ctx.issue(f"format '{ref.leaf.format}': expected {expected}, got dtype {array.dtype}", **where)
    size = _camera_size(ctx, ref.frame)
    if size is not None and tuple(array.shape[:2]) != size:
        yield ctx.issue(
            f"size {array.shape[1]}x{array.shape[0]} (WxH) disagrees with the camera's w={size[1]}, h={size[0]}",
            **where,
        )


def check_decode(ctx: SceneContext) -> Iterator[Problem]:
    """Referenced files decode with their format; per-pixel files have the promised shape, dtype and camera size."""
    # Covisibility matrices have their own rule; decoding them here would report each fault twice.
    for ref in iter_references(ctx):
        if (ref.leaf.format == "mmap" and ref.frame is None) or ref.leaf.format not in io.FORMATS:
            continue  # unknown formats are the modalities rule's finding
        rel = safe_relative(ref)
        try:
            found = _decodable(ctx, ref)
        except DECODE_FAILURES as exc:
            yield ctx.issue(
                f"cannot decode as format '{ref.leaf.format}': {type(exc).__name__}: {exc}",
                frame=ref.frame,
                file=rel,
                field=ref.field,
            )
            continue
        if found is not None and ref.frame is not None and ref.leaf.format in PIXEL_FORMATS:
            yield from _check_pixels(ctx, ref, found[0], found[1])


def check_depth_values(ctx: SceneContext) -> Iterator[Problem]:
    """Depth maps are finite and non-negative (0 marks an invalid pixel; NaN, inf and negatives are faults)."""
    for ref in iter_references(ctx):
        if ref.frame is None or ref.leaf.format != "depth":
            continue
        rel = safe_relative(ref)
        if rel is not None and rel not in ctx.depth_counts:
            try:
                _decodable(ctx, ref)
            except DECODE_FAILURES:  # the decode rule reports files that do not decode
                continue
        counts = ctx.depth_counts.get(rel) if rel is not None else None
        if counts is None:
            continue
        n_nan, n_inf, n_neg, total = counts
        if n_nan or n_inf or n_neg:
            yield ctx.issue(
                f"depth must be finite and >= 0 (0 = invalid): {n_nan} NaN, {n_inf} inf, {n_neg} negative of "
                f"{plural(total, 'pixel')}",
                frame=ref.frame,
                file=rel,
                field=ref.field,
            )
