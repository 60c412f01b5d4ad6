"""Built views are reused across the sets of a scene, bounded in bytes, and change no result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mapa_train.benchmark.datasets import SceneReader, dataset_scenes, get_benchmark_dataset
from mapa_train.benchmark.runner import BenchmarkConfig, run_benchmark
from mapa_train.benchmark.sets import select_sets
from mapa_train.benchmark.view_cache import ViewCache, view_nbytes
from tests.factories import synthetic_root


def _view(fill: float) -> dict:
    return {"pts3d": np.full((5, 5), fill, np.float32), "is_metric_scale": True}  # 100 bytes


def test_least_recently_used_views_go_first():
    cache = ViewCache(250)
    for key in "abc":
        cache.put(key, _view(1.0))
        if key == "b":
            assert cache.get("a") is not None  # "a" is now the most recent
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert len(cache) == 2 and cache.nbytes == 200 == 2 * view_nbytes(_view(0.0))
    assert (cache.hits, cache.misses) == (3, 1)
    cached = cache.get("c")
    with pytest.raises(ValueError, match="read-only"):
        cached["pts3d"][0, 0] = 2.0
    big = {"pts3d": np.zeros(1000, np.float32)}
    assert cache.put("big", big) is big and cache.get("big") is None  # larger than the whole cache
    assert ViewCache(0).put("x", _view(1.0)) is not None and len(ViewCache(0)) == 0


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    return synthetic_root(tmp_path_factory.mktemp("cache"), scenes=2, frames=5)


def test_sets_sharing_frames_read_each_frame_once(data_root):
    dataset = get_benchmark_dataset("synthetic")
    cached, plain = SceneReader(dataset, data_root, 2**30), SceneReader(dataset, data_root)
    scenes = dataset_scenes(dataset, data_root, None)
    sets = select_sets(
        "synthetic",
        scenes,
        5,  # every frame of the 5-frame scenes, in a different order per set
        covisibility=cached.covisibility,
        frame_names=cached.frame_names,
        threshold=cached.row.covisibility_threshold,
        sets_per_scene=2,
    )
    for s in sets:
        got, expected = cached.views(s, (56, 42), "dinov2"), plain.views(s, (56, 42), "dinov2")
        for a, b in zip(got, expected, strict=True):
            assert set(a) == set(b)
            for key in a:
                np.testing.assert_array_equal(a[key], b[key])
    assert cached.cache.misses == 10 and cached.cache.hits == 10  # 2 scenes x 5 frames, each read once
    assert plain.cache.hits == 0 and len(plain.cache) == 0


def test_a_run_with_the_cache_gives_the_rows_of_a_run_without(data_root, tmp_path):
    tables = []
    for cache_mb in (0, 64):
        config = BenchmarkConfig(
            model="mapanything_tiny",
            data=data_root,
            out=tmp_path / str(cache_mb),
            views=(3, 5),
            datasets=("synthetic",),
            sets_per_scene=2,
            resolution=(56, 42),
            cache_mb=cache_mb,
        )
        rows = run_benchmark(config).rows
        tables.append([{k: v for k, v in r.items() if k != "forward_s"} for r in rows])
    assert len(tables[0]) == 2 * 2 * 2
    assert tables[0] == tables[1]
