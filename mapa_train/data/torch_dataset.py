"""The torch side of the data: a `Dataset` over `MixedDataset`, collation, DataLoaders and moving views to a device.

The only module of `mapa_train.data` that imports torch. A batch is what the reference's default collation gives: a
list of N view dicts, each value with a leading batch dimension (arrays and numbers as tensors, strings as lists,
``idx`` as a list of three tensors).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from typing import Any

import cv2
import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from mapa_train.data.dataset import MixedDataset, keep_sample_pages
from mapa_train.data.sample import HOST_KEYS
from mapa_train.data.sampler import DynamicBatchSampler, ValidationSampler


class ViewSetDataset(Dataset):
    """A torch `Dataset` whose items are the numpy view lists of a `MixedDataset` (index tuples pass through).

    The process that loads an item (a worker, or the trainer itself with ``num_workers=0``) switches its malloc to
    keep freed pages (`mapa_train.data.dataset.keep_sample_pages`): its resident size then stays near its peak.
    """

    def __init__(self, data: MixedDataset) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: Any) -> list[dict[str, Any]]:
        keep_sample_pages()  # in whichever process loads: a worker, or the trainer with no workers
        return self.data[index]

    def set_epoch(self, epoch: int) -> None:
        self.data.set_epoch(epoch)


def collate_views(batch: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Collate B samples of N views into N view dicts with a leading batch dimension (torch's default rules)."""
    return default_collate(list(batch))


def worker_context() -> str:
    """Start workers from a fresh process (forkserver, else spawn), never by forking the trainer: a fork taken while
    OpenCV's or torch's thread pools are live can leave a worker hung on a lock no thread will release."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def worker_init(_worker_id: int) -> None:
    """One OpenCV and one torch thread per loader worker (the workers are the parallelism), and a heap that keeps
    freed pages (`keep_sample_pages`)."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    keep_sample_pages()


def train_loader(
    data: MixedDataset,
    sampler: DynamicBatchSampler,
    *,
    num_workers: int = 0,
    pin_memory: bool = False,
    prefetch_factor: int | None = None,
    persistent_workers: bool = False,
) -> DataLoader:
    """A DataLoader that draws `sampler`'s batches from `data`; call `set_epoch` on both before each epoch."""
    return DataLoader(
        ViewSetDataset(data),
        batch_sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate_views,
        pin_memory=pin_memory,
        worker_init_fn=worker_init if num_workers else None,
        prefetch_factor=prefetch_factor if num_workers else None,
        persistent_workers=persistent_workers and num_workers > 0,
        multiprocessing_context=worker_context() if num_workers else None,
    )


def validation_loader(
    data: MixedDataset, batch_size: int, *, world_size: int = 1, rank: int = 0, num_workers: int = 0
) -> DataLoader:
    """A DataLoader over a fixed validation set (one resolution, one view count), sharded over ranks."""
    return DataLoader(
        ViewSetDataset(data),
        batch_sampler=ValidationSampler(len(data), batch_size, world_size=world_size, rank=rank),
        num_workers=num_workers,
        collate_fn=collate_views,
        worker_init_fn=worker_init if num_workers else None,
        multiprocessing_context=worker_context() if num_workers else None,
    )


def views_to_device(
    views: list[dict[str, Any]], device: torch.device | str, *, non_blocking: bool = True
) -> list[dict[str, Any]]:
    """Move every tensor except the reference's host-only keys (depthmap, names, idx, ...) to `device`."""
    out = []
    for view in views:
        moved = {}
        for key, value in view.items():
            if key not in HOST_KEYS and isinstance(value, torch.Tensor):
                value = value.to(device, non_blocking=non_blocking)
            moved[key] = value
        out.append(moved)
    return out


def batch_data_stats(views: list[dict[str, Any]]) -> dict[str, int]:
    """Retries and non-finite depth pixels behind a collated batch (for the training log, from any worker)."""
    first = views[0]
    stats = {}
    if "sample_retries" in first:
        stats["sample_retries"] = int(first["sample_retries"].sum())
    if "nonfinite_depth" in first:
        stats["nonfinite_depth"] = int(first["nonfinite_depth"].sum())
    return stats
