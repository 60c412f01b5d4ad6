"""Drawing a multi-view set from a scene's covisibility matrix: the reference's covisibility-guided random walk.

`sample_views` reproduces MapAnything's `_sample_view_indices` / `_random_walk_sampling`,
including the order of its random draws, so a seeded `np.random.Generator` gives the reference's view sets:

- as many views as frames: a random permutation of all frames;
- more views than frames: draws with replacement;
- fewer: a randomised depth-first walk over the "overlap graph". From the current node `c`, the overlap with
  every frame is ``o = (M[c, :] + M[:, c]) / 2`` (bidirectional), divided by ``o[c] + 1e-8`` (the source's own
  covisibility), with ``o[c] = 0``; neighbours are frames with ``o > threshold`` (strictly). The walk moves to a
  random unvisited neighbour, or backtracks when there is none. A walk that ends short of `num_views` marks all
  the frames it visited as excluded (their connected component) and the walk restarts elsewhere, up to
  `max_retries` attempts; if the longest walk is still short, the result is `num_views` draws with replacement
  from its frames (the walk itself is discarded, so its order is lost).

Pure numpy; the matrix may be a read-only memmap (only the rows and columns the walk visits are read).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from wai.errors import WaiFormatError

#: Neighbour threshold of most of the reference's training datasets (ETH3D uses 0.025, MPSD 0.15).
DEFAULT_THRESHOLD = 0.25
#: Attempts of the walk, as the reference's `max_retries=4`.
DEFAULT_MAX_RETRIES = 4
_EPS = 1e-8


def _check_matrix(covisibility: np.ndarray) -> int:
    shape = np.shape(covisibility)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise WaiFormatError(f"covisibility: expected a non-empty square (N, N) matrix, got shape {shape}")
    return int(shape[0])


def view_overlap(covisibility: np.ndarray, index: int, *, bidirectional: bool = True) -> np.ndarray:
    """(N,) float64 overlap of frame `index` with every frame, as the walk sees it.

    Bidirectional: the mean of row and column `index`; then divided by that vector's own entry + 1e-8 and the self
    entry set to 0. With ``bidirectional=False`` only the row (source `index`) is used.
    """
    n = _check_matrix(covisibility)
    if not 0 <= index < n:
        raise IndexError(f"covisibility: frame index {index} out of range for {n} frames")
    row = np.asarray(covisibility[index, :], dtype=np.float64)
    if bidirectional:
        row = (row + np.asarray(covisibility[:, index], dtype=np.float64)) / 2.0
    overlap = row / (row[index] + _EPS)
    overlap[index] = 0.0
    return overlap


def covisible_neighbours(
    covisibility: np.ndarray, index: int, *, threshold: float = DEFAULT_THRESHOLD, bidirectional: bool = True
) -> np.ndarray:
    """Ascending indices of the frames whose overlap with `index` is strictly above `threshold`."""
    return np.flatnonzero(view_overlap(covisibility, index, bidirectional=bidirectional) > threshold)


def overlap_edges(
    covisibility: np.ndarray, indices: Sequence[int], *, threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[int, int, float]]:
    """The overlap graph among the frames `indices` (a drawn view set), as the walk sees it.

    Returns (a, b, score) for positions a < b in `indices` whose overlap from either end is above `threshold`;
    the score is the larger of the two directions, capped at 1. Repeated frames get no edge.
    """
    overlaps = [view_overlap(covisibility, int(i)) for i in indices]
    edges = []
    for a in range(len(indices)):
        for b in range(a + 1, len(indices)):
            if indices[a] == indices[b]:
                continue
            score = max(overlaps[a][indices[b]], overlaps[b][indices[a]])
            if score > threshold:
                edges.append((a, b, float(min(score, 1.0))))
    return edges


def random_walk(
    covisibility: np.ndarray,
    num_views: int,
    rng: np.random.Generator,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_retries: int = DEFAULT_MAX_RETRIES,
    bidirectional: bool = True,
) -> np.ndarray:
    """The longest of up to `max_retries` covisibility walks (int64 indices, walk order; at most `num_views`).

    Each walk visits distinct frames, and every frame after the first has overlap > `threshold` with some frame
    before it (the one it was reached from). Restarts start outside every component already walked.
    """
    n = _check_matrix(covisibility)
    excluded = np.zeros(n, dtype=bool)
    best: list[int] = []
    for _ in range(max_retries):
        candidates = np.flatnonzero(~excluded)
        if candidates.size == 0:
            break
        start = int(rng.choice(candidates))
        walk = [start]
        stack = [start]
        visited = np.zeros(n, dtype=bool)
        visited[start] = True
        while len(walk) < num_views and stack:
            current = stack[-1]
            neighbours = covisible_neighbours(
                covisibility, current, threshold=threshold, bidirectional=bidirectional
            )
            unvisited = neighbours[~visited[neighbours]]
            if unvisited.size:
                step = int(rng.choice(unvisited))
                visited[step] = True
                walk.append(step)
                stack.append(step)
            else:
                stack.pop()
        if len(walk) >= num_views:
            return np.asarray(walk, dtype=np.int64)
        excluded |= visited
        if len(walk) > len(best):
            best = walk
    return np.asarray(best, dtype=np.int64)


def sample_views(
    covisibility: np.ndarray,
    num_views: int,
    rng: np.random.Generator | int | None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_retries: int = DEFAULT_MAX_RETRIES,
    bidirectional: bool = True,
) -> np.ndarray:
    """`num_views` frame indices (int64) for one multi-view sample, as the reference's training datasets draw them.

    covisibility: (N, N) matrix, ``M[i, j]`` = share of view i's pixels seen consistently in view j (a memmap is fine).
    rng:          a `np.random.Generator` (advanced in the reference's draw order), or a seed for a fresh one.
    threshold:    neighbour threshold on the normalised bidirectional overlap (strictly greater).

    With fewer frames than views, or a walk that cannot grow to `num_views` within `max_retries` attempts, the
    result repeats frames (see the module docstring). Otherwise the indices are distinct and in walk order: view 0
    is the random start, and each later view overlaps an earlier one above `threshold`.
    """
    n = _check_matrix(covisibility)
    if isinstance(num_views, bool) or not isinstance(num_views, (int, np.integer)) or num_views < 1:
        raise ValueError(f"num_views must be a positive integer, got {num_views!r}")
    if max_retries < 1:
        raise ValueError(f"max_retries must be at least 1, got {max_retries}")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    num_views = int(num_views)
    if num_views == n:
        return generator.permutation(n).astype(np.int64)
    if num_views > n:
        return generator.choice(n, size=num_views, replace=True).astype(np.int64)
    walk = random_walk(
        covisibility,
        num_views,
        generator,
        threshold=threshold,
        max_retries=max_retries,
        bidirectional=bidirectional,
    )
    if walk.size < num_views:
        return generator.choice(walk, size=num_views, replace=True).astype(np.int64)
    return walk
