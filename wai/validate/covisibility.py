"""Deep covisibility rule: each `covisibility/<version>/` folder holds exactly one NxN matrix (N = frame count),
finite and in [0, 1].

Consumers in the reference find the matrix by listing the folder and take the first `.npy` they see, so
a stale second matrix is a fault even when the newer one is right.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from wai import io
from wai.validate.content import DECODE_FAILURES
from wai.validate.context import SceneContext
from wai.validate.files import iter_references, safe_relative
from wai.validate.problem import Problem

COVISIBILITY_DIR = "covisibility"
_ROW_BLOCK = 1024


def _matrices(ctx: SceneContext) -> Iterator[tuple[str, str | None]]:
    """(rel path, field) of every matrix to check: files in `covisibility/*/`, then other `mmap` scene modalities."""
    seen: set[str] = set()
    folder = ctx.path / COVISIBILITY_DIR
    if folder.is_dir():
        for version in sorted(p for p in folder.iterdir() if p.is_dir()):
            for npy in sorted(version.glob("*.npy")):
                rel = npy.relative_to(ctx.path).as_posix()
                seen.add(rel)
                yield rel, None
    for ref in iter_references(ctx):
        if ref.frame is None and ref.leaf.format == "mmap":
            rel = safe_relative(ref)
            if rel is not None and rel not in seen and (ctx.path / rel).is_file():
                seen.add(rel)
                yield rel, ref.field


def _value_faults(matrix: np.ndarray) -> tuple[int, int, int]:
    """Counts of non-finite, below-0 and above-1 entries, read in row blocks to bound memory."""
    n_bad = n_low = n_high = 0
    for start in range(0, matrix.shape[0], _ROW_BLOCK):
        block = np.asarray(matrix[start : start + _ROW_BLOCK], dtype=np.float64)
        finite = np.isfinite(block)
        n_bad += int(block.size - np.count_nonzero(finite))
        n_low += int(np.count_nonzero(finite & (block < 0)))
        n_high += int(np.count_nonzero(finite & (block > 1)))
    return n_bad, n_low, n_high


def check_covisibility(ctx: SceneContext) -> Iterator[Problem]:
    """One matrix per version folder, NxN with N = frame count, finite, values in [0, 1]."""
    folder = ctx.path / COVISIBILITY_DIR
    if folder.is_dir():
        for version in sorted(p for p in folder.iterdir() if p.is_dir()):
            names = sorted(p.name for p in version.glob("*.npy"))
            if len(names) > 1:
                yield ctx.issue(
                    f"{len(names)} matrices {names}; readers take whichever the file system lists first, keep one",
                    file=Path(version).relative_to(ctx.path).as_posix(),
                )
    n = ctx.frame_count
    for rel, field in _matrices(ctx):
        try:
            matrix = io.load(ctx.path / rel, "mmap")
        except DECODE_FAILURES as exc:
            yield ctx.issue(
                f"cannot load as a covisibility matrix: {type(exc).__name__}: {exc}", file=rel, field=field
            )
            continue
        shape = tuple(np.shape(matrix))
        if shape != (n, n):
            yield ctx.issue(
                f"expected a {n}x{n} matrix (one row and column per frame), got shape {shape}",
                file=rel,
                field=field,
            )
            if len(shape) != 2:
                continue
        n_bad, n_low, n_high = _value_faults(np.asarray(matrix))
        if n_bad or n_low or n_high:
            yield ctx.issue(
                f"expected finite values in [0, 1]: {n_bad} NaN/inf, {n_low} below 0, {n_high} above 1",
                file=rel,
                field=field,
            )
