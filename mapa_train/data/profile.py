"""Data-loading throughput: views/s of the training loader with 0, 1, 2, ... workers, against the floor.

The floor is the bare decode of the folder layout's files in one process: image and depth of every frame the
loader reads, through the same readers, with nothing else (no sampling, cleaning, resize, augmentation, geometry or
collation). A loader with no workers can at best match it; with workers it can pass it on a machine with spare
cores. The packed layout (`wai pack` stores, by default packed here at the training resolution) is timed the same
way and compared with the same folder floor: it beats it when decoding the smaller stored images saves more than
the loader's own work costs.

Every figure is the median of `repeats` repetitions, and a ratio is the median of per-repetition ratios against
the floor of the same repetition, so a shared machine's drift hits both sides alike. The passes that run in this
process (the decodes, the loader without workers) are also timed by this process's CPU time, which other jobs on
a shared machine disturb far less than the wall clock.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import wai
from mapa_train.data.augment import get_augment
from mapa_train.data.crop import Interpolation
from mapa_train.data.dataset import MixedDataset, SceneDataset, ViewOptions, keep_sample_pages
from mapa_train.data.resolutions import Resolution
from mapa_train.data.rows import get_row
from mapa_train.data.scene_cache import SceneCache, SceneOpener
from mapa_train.errors import MapaConfigError
from metadata.view_sampling import sample_views


@dataclasses.dataclass(frozen=True)
class Rate:
    """Views/s of one timed pass by the wall clock and, for a pass in this process, by its CPU time."""

    wall: float
    cpu: float | None = None


@dataclasses.dataclass
class LayoutRates:
    """Per-repetition rates of one layout: the bare decode of its files and the loader per worker count."""

    name: str
    location: str
    decode: list[Rate] = dataclasses.field(default_factory=list)
    loader: dict[int, list[Rate]] = dataclasses.field(default_factory=dict)
    note: str = ""


def _median_wall(rates: list[Rate]) -> float:
    return statistics.median(r.wall for r in rates)


@dataclasses.dataclass
class ProfileResult:
    """Views per second of the bare decode and of the loader per worker count and layout, and their ratios."""

    views: int
    resolution: Resolution
    samples: int
    folder: LayoutRates
    packed: LayoutRates | None = None
    aug_crop: int = 0
    interpolation: str = "auto"

    @property
    def floor(self) -> float:
        """Median views/s of the bare decode of the folder files (wall clock)."""
        return _median_wall(self.folder.decode)

    @property
    def loader(self) -> dict[int, float]:
        """Median views/s of the loader on the folder layout, per worker count (wall clock)."""
        return {w: _median_wall(rates) for w, rates in self.folder.loader.items()}

    def ratio(self, rates: list[Rate]) -> float:
        """Median of the per-repetition wall-clock ratios of `rates` to the folder floor."""
        return statistics.median(r.wall / f.wall for r, f in zip(rates, self.folder.decode, strict=True))

    def cpu_ratio(self, rates: list[Rate]) -> float | None:
        """The same by CPU time; None for passes outside this process (loaders with workers)."""
        pairs = list(zip(rates, self.folder.decode, strict=True))
        if any(r.cpu is None or f.cpu is None for r, f in pairs):
            return None
        return statistics.median(r.cpu / f.cpu for r, f in pairs)  # type: ignore[operator]

    def ratios(self) -> dict[int, float]:
        """Folder loader / folder floor per worker count (wall clock)."""
        return {w: self.ratio(r) for w, r in self.folder.loader.items()}

    def rows(self) -> list[tuple[str, str, float, float, float | None]]:
        """(layout, pass, views/s, ratio to the folder floor, the same by CPU time or None) of every pass."""
        out = []
        for layout in (self.folder, self.packed):
            if layout is None:
                continue
            passes = [("bare decode", layout.decode)]
            passes += [(f"loader, {w} workers", rates) for w, rates in layout.loader.items()]
            for name, rates in passes:
                out.append((layout.name, name, _median_wall(rates), self.ratio(rates), self.cpu_ratio(rates)))
        return out

    def lines(self) -> list[str]:
        w, h = self.resolution
        repeats = len(self.folder.decode)
        out = [
            f"{self.samples} sets of {self.views} views at {w}x{h} (aug_crop {self.aug_crop}, interpolation "
            f"{self.interpolation}); median of {repeats} interleaved repetition(s)",
            f"bare decode (floor): {self.floor:8.1f} views/s of the folder files",
            f"{'layout':<8} {'pass':<20} {'views/s':>8} {'x floor':>8} {'x floor (cpu)':>14}",
        ]
        for layout, name, rate, ratio, cpu in self.rows():
            cpu_text = "-" if cpu is None else f"{cpu:.2f}"
            out.append(f"{layout:<8} {name:<20} {rate:8.1f} {ratio:8.2f} {cpu_text:>14}")
        for layout in (self.folder, self.packed):
            if layout is not None:
                out.append(f"{layout.name}: {layout.location}{f' ({layout.note})' if layout.note else ''}")
        return out

    def as_dict(self) -> dict[str, object]:
        def figures(layout: LayoutRates) -> dict[str, object]:
            return {
                "location": layout.location,
                "decode_views_per_s": _median_wall(layout.decode),
                "decode_ratio": self.ratio(layout.decode),
                "loader_views_per_s": {str(k): _median_wall(v) for k, v in layout.loader.items()},
                "ratio": {str(k): self.ratio(v) for k, v in layout.loader.items()},
                "ratio_cpu": {str(k): self.cpu_ratio(v) for k, v in layout.loader.items()},
            }

        payload: dict[str, object] = {
            "views": self.views,
            "resolution": list(self.resolution),
            "samples": self.samples,
            "repeats": len(self.folder.decode),
            "floor_views_per_s": self.floor,
            "loader_views_per_s": {str(k): v for k, v in self.loader.items()},
            "ratio": {str(k): v for k, v in self.ratios().items()},
            "ratio_cpu": figures(self.folder)["ratio_cpu"],
        }
        if self.packed is not None:
            payload["packed"] = figures(self.packed)
        return payload


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
) -> Rate:
    """Views/s of decoding the image and the row's depth of `frames`, scenes opened once in a fresh cache."""
    cache = SceneCache(opener)
    for _, path, _ in frames:
        cache.scene(path)
    start, cpu = time.perf_counter(), time.process_time()
    for ds, path, index in frames:
        frame = cache.scene(path).frames[index]
        frame.image  # noqa: B018 - the decode is the point
        frame.load(ds.row.depth)
    return Rate(len(frames) / (time.perf_counter() - start), len(frames) / (time.process_time() - cpu))


