"""Small stand-ins for the data and loss sides, for the engine's tests only (the real ones live in
`mapa_train.data` and `mapa_train.losses`). Every batch is a pure function of (seed, epoch, index)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig

from mapa_train.train.loop import RunParts
from mapa_train.train.model_setup import build_run_model

W, H = 56, 42


def make_views(sample_ids: list[int], num_views: int) -> list[dict[str, Any]]:
    """N view dicts of B sets: images of a tilted plane whose depth the model can learn."""
    views = []
    for v in range(num_views):
        imgs, depths = [], []
        for s in sample_ids:
            rng = np.random.default_rng([s, v])
            slope = rng.uniform(-0.5, 0.5)
            base = 1.0 + rng.uniform(0, 1)
            ramp = np.linspace(0, 1, W, dtype=np.float32)[None, :].repeat(H, 0)
            depth = base + slope * ramp
            img = np.stack([depth - 1.5, ramp - 0.5, rng.normal(0, 0.1, (H, W))]).astype(np.float32)
            imgs.append(img)
            depths.append(depth.astype(np.float32))
        views.append(
            {
                "img": torch.from_numpy(np.stack(imgs)),
                "depth_along_ray": torch.from_numpy(np.stack(depths))[..., None],
                "label": [f"scene{s}" for s in sample_ids],
            }
        )
    return views


class StandinSampler:
    """Batches of sample ids with a (seed, epoch)-seeded order and view count; resumable mid-epoch."""

    def __init__(
        self, size: int, ipg: int, view_counts: tuple[int, ...], rank: int, world: int, seed: int
    ) -> None:
        self.size, self.ipg, self.view_counts = size, ipg, view_counts
        self.rank, self.world, self.seed = rank, world, seed
        self.epoch, self._skip = 0, 0

    def __len__(self) -> int:
        return (self.size // max(1, self.ipg // min(self.view_counts))) // self.world

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self._skip = 0
        self.epoch = epoch

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(self.size)
        start, k, mine = 0, 0, 0
        skip, self._skip = self._skip, 0
        while mine < len(self):
            n = int(rng.choice(self.view_counts))
            b = max(1, self.ipg // n)
            batch = (order[start : start + b].tolist(), n)
            start = (start + b) % (self.size - b)
            if k % self.world == self.rank:
                mine += 1
                if mine > skip:
                    yield batch
            k += 1

    def state_dict(self, position: int) -> dict[str, int]:
        return {"epoch": self.epoch, "position": position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self._skip = state["epoch"], state["position"]


class StandinLoader:
    def __init__(self, sampler: StandinSampler) -> None:
        self.batch_sampler = sampler

    def __iter__(self):
        for ids, n in self.batch_sampler:
            yield make_views(ids, n)


class FixedLoader:
    def __init__(self, batches: list[list[int]], num_views: int) -> None:
        self.batches, self.num_views = batches, num_views

    def __iter__(self):
        for ids in self.batches:
            yield make_views(ids, self.num_views)


def standin_loss(preds: list[dict[str, Any]], views: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean absolute log-depth error over views (plus a tiny ray term), as {"loss", "depth", "rays"}."""
    depth = sum(
        (torch.log(p["depth_along_ray"]) - torch.log(v["depth_along_ray"])).abs().mean()
        for v, p in zip(views, preds, strict=True)
    ) / len(views)
    rays = sum((p["ray_directions"][..., 2] - 1).abs().mean() for p in preds) / len(preds)
    return {"loss": depth + 0.1 * rays, "depth": depth.detach(), "rays": rays.detach()}


def standin_parts(cfg: DictConfig, rank: int, world: int) -> RunParts:
    """Real tiny model from the config; stand-in data and loss."""
    model, notes = build_run_model(cfg)
    counts = (
        tuple(range(2, cfg.dataset.num_views + 1))
        if cfg.dataset.variable_num_views
        else (cfg.dataset.num_views,)
    )
    sampler = StandinSampler(
        64, cfg.train_params.max_num_of_imgs_per_gpu, counts, rank, world, cfg.train_params.seed
    )
    val = FixedLoader([[1000 + 2 * i + rank, 1001 + 2 * i + rank] for i in range(2)], 2)
    return RunParts(model, StandinLoader(sampler), {"val": val}, standin_loss, standin_loss, counts, notes)
