"""View sampling from a covisibility matrix: the reference's random walk, its draw order, and its edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wai
from metadata.view_sampling import covisible_neighbours, random_walk, sample_views, view_overlap


def reference_sample(covis: np.ndarray, n: int, rng: np.random.Generator, thres: float) -> list[int]:
    """The reference's `_sample_view_indices` + `_random_walk_sampling`, written out with Python lists and sets."""
    total = covis.shape[0]
    if n == total:
        return list(rng.permutation(total))
    if n > total:
        return list(rng.choice(total, n, replace=True))
    excluded: set[int] = set()
    best: list[int] = []
    for _ in range(4):
        candidates = [i for i in range(total) if i not in excluded]
        if not candidates:
            break
        start = rng.choice(candidates)
        walk, stack, seen = [start], [start], {start}
        while len(walk) < n and stack:
            cur = stack[-1]
            o = (covis[cur, :] + covis[:, cur]) / 2
            o = o / (o[cur] + 1e-8)
            o[cur] = 0
            nbrs = [j for j in np.where(o > thres)[0] if j not in seen]
            if nbrs:
                nxt = rng.choice(nbrs)
                walk.append(nxt)
                stack.append(nxt)
                seen.add(nxt)
            else:
                stack.pop()
        if len(walk) == n:
            return walk
        excluded |= seen
        if len(walk) > len(best):
            best = walk
    if len(best) < n:
        return list(rng.choice(best, size=n, replace=True))
    return best


def chain(n: int, overlap: float = 0.5, diag: float = 0.8) -> np.ndarray:
    """Frames along a line: each sees only its direct neighbours."""
    m = np.zeros((n, n), np.float32)
    np.fill_diagonal(m, diag)
    for i in range(n - 1):
        m[i, i + 1] = m[i + 1, i] = overlap * diag
    return m


