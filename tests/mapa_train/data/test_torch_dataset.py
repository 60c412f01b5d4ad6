"""The torch glue: collation as the reference's default_collate, DataLoader with workers equal to in-process
samples, device moves that keep the host keys, and counters that reach the training loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import wai  # noqa: E402
from mapa_train.data.dataset import MixedDataset, SceneDataset  # noqa: E402
from mapa_train.data.rows import get_row  # noqa: E402
from mapa_train.data.sampler import DynamicBatchSampler  # noqa: E402
from mapa_train.data.torch_dataset import (  # noqa: E402
    batch_data_stats,
    train_loader,
    validation_loader,
    views_to_device,
)

RES = [(56, 42), (42, 56)]


def dataset(root: Path) -> MixedDataset:
    ds = SceneDataset(get_row("synthetic"), root, wai.list_scenes(root))
    return MixedDataset([(ds, 12)], num_views=3, variable_num_views=True, resolutions=RES, seed=2)


def test_loader_batches_match_direct_samples_with_and_without_workers(synthetic_root: Path) -> None:
    data = dataset(synthetic_root)
    sampler = DynamicBatchSampler(len(data), resolutions=RES, view_counts=data.view_counts, ipg=6, seed=4)
    sampler.set_epoch(0)
    expected = list(sampler)
    for workers in (0, 2):
        loader = train_loader(data, sampler, num_workers=workers)
        got = list(loader)
        assert len(got) == len(expected)
        for views, batch in zip(got, expected, strict=True):
            sample_idx, ar, nv = batch[0]
            n = data.view_counts[nv]
            assert len(views) == n
            w, h = RES[ar]
            assert views[0]["img"].shape == (len(batch), 3, h, w)
            assert views[0]["valid_mask"].dtype == torch.bool and views[0]["is_metric_scale"].shape == (
                len(batch),
            )
            assert isinstance(views[0]["label"], list) and len(views[0]["idx"]) == 3
            direct = data[batch[-1]]
            for v in range(n):
                np.testing.assert_array_equal(views[v]["pts3d"][-1].numpy(), direct[v]["pts3d"])
                np.testing.assert_array_equal(views[v]["img"][-1].numpy(), direct[v]["img"])
            assert batch_data_stats(views) == {"sample_retries": 0, "nonfinite_depth": 0}


def test_views_to_device_keeps_host_keys(synthetic_root: Path) -> None:
    data = MixedDataset(
        [(SceneDataset(get_row("synthetic"), synthetic_root, ["room_000"]), 4)],
        num_views=2,
        resolutions=[(56, 42)],
    )
    views = next(iter(validation_loader(data, 2)))
    moved = views_to_device(views, "meta")
    assert moved[0]["img"].device.type == "meta" and moved[0]["depthmap"].device.type == "cpu"
    assert moved[0]["true_shape"].device.type == "cpu"


def test_retries_in_workers_reach_the_batch(synthetic_copy: Path) -> None:
    for path in (synthetic_copy / "room_000" / "images").iterdir():
        path.unlink()
    ds = SceneDataset(get_row("synthetic"), synthetic_copy, ["objects_001", "room_000"])
    data = MixedDataset([(ds, 8)], num_views=2, resolutions=[(56, 42)], seed=1)
    loader = validation_loader(data, 4, num_workers=1)
    retries = sum(batch_data_stats(views)["sample_retries"] for views in loader)
    assert retries >= 4  # every set drawn from room_000 was retried, counted across the worker boundary