def loader_rate(data: MixedDataset, samples: int, batch_size: int, workers: int) -> Rate:
    """Views/s through a torch DataLoader with `workers` workers (the first batch, which pays for start-up, is
    not timed)."""
    from mapa_train.data.torch_dataset import validation_loader

    loader = validation_loader(data, batch_size, num_workers=workers)
    it = iter(loader)
    first = next(it)
    start, cpu = time.perf_counter(), time.process_time()
    count = 0
    for views in it:
        count += len(views) * len(views[0]["label"])
    elapsed, cpu_elapsed = time.perf_counter() - start, time.process_time() - cpu
    del first
    if count == 0:
        raise MapaConfigError("profile: too few samples to time the loader; raise --samples")
    return Rate(count / elapsed, count / cpu_elapsed if workers == 0 else None)


def default_pack_resolution(resolution: Resolution, aug_crop: int) -> Resolution:
    """The size to pack for: the largest target the `aug_crop` jitter draws, so the loader never enlarges."""
    extra = max(aug_crop - 1, 0)
    return resolution[0] + extra, resolution[1] + extra


@contextmanager
def packed_stores(root: str | Path, resolution: Resolution | None) -> Iterator[Path]:
    """`root`'s scenes packed into a temporary folder of ``<scene>.zarr`` stores (at `resolution`, None: full size),
    removed afterwards."""
    from wai.pack import run_pack

    with tempfile.TemporaryDirectory(prefix="mapa-profile-pack-") as tmp:
        out = Path(tmp) / "stores"
        report = run_pack(root, out, resolution=resolution, progress=False)
        if report.failed:
            raise MapaConfigError(f"profile: packing '{root}' failed: {report.summary()}")
        yield out


