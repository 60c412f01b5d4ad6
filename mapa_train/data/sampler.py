"""Batch samplers: the reference's dynamic sampler (one aspect ratio and one view count per batch) and a fixed
sequential sampler for validation (training spec 2).

`DynamicBatchSampler` differs from the reference where the reference is weak:

- the order depends on the run seed as well as the epoch (the reference seeds with ``777 + epoch`` only);
- an optional constant token budget per batch (views x patches), instead of ``max(1, ipg // N)`` sets;
- `state_dict` / `load_state_dict` hold the position in the epoch, so a checkpoint resumes mid-epoch.

Every rank computes the same global batch sequence and takes batches ``rank, rank + world, ...``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from mapa_train.data.resolutions import Resolution
from mapa_train.errors import MapaConfigError

BatchIndex = tuple[int, int, int]


def batch_size_for_views(ipg: int, num_views: int) -> int:
    """The reference's sets per batch: ``max(1, ipg // N)``."""
    return max(1, ipg // num_views)


def validation_batch_size(ipg: int, num_views: int) -> int:
    """The reference's validation batch: ``2 * (ipg // N)`` (at least 1)."""
    return max(1, 2 * (ipg // num_views))


class DynamicBatchSampler:
    """Batches of ``(sample_idx, ar_idx, nv_idx)`` for `MixedDataset`, used as a DataLoader's `batch_sampler`.

    dataset_size:  virtual samples in the mixture.
    resolutions:   the (W, H) set; a batch draws its aspect-ratio index uniformly from it.
    view_counts:   the view-count options; a batch draws its index uniformly from them.
    ipg:           images per GPU: a batch holds ``max(1, ipg // N)`` sets (unless `token_budget` is set).
    token_budget:  if set, a batch holds ``max(1, token_budget // (N * patches))`` sets, patches being
                   ``(W // patch_size) * (H // patch_size)``, so every batch costs about the same.
    """

    def __init__(
        self,
        dataset_size: int,
        *,
        resolutions: Sequence[Resolution],
        view_counts: Sequence[int],
        ipg: int,
        world_size: int = 1,
        rank: int = 0,
        seed: int = 0,
        drop_last: bool = True,
        token_budget: int | None = None,
        patch_size: int = 14,
    ) -> None:
        if dataset_size < 1 or ipg < 1:
            raise MapaConfigError(
                f"sampler: need dataset_size >= 1 and ipg >= 1, got {dataset_size} and {ipg}"
            )
        if not 0 <= rank < world_size:
            raise MapaConfigError(f"sampler: rank {rank} is not in [0, {world_size})")
        if not resolutions or not view_counts:
            raise MapaConfigError("sampler: resolutions and view_counts must not be empty")
        self.dataset_size = int(dataset_size)
        self.resolutions = tuple(tuple(r) for r in resolutions)
        self.view_counts = tuple(int(n) for n in view_counts)
        self.ipg = int(ipg)
        self.world_size = int(world_size)
        self.rank = int(rank)
        self.seed = int(seed)
        self.drop_last = drop_last
        self.token_budget = token_budget
        self.patch_size = patch_size
        self.epoch = 0
        self.position = 0
        self._resume_at = 0

    def batch_size(self, ar_idx: int, nv_idx: int) -> int:
        """Sets in a batch of aspect ratio `ar_idx` and view count `nv_idx`."""
        n = self.view_counts[nv_idx]
        if self.token_budget is None:
            return batch_size_for_views(self.ipg, n)
        w, h = self.resolutions[ar_idx]
        patches = (w // self.patch_size) * (h // self.patch_size)
        return max(1, self.token_budget // (n * patches))

    @property
    def max_batch_size(self) -> int:
        return max(
            self.batch_size(a, v) for a in range(len(self.resolutions)) for v in range(len(self.view_counts))
        )

    def __len__(self) -> int:
        """Batches per rank per epoch: ``(dataset_size // max_batch_size) // world_size``, as the reference."""
        return (self.dataset_size // self.max_batch_size) // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order the next iteration yields (a new epoch starts at its beginning)."""
        if int(epoch) != self.epoch:
            self._resume_at = 0
        self.epoch = int(epoch)

    def global_batches(self, epoch: int) -> Iterator[list[BatchIndex]]:
        """Every rank's batches of `epoch`, in global order (global batch k goes to rank k % world_size)."""
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(self.dataset_size)
        start = 0
        while start < self.dataset_size:
            ar = int(rng.integers(len(self.resolutions)))
            nv = int(rng.integers(len(self.view_counts)))
            size = self.batch_size(ar, nv)
            if start + size > self.dataset_size:
                if self.drop_last:
                    return
                size = self.dataset_size - start
            yield [(int(i), ar, nv) for i in order[start : start + size]]
            start += size

    def __iter__(self) -> Iterator[list[BatchIndex]]:
        total = len(self)
        skip = self._resume_at
        self._resume_at = 0
        self.position = skip
        mine = 0
        for k, batch in enumerate(self.global_batches(self.epoch)):
            if mine >= total:
                return
            if k % self.world_size != self.rank:
                continue
            mine += 1
            if mine <= skip:
                continue
            self.position = mine
            yield batch

    def state_dict(self, position: int | None = None) -> dict[str, Any]:
        """Where this rank is: the epoch and how many of its batches were consumed.

        A DataLoader with workers draws batches ahead of the training step; pass the number of batches the step
        consumed as `position` (default: the batches this sampler has yielded).
        """
        return {
            "epoch": self.epoch,
            "position": self.position if position is None else int(position),
            "seed": self.seed,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume: the next iteration of `state["epoch"]` continues after `state["position"]` batches."""
        missing = {"epoch", "position", "seed"} - set(state)
        if missing:
            raise MapaConfigError(f"sampler state: missing keys {sorted(missing)}")
        if int(state["seed"]) != self.seed:
            raise MapaConfigError(
                f"sampler state: saved with seed {state['seed']}, this run uses {self.seed}"
            )
        self.epoch = int(state["epoch"])
        self._resume_at = int(state["position"])
        self.position = self._resume_at


class ValidationSampler:
    """Fixed validation batches: sequential indices split over ranks as torch's DistributedSampler(shuffle=False)
    (padded by wrapping round to a multiple of the world size), cut into batches of `batch_size`."""

    def __init__(self, dataset_size: int, batch_size: int, *, world_size: int = 1, rank: int = 0) -> None:
        if dataset_size < 1 or batch_size < 1 or not 0 <= rank < world_size:
            raise MapaConfigError(
                f"validation sampler: bad size {dataset_size}, batch {batch_size} or rank {rank}/{world_size}"
            )
        per_rank = -(-dataset_size // world_size)
        indices = np.arange(per_rank * world_size) % dataset_size
        self.indices = indices[rank::world_size].tolist()
        self.batch_size = batch_size

    def __len__(self) -> int:
        return -(-len(self.indices) // self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        for start in range(0, len(self.indices), self.batch_size):
            yield self.indices[start : start + self.batch_size]

    def set_epoch(self, epoch: int) -> None:
        """Validation sets are frozen: the epoch changes nothing."""
