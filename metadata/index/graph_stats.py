"""Statistics of a scene's covisibility graph, with the training loaders' normalisation.

S = (M + Mᵀ) / 2, each row divided by its own diagonal (the source view's self-covisibility, + 1e-8 as the
loaders do), the diagonal zeroed; frame j is a neighbour of frame i when S[i, j] > threshold. The matrix is read in
row blocks, so a memory-mapped matrix of thousands of frames is never loaded whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 0.25
BLOCK_ROWS = 1024


@dataclass(frozen=True)
class GraphStats:
    mean_degree: float
    components: int
    isolated: int


def _roots(parent: np.ndarray, x: np.ndarray) -> np.ndarray:
    while True:
        up = parent[x]
        if np.array_equal(up, x):
            return x
        x = up


def _union(parent: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
    """Merge the sets of every edge (i[k], j[k]); vectorised, repeated until no edge spans two sets."""
    while i.size:
        ri, rj = _roots(parent, i), _roots(parent, j)
        open_ = ri != rj
        if not open_.any():
            return
        ri, rj, i, j = ri[open_], rj[open_], i[open_], j[open_]
        np.minimum.at(parent, np.maximum(ri, rj), np.minimum(ri, rj))


def covisibility_stats(matrix: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> GraphStats:
    """Mean neighbour count, connected components and isolated frames of an (N, N) covisibility matrix."""
    n = matrix.shape[0]
    if n == 0:
        return GraphStats(0.0, 0, 0)
    diag = np.array(np.diagonal(matrix), dtype=np.float32)
    parent = np.arange(n)
    degrees = np.zeros(n, dtype=np.int64)
    touched = np.zeros(n, dtype=bool)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(n, start + BLOCK_ROWS)
        rows = np.asarray(matrix[start:stop, :], dtype=np.float32)
        cols = np.asarray(matrix[:, start:stop], dtype=np.float32).T
        sym = (rows + cols) / 2
        sym /= diag[start:stop, None] + 1e-8
        sym[np.arange(stop - start), np.arange(start, stop)] = 0
        adjacent = sym > threshold
        degrees[start:stop] = adjacent.sum(axis=1)
        i, j = np.nonzero(adjacent)
        i += start
        touched[i] = True
        touched[j] = True
        _union(parent, i, j)
    roots = _roots(parent, np.arange(n))
    return GraphStats(
        mean_degree=float(degrees.mean()),
        components=int(np.unique(roots).size),
        isolated=int((~touched).sum()),
    )