def random_matrix(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = rng.random((n, n)).astype(np.float32) * (rng.random((n, n)) < 0.3)
    np.fill_diagonal(m, rng.uniform(0.3, 1.0, n))
    return m.astype(np.float32)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("num_views", [1, 2, 4, 9, 16, 20])
def test_same_draws_as_the_reference(seed: int, num_views: int) -> None:
    matrix = random_matrix(16, seed)
    ours = sample_views(matrix, num_views, np.random.default_rng(seed), threshold=0.25)
    expected = reference_sample(matrix, num_views, np.random.default_rng(seed), 0.25)
    np.testing.assert_array_equal(ours, np.asarray(expected))


def test_deterministic_under_a_seed_and_varies_across_seeds() -> None:
    matrix = random_matrix(40, 3)
    first = sample_views(matrix, 6, 1234)
    np.testing.assert_array_equal(first, sample_views(matrix, 6, np.random.default_rng(1234)))
    draws = {tuple(sample_views(matrix, 6, seed)) for seed in range(20)}
    assert len(draws) > 10
    assert first.dtype == np.int64


@pytest.mark.parametrize("seed", range(20))
def test_every_view_overlaps_an_earlier_one_above_the_threshold(seed: int) -> None:
    matrix = random_matrix(30, seed + 100)
    views = sample_views(matrix, 5, seed, threshold=0.3)
    if len(set(views.tolist())) < 5:
        pytest.skip("this matrix has no component of 5 frames")
    for k in range(1, len(views)):
        overlaps = [view_overlap(matrix, int(views[p]))[views[k]] for p in range(k)]
        assert max(overlaps) > 0.3


def test_walk_follows_a_chain_in_one_direction_or_backtracks() -> None:
    matrix = chain(10)
    for seed in range(10):
        views = sample_views(matrix, 4, seed)
        assert len(set(views.tolist())) == 4
        # On a chain, every view after the first extends the contiguous block walked so far.
        for k in range(1, 4):
            earlier = set(views[:k].tolist())
            assert views[k] - 1 in earlier or views[k] + 1 in earlier


def test_normalised_by_the_sources_own_covisibility() -> None:
    matrix = np.array([[0.4, 0.12, 0.0], [0.12, 0.4, 0.0], [0.0, 0.0, 1.0]], np.float32)
    # 0.12 / 0.4 = 0.3 > 0.25, although 0.12 itself is below the threshold.
    np.testing.assert_array_equal(covisible_neighbours(matrix, 0), [1])
    np.testing.assert_allclose(view_overlap(matrix, 0), [0.0, 0.3, 0.0], atol=1e-6)
    # Bidirectional: an asymmetric pair counts with the mean of both directions.
    asym = np.array([[1.0, 0.5], [0.0, 1.0]], np.float32)
    np.testing.assert_allclose(view_overlap(asym, 1), [0.25, 0.0], atol=1e-6)
    np.testing.assert_allclose(view_overlap(asym, 1, bidirectional=False), [0.0, 0.0])
    assert covisible_neighbours(asym, 1).size == 0  # 0.25 is not strictly above 0.25


def test_fewer_frames_than_views_draws_with_replacement() -> None:
    matrix = chain(3)
    views = sample_views(matrix, 8, 0)
    assert views.shape == (8,) and set(views.tolist()) <= {0, 1, 2}
    assert len(set(views.tolist())) < 8
    same = sample_views(matrix, 3, 0)
    assert sorted(same.tolist()) == [0, 1, 2]


def test_disconnected_components_are_excluded_on_retry_and_the_best_walk_is_resampled() -> None:
    # Components {0, 1}, {2, 3, 4}, {5}: no walk reaches 4 frames.
    matrix = np.zeros((6, 6), np.float32)
    matrix[:2, :2] = 0.5
    matrix[2:5, 2:5] = 0.5
    matrix[5, 5] = 0.5
    for seed in range(30):
        views = sample_views(matrix, 4, seed)
        assert views.shape == (4,)
        # The result is drawn from one component only, the largest one reached.
        component = {0, 1} if views[0] < 2 else {2, 3, 4} if views[0] < 5 else {5}
        assert set(views.tolist()) <= component
    walks = [random_walk(matrix, 4, np.random.default_rng(seed)) for seed in range(30)]
    # With 4 attempts and exclusion, every component gets walked, so the longest (3 frames) always wins.
    assert all(sorted(w.tolist()) == [2, 3, 4] for w in walks)


def test_a_component_large_enough_is_found_after_a_failed_start() -> None:
    matrix = np.zeros((7, 7), np.float32)
    np.fill_diagonal(matrix, 1.0)
    matrix[3:7, 3:7] = 1.0  # frames 0, 1, 2 see only themselves
    for seed in range(20):
        views = sample_views(matrix, 4, seed)
        assert sorted(views.tolist()) == [3, 4, 5, 6]


def test_zero_diagonal_does_not_crash_and_counts_as_no_neighbour_below_threshold() -> None:
    matrix = np.zeros((4, 4), np.float32)
    views = sample_views(matrix, 2, 0)
    assert views.shape == (2,) and views[0] == views[1]


def test_reads_the_matrix_memory_mapped(tmp_path: Path) -> None:
    matrix = chain(12)
    path = Path(wai.store(tmp_path / "covisibility/v0/pairwise_covisibility.npy", matrix, "mmap"))
    mapped = np.memmap(path, dtype=np.float32, mode="r", offset=128, shape=(12, 12))
    np.testing.assert_array_equal(sample_views(mapped, 5, 7), sample_views(matrix, 5, 7))


@pytest.mark.parametrize(
    ("matrix", "num_views", "message"),
    [
        (np.zeros((3, 4), np.float32), 2, "square"),
        (np.zeros((0, 0), np.float32), 2, "square"),
        (np.eye(3, dtype=np.float32), 0, "positive"),
    ],
)
def test_bad_arguments(matrix: np.ndarray, num_views: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample_views(matrix, num_views, 0)


def test_overlap_edges_follow_the_walks_overlap() -> None:
    from metadata.view_sampling import overlap_edges

    m = np.array(
        [[1.0, 0.5, 0.0, 0.0], [0.1, 0.5, 0.2, 0.0], [0.0, 0.2, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
        dtype=np.float32,
    )
    edges = overlap_edges(m, [0, 1, 2, 3, 1], threshold=0.25)
    # 0-1: from 1, (0.1 + 0.5) / 2 / 0.5 = 0.6 (capped at 1 otherwise); 1-2: from 1, 0.2 / 0.5 = 0.4; 3 sees nobody.
    assert [(a, b) for a, b, _ in edges] == [(0, 1), (0, 4), (1, 2), (2, 4)]
    assert edges[0][2] == pytest.approx(0.6, rel=1e-6)
    assert edges[2][2] == pytest.approx(0.4, rel=1e-6)
