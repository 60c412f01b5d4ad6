"""The one training dataset: multi-view samples from WAI scenes of any dataset row, and their mixture.

`SceneDataset` is one dataset (a row, a root, a scene list) and builds a sample from a scene index; `MixedDataset`
concatenates entries with virtual sizes (the reference's ``K @ DS + ...``), re-draws the scene mapping each epoch,
seeds every sample, and retries broken samples. Numpy only; `mapa_train.data.torch_dataset` wraps it for torch.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mapa_train.data.augment import ColorAugment, augment_and_normalize, check_normalization
from mapa_train.data.cleaning import MissingModalityWarner, read_clean_view
from mapa_train.data.crop import Interpolation, IntrinsicsMode, crop_resize
from mapa_train.data.resolutions import Resolution
from mapa_train.data.rows import DatasetRow
from mapa_train.data.sample import build_view
from mapa_train.data.scene_cache import SceneCache
from mapa_train.errors import MapaConfigError, MapaDataError
from metadata.view_sampling import sample_views
from wai.allocator import keep_freed_memory
from wai.errors import where

log = logging.getLogger(__name__)


def keep_sample_pages() -> bool:
    """Make the process that builds samples keep their freed pages (`wai.allocator`): a 4-view sample at 518x392
    allocates and frees tens of MB, so blocks up to 64 MiB stay in the heap, which is trimmed past 256 MiB free."""
    return keep_freed_memory(largest_block_mib=64, keep_free_mib=256)


@dataclasses.dataclass(frozen=True)
class ViewOptions:
    """How views are cropped, augmented and emitted (shared by every entry of a mixture)."""

    augment: ColorAugment = ColorAugment()
    data_norm_type: str = "dinov2"
    aug_crop: int = 0
    """Scale jitter: one draw in [0, aug_crop) per view is added to both target sides (used when > 1)."""
    principal_point_centered: bool = False
    interpolation: Interpolation = "auto"
    intrinsics: IntrinsicsMode = "exact"
    keys: tuple[str, ...] | None = None
    """Emit only these view keys (None: every reference key)."""


@dataclasses.dataclass
class DataStats:
    """Counters of one process's data loading, for the training log."""

    samples: int = 0
    retries: int = 0
    failed: int = 0
    """Samples given up after the last retry (the error was raised)."""
    nonfinite_depth: int = 0
    """Depth pixels that were NaN or infinite (zeroed, or the sample failed)."""
    skipped_rules: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class SceneDataset:
    """The scenes of one dataset row under `root`, read through the `wai` Scene interface."""

    def __init__(
        self,
        row: DatasetRow,
        root: str | Path,
        scenes: Sequence[str],
        *,
        covisibility_threshold: float | None = None,
        cache: SceneCache | None = None,
    ) -> None:
        if not scenes:
            raise MapaConfigError(f"dataset '{row.name}' under '{root}': the scene list is empty")
        self.row = row
        self.root = str(root)
        self.scenes = list(scenes)
        self.threshold = (
            row.covisibility_threshold if covisibility_threshold is None else covisibility_threshold
        )
        self.cache = cache or SceneCache()
        self.warner = MissingModalityWarner()

    def __len__(self) -> int:
        return len(self.scenes)

    def __repr__(self) -> str:
        return f"SceneDataset({self.row.name!r}, {self.root!r}, scenes={len(self)})"

    def scene_path(self, scene_idx: int) -> str:
        name = self.scenes[scene_idx]
        return f"{self.root.rstrip('/')}/{name}"

    def sample(
        self,
        scene_idx: int,
        num_views: int,
        resolution: Resolution,
        rng: np.random.Generator,
        options: ViewOptions,
        ar_idx: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """`num_views` views of scene `scene_idx` at `resolution` (W, H), and the non-finite depth count."""
        path = self.scene_path(scene_idx)
        name = self.scenes[scene_idx]
        try:
            scene = self.cache.scene(path)
            covis = self.cache.covisibility(path, self.row.covisibility_version)
            indices = sample_views(covis, num_views, rng, threshold=self.threshold)
        except Exception as exc:
            raise MapaDataError(f"{where(scene=name)}: {exc}") from exc
        prepared = []
        nonfinite = 0
        for frame_idx in indices:
            frame = scene.frames[int(frame_idx)]
            try:
                clean = read_clean_view(frame, self.row, name, self.warner)
                extra = int(rng.integers(0, options.aug_crop)) if options.aug_crop > 1 else 0
                cropped = crop_resize(
                    clean.image,
                    clean.depth,
                    clean.camera,
                    resolution,
                    masks=None if clean.non_ambiguous is None else {"non_ambiguous": clean.non_ambiguous},
                    aug_extra=extra,
                    principal_point_centered=options.principal_point_centered,
                    interpolation=options.interpolation,
                    intrinsics=options.intrinsics,
                )
            except Exception as exc:
                raise MapaDataError(f"{where(scene=name, frame=frame.name)}: {exc}") from exc
            nonfinite += clean.nonfinite
            prepared.append((frame.name, clean, cropped))
        metric = self.row.metric
        if metric is None:
            metric = getattr(scene, "scale_type", None) == "metric"
        rng_fields = [int.from_bytes(rng.bytes(4), "big") for _ in prepared]
        views = []
        for position, ((frame_name, clean, cropped), rng_field) in enumerate(
            zip(prepared, rng_fields, strict=True)
        ):
            img = augment_and_normalize(cropped.image, options.augment, options.data_norm_type, rng)
            views.append(
                build_view(
                    img=img,
                    depth=cropped.depth,
                    camera=cropped.camera,
                    cam2world=clean.cam2world,
                    non_ambiguous=cropped.masks.get("non_ambiguous"),
                    dataset=self.row.label,
                    label=name,
                    instance=f"images/{frame_name}",
                    idx=(scene_idx, ar_idx, position),
                    is_metric_scale=bool(metric),
                    is_synthetic=self.row.synthetic,
                    data_norm_type=options.data_norm_type,
                    rng=rng_field,
                    keys=options.keys,
                )
            )
        return views, nonfinite


def view_counts(num_views: int, variable: bool) -> tuple[int, ...]:
    """The reference's view-count options: [2, ..., N] when variable and N > 2, else [N]."""
    if num_views < 1:
        raise MapaConfigError(f"num_views must be at least 1, got {num_views}")
    return tuple(range(2, num_views + 1)) if variable and num_views > 2 else (num_views,)


class MixedDataset:
    """Entries of (SceneDataset, virtual size) behind one index space, as the reference's ``K @ A + K2 @ B``.

    An index is ``(sample_idx, ar_idx, nv_idx)`` (or ``(sample_idx, ar_idx)`` with one view count, or a bare int with
    one resolution too). `set_epoch` re-maps virtual samples to scenes: per entry a permutation of its scenes, tiled
    to the virtual size. Every sample draws from its own generator seeded with (seed, epoch, sample_idx) so the same
    seed gives the same bytes in any worker; with ``fixed=True`` (validation) the epoch is ignored.
    """

    def __init__(
        self,
        entries: Sequence[tuple[SceneDataset, int]],
        *,
        num_views: int,
        resolutions: Sequence[Resolution],
        variable_num_views: bool = False,
        options: ViewOptions | None = None,
        seed: int = 0,
        fixed: bool = False,
        max_retries: int = 5,
    ) -> None:
        if not entries:
            raise MapaConfigError("a mixture needs at least one dataset")
        for ds, size in entries:
            if size < 1:
                raise MapaConfigError(f"{ds!r}: virtual size must be positive, got {size}")
        self.entries = list(entries)
        self.options = options or ViewOptions()
        check_normalization(self.options.data_norm_type)
        self.resolutions = tuple(resolutions)
        self.view_counts = view_counts(num_views, variable_num_views)
        self.seed = int(seed)
        self.fixed = fixed
        self.max_retries = max_retries
        self.sizes = np.array([size for _, size in self.entries], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.stats = DataStats()
        self.epoch = 0
        self._mapping: list[np.ndarray] = []
        self._map_epoch(0)

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def _map_epoch(self, epoch: int) -> None:
        self._mapping = []
        for part, (ds, size) in enumerate(self.entries):
            perm = np.random.default_rng([self.seed, epoch, part, 777]).permutation(len(ds))
            reps = -(-size // len(ds))
            self._mapping.append(np.tile(perm, reps)[:size])

    def set_epoch(self, epoch: int) -> None:
        """Re-draw the scene mapping and the per-sample seeds for `epoch` (ignored by a fixed set)."""
        if self.fixed:
            return
        self.epoch = int(epoch)
        self._map_epoch(self.epoch)

    def locate(self, sample_idx: int) -> tuple[int, int]:
        """(entry, scene index) of a virtual sample index."""
        if not 0 <= sample_idx < len(self):
            raise IndexError(f"sample index {sample_idx} out of range for {len(self)} samples")
        part = int(np.searchsorted(self.offsets, sample_idx, side="right") - 1)
        return part, int(self._mapping[part][sample_idx - self.offsets[part]])

    def _parse(self, index: Any) -> tuple[int, int, int]:
        if isinstance(index, (int, np.integer)):
            if len(self.resolutions) != 1 or len(self.view_counts) != 1:
                raise MapaConfigError("an int index needs one resolution and one view count; pass a tuple")
            return int(index), 0, 0
        items = tuple(int(i) for i in index)
        if len(items) == 2:
            if len(self.view_counts) != 1:
                raise MapaConfigError("a (sample, ar) index needs one view count; pass (sample, ar, nv)")
            return items[0], items[1], 0
        if len(items) != 3:
            raise MapaConfigError(f"expected an index (sample, ar[, nv]), got {index!r}")
        return items  # type: ignore[return-value]

    def generator(self, sample_idx: int) -> np.random.Generator:
        key = [self.seed, sample_idx] if self.fixed else [self.seed, self.epoch, sample_idx]
        return np.random.default_rng(key)

    def __getitem__(self, index: Any) -> list[dict[str, Any]]:
        sample_idx, ar_idx, nv_idx = self._parse(index)
        resolution = self.resolutions[ar_idx]
        num_views = self.view_counts[nv_idx]
        part, scene_idx = self.locate(sample_idx)
        ds = self.entries[part][0]
        rng = self.generator(sample_idx)
        retries = 0
        while True:
            try:
                views, nonfinite = ds.sample(scene_idx, num_views, resolution, rng, self.options, ar_idx)
                break
            except Exception as exc:
                if retries >= self.max_retries:
                    self.stats.failed += 1
                    log.error(
                        "sample %d (%s): giving up after %d retries: %s",
                        sample_idx,
                        ds.row.name,
                        retries,
                        exc,
                    )
                    raise
                retries += 1
                self.stats.retries += 1
                log.warning(
                    "sample %d (%s): %s; retry %d/%d with another scene",
                    sample_idx,
                    ds.row.name,
                    exc,
                    retries,
                    self.max_retries,
                )
                scene_idx = int(rng.integers(len(ds)))
        self.stats.samples += 1
        self.stats.nonfinite_depth += nonfinite
        self.stats.skipped_rules = sum(d.warner.skips for d, _ in self.entries)
        for view in views:
            view["sample_retries"] = retries
            view["nonfinite_depth"] = nonfinite
        return views
