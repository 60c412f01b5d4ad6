"""Deterministic set selection: the spec's scene assignment, seeds and covisibility walk on a small matrix."""

from __future__ import annotations

import numpy as np
import pytest

from mapa_train.benchmark.sets import read_sets, scene_assignment, select_sets, write_sets
from mapa_train.errors import MapaDataError


def _chain(n: int) -> np.ndarray:
    """Frames on a line: each sees itself fully and its direct neighbours by half."""
    c = np.eye(n, dtype=np.float32)
    for i in range(n - 1):
        c[i, i + 1] = c[i + 1, i] = 0.5
    return c


def _spec_walk(c: np.ndarray, n: int, rng: np.random.Generator, thres: float) -> list[int]:
    """The spec's rule (2.3), written from its text: DFS with backtracking, up to 4 attempts, longest kept."""
    f = c.shape[0]
    if n == f:
        return list(rng.permutation(f))
    if n > f:
        return list(rng.choice(f, n, replace=True))
    excluded: set[int] = set()
    best: list[int] = []
    for _ in range(4):
        free = [i for i in range(f) if i not in excluded]
        if not free:
            break
        start = int(rng.choice(free))
        walk, stack, seen = [start], [start], {start}
        while len(walk) < n and stack:
            top = stack[-1]
            score = (c[top, :].astype(np.float64) + c[:, top]) / 2
            score = score / (score[top] + 1e-8)
            score[top] = 0
            options = [j for j in np.flatnonzero(score > thres) if j not in seen]
            if options:
                nxt = int(rng.choice(options))
                seen.add(nxt)
                walk.append(nxt)
                stack.append(nxt)
            else:
                stack.pop()
        if len(walk) >= n:
            return walk
        excluded |= seen
        best = walk if len(walk) > len(best) else best
    return list(rng.choice(best, n, replace=True))


SCENES = ["a", "b", "c"]
MATRICES = {"a": _chain(6), "b": _chain(5), "c": np.eye(7, dtype=np.float32)}  # c: no covisible pairs


def _select(num_views: int, sets_per_scene: int = 3):
    return select_sets(
        "toy",
        SCENES,
        num_views,
        covisibility=MATRICES.__getitem__,
        frame_names=lambda s: [f"{s}{i}" for i in range(MATRICES[s].shape[0])],
        threshold=0.25,
        sets_per_scene=sets_per_scene,
    )


def test_scene_assignment_is_the_tiled_seeded_permutation():
    perm = np.random.default_rng(777).permutation(3)
    pairs = scene_assignment(3, 2)
    assert pairs == [(int(perm[i % 3]), i // 3) for i in range(6)]
    assert sorted(s for s, _ in pairs) == [0, 0, 1, 1, 2, 2]  # every scene gets exactly 2 sets
    with pytest.raises(MapaDataError):
        scene_assignment(0, 2)


@pytest.mark.parametrize("num_views", [1, 3, 4, 5, 6, 8])
def test_sets_follow_the_spec_rule(num_views):
    sets = _select(num_views)
    assert len(sets) == 9
    for s in sets:
        assert s.seed == 777 + s.repeat + s.scene_idx
        expected = _spec_walk(MATRICES[s.scene], num_views, np.random.default_rng(s.seed), 0.25)
        assert list(s.frames) == [int(i) for i in expected], (s.scene, s.repeat)
        assert s.frame_names == tuple(f"{s.scene}{i}" for i in s.frames)


def test_walks_on_the_chain_are_connected_and_distinct():
    for s in _select(4):
        if s.scene == "c":  # no neighbours: the short walk is resampled, so frames repeat
            assert len(set(s.frames)) == 1
            continue
        assert s.distinct_views == 4
        for k in range(1, 4):  # every view touches an earlier one on the chain
            assert min(abs(s.frames[k] - s.frames[j]) for j in range(k)) == 1


def test_selection_is_deterministic_and_round_trips(tmp_path):
    a, b = _select(3), _select(3)
    assert a == b
    path = write_sets(tmp_path / "sets" / "toy_3v.json", a)
    assert read_sets(path) == a
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(MapaDataError, match="bad.json"):
        read_sets(tmp_path / "bad.json")
