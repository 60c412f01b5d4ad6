"""Data-loading throughput: views/s of the training loader with 0, 1, 2, ... workers, against the floor.

The floor is the bare decode of the same files in one process: image and depth of every frame the loader reads,
through the same readers, with nothing else (no sampling, cleaning, resize, augmentation, geometry or collation).
A loader with no workers can at best match it; with workers it can pass it on a machine with spare cores.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import wai
from mapa_train.data.augment import get_augment
from mapa_train.data.crop import Interpolation
from mapa_train.data.dataset import MixedDataset, SceneDataset, ViewOptions
from mapa_train.data.heap import retain_freed_memory
from mapa_train.data.resolutions import Resolution
from mapa_train.data.rows import get_row
from mapa_train.data.scene_cache import SceneCache, SceneOpener
from mapa_train.errors import MapaConfigError
from metadata.view_sampling import sample_views


@dataclasses.dataclass
class ProfileResult:
    """Views per second of the bare decode and of the loader per worker count, and their ratios."""

    views: int
    resolution: Resolution
    floor: float
    loader: dict[int, float]
    samples: int

    def ratios(self) -> dict[int, float]:
        return {w: rate / self.floor for w, rate in self.loader.items()}

    def lines(self) -> list[str]:
        w, h = self.resolution
        out = [
            f"{self.samples} sets of {self.views} views at {w}x{h}",
            f"bare decode (floor): {self.floor:8.1f} views/s",
        ]
        for workers, rate in self.loader.items():
            out.append(f"loader, {workers} workers: {rate:8.1f} views/s  ratio {rate / self.floor:5.2f}")
        return out


def frames_of(
    data: MixedDataset, indices: Sequence[int], num_views: int
) -> list[tuple[SceneDataset, str, int]]:
    """(dataset, scene path, frame index) of every view behind the seeded samples `indices` (the view draw comes
    first from each sample's generator, so repeating it names the same frames)."""
    out = []
    for i in indices:
        part, scene_idx = data.locate(i)
        ds = data.entries[part][0]
        path = ds.scene_path(scene_idx)
        covis = ds.cache.covisibility(path, ds.row.covisibility_version)
        for frame in sample_views(covis, num_views, data.generator(i), threshold=ds.threshold):
            out.append((ds, path, int(frame)))
    return out


def bare_decode_rate(
    frames: Sequence[tuple[SceneDataset, str, int]], opener: SceneOpener | None = None
) -> float:
    """Views/s of decoding the image and the row's depth of `frames`, scenes opened once in a fresh cache."""
    cache = SceneCache(opener)
    for _, path, _ in frames:
        cache.scene(path)
    start = time.perf_counter()
    for ds, path, index in frames:
        frame = cache.scene(path).frames[index]
        frame.image  # noqa: B018 - the decode is the point
        frame.load(ds.row.depth)
    return len(frames) / (time.perf_counter() - start)


def loader_rate(data: MixedDataset, samples: int, batch_size: int, workers: int) -> float:
    """Views/s through a torch DataLoader with `workers` workers (the first batch, which pays for start-up, is
    not timed)."""
    from mapa_train.data.torch_dataset import validation_loader

    loader = validation_loader(data, batch_size, num_workers=workers)
    it = iter(loader)
    first = next(it)
    start = time.perf_counter()
    count = 0
    for views in it:
        count += len(views) * len(views[0]["label"])
    elapsed = time.perf_counter() - start
    del first
    if count == 0:
        raise MapaConfigError("profile: too few samples to time the loader; raise --samples")
    return count / elapsed


def profile_data(
    root: str | Path,
    *,
    dataset: str = "generic",
    num_views: int = 4,
    resolution: Resolution = (518, 392),
    workers: Sequence[int] = (0, 1, 2),
    samples: int = 32,
    batch_size: int = 2,
    augment: str = "colorjitter+grayscale+gaublur",
    seed: int = 0,
    interpolation: Interpolation = "auto",
    opener: SceneOpener | None = None,
) -> ProfileResult:
    """Profile loading `samples` sets of `num_views` views from the scenes under `root` with `dataset`'s row."""
    retain_freed_memory()  # as the loader does in its process, so the floor and the loader share the heap policy
    scenes = wai.list_scenes(root)
    if not scenes:
        raise MapaConfigError(f"profile: no scenes under '{root}'")
    ds = SceneDataset(get_row(dataset), root, scenes, cache=SceneCache(opener))
    options = ViewOptions(augment=get_augment(augment), aug_crop=16, interpolation=interpolation)
    data = MixedDataset(
        [(ds, samples)], num_views=num_views, resolutions=[resolution], options=options, seed=seed
    )
    frames = frames_of(data, range(batch_size, samples), num_views)  # the timed ones: all but the first batch
    floors = [bare_decode_rate(frames, opener)]
    rates = {int(w): loader_rate(data, samples, batch_size, int(w)) for w in workers}
    floors.append(bare_decode_rate(frames, opener))
    floor = max(floors)  # the faster of a run before and after the loaders: drift cannot flatter the ratio
    return ProfileResult(num_views, resolution, floor, rates, samples)