def _dataset(
    root: str | Path,
    dataset: str,
    opener: SceneOpener | None,
    samples: int,
    num_views: int,
    resolution: Resolution,
    options: ViewOptions,
    seed: int,
) -> MixedDataset:
    scenes = wai.list_scenes(root)
    if not scenes:
        raise MapaConfigError(f"profile: no scenes under '{root}'")
    ds = SceneDataset(get_row(dataset), root, scenes, cache=SceneCache(opener))
    return MixedDataset(
        [(ds, samples)], num_views=num_views, resolutions=[resolution], options=options, seed=seed
    )


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
    aug_crop: int = 16,
    seed: int = 0,
    interpolation: Interpolation = "auto",
    opener: SceneOpener | None = None,
    packed: str | Path | None = None,
    pack: bool = False,
    pack_resolution: Resolution | None | str = "auto",
    repeats: int = 1,
) -> ProfileResult:
    """Profile loading `samples` sets of `num_views` views from the scenes under `root` with `dataset`'s row.

    The packed layout is timed too when `packed` names a folder of stores of the same scenes, or with `pack`
    (then `root` is packed to a temporary folder at `pack_resolution`: "auto" is `default_pack_resolution`, None
    keeps the full size).
    """
    if repeats < 1:
        raise MapaConfigError(f"profile: repeats must be at least 1, got {repeats}")
    keep_sample_pages()  # as the loader does in its process, so the floor and the loader share the heap policy
    with _one_thread():
        return _profile(
            root, dataset, num_views, resolution, workers, samples, batch_size, augment, aug_crop, seed,
            interpolation, opener, packed, pack, pack_resolution, repeats,
        )  # fmt: skip


@contextmanager
def _one_thread() -> Iterator[None]:
    """OpenCV and torch on one thread in this process while profiling, as in the loader's workers: the in-process
    passes then use one core, like the bare decode, and their CPU times compare like with like."""
    import cv2
    import torch

    before = cv2.getNumThreads(), torch.get_num_threads()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before[0])
        torch.set_num_threads(before[1])


def _profile(
    root: str | Path,
    dataset: str,
    num_views: int,
    resolution: Resolution,
    workers: Sequence[int],
    samples: int,
    batch_size: int,
    augment: str,
    aug_crop: int,
    seed: int,
    interpolation: Interpolation,
    opener: SceneOpener | None,
    packed: str | Path | None,
    pack: bool,
    pack_resolution: Resolution | None | str,
    repeats: int,
) -> ProfileResult:
    options = ViewOptions(augment=get_augment(augment), aug_crop=aug_crop, interpolation=interpolation)
    build = dict(dataset=dataset, opener=opener, samples=samples, num_views=num_views, resolution=resolution)
    folder_data = _dataset(root, options=options, seed=seed, **build)  # type: ignore[arg-type]
    timed = range(batch_size, samples)  # all but the first batch, which the loader does not time
    layouts = [(LayoutRates("folder", str(root)), folder_data, frames_of(folder_data, timed, num_views))]
    with _packed_location(root, packed, pack, pack_resolution, resolution, aug_crop) as (location, note):
        if location is not None:
            packed_data = _dataset(location, options=options, seed=seed, **build)  # type: ignore[arg-type]
            rates = LayoutRates("packed", str(location), note=note)
            layouts.append((rates, packed_data, frames_of(packed_data, timed, num_views)))
        for _ in range(repeats):
            for rates, _data, frames in layouts:
                rates.decode.append(bare_decode_rate(frames, opener))
            for w in workers:
                for rates, data, _ in layouts:
                    rates.loader.setdefault(int(w), []).append(loader_rate(data, samples, batch_size, int(w)))
    return ProfileResult(
        num_views,
        resolution,
        samples,
        layouts[0][0],
        layouts[1][0] if len(layouts) > 1 else None,
        aug_crop=aug_crop,
        interpolation=interpolation,
    )


@contextmanager
def _packed_location(
    root: str | Path,
    packed: str | Path | None,
    pack: bool,
    pack_resolution: Resolution | None | str,
    resolution: Resolution,
    aug_crop: int,
) -> Iterator[tuple[Path | None, str]]:
    if packed is not None:
        yield Path(packed), "given stores"
        return
    if not pack:
        yield None, ""
        return
    size = default_pack_resolution(resolution, aug_crop) if pack_resolution == "auto" else pack_resolution
    where = f"at {size[0]}x{size[1]}" if isinstance(size, tuple) else "at full size"
    note = f"packed {where} for this run into a temporary folder, removed after"
    with packed_stores(root, size if isinstance(size, tuple) else None) as out:
        yield out, note
