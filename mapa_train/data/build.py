"""From a `Mixture` and a data root to the training dataset, its validation sets and the train sampler."""

from __future__ import annotations

import logging
from pathlib import Path

import wai
from mapa_train.data.augment import get_augment
from mapa_train.data.dataset import MixedDataset, SceneDataset, ViewOptions, view_counts
from mapa_train.data.mixtures import Mixture, MixtureEntry
from mapa_train.data.rows import get_row
from mapa_train.data.sampler import DynamicBatchSampler
from mapa_train.data.scene_cache import SceneCache, SceneOpener
from mapa_train.errors import MapaConfigError
from metadata.scene_lists import read_scene_list, scene_list_path

log = logging.getLogger(__name__)


def entry_scenes(entry: MixtureEntry, data_root: str | Path, metadata_dir: str | Path | None) -> list[str]:
    """The entry's scenes: explicit, else the split list under `metadata_dir`, else every scene under its root."""
    if entry.scenes is not None:
        return list(entry.scenes)
    root = Path(data_root) / entry.folder
    if metadata_dir is not None:
        return read_scene_list(scene_list_path(metadata_dir, entry.folder, entry.split))
    log.warning(
        "%s: no metadata dir given; using every scene under '%s' for split '%s'",
        entry.dataset,
        root,
        entry.split,
    )
    return wai.list_scenes(root)


def scene_dataset(
    entry: MixtureEntry,
    data_root: str | Path,
    metadata_dir: str | Path | None = None,
    cache: SceneCache | None = None,
) -> SceneDataset:
    root = f"{str(data_root).rstrip('/')}/{entry.folder}" if entry.folder != "." else str(data_root)
    scenes = entry_scenes(entry, data_root, metadata_dir)
    return SceneDataset(
        get_row(entry.dataset), root, scenes, covisibility_threshold=entry.covisibility_threshold, cache=cache
    )


def train_dataset(
    mixture: Mixture,
    data_root: str | Path,
    *,
    metadata_dir: str | Path | None = None,
    seed: int = 0,
    data_norm_type: str = "dinov2",
    principal_point_centered: bool = False,
    keys: tuple[str, ...] | None = None,
    opener: SceneOpener | None = None,
) -> MixedDataset:
    """The mixture's training set: every entry behind one index space, augmented, seeded by `seed`."""
    cache = SceneCache(opener)
    entries = [(scene_dataset(e, data_root, metadata_dir, cache), e.size) for e in mixture.train]
    options = ViewOptions(
        augment=get_augment(mixture.augment),
        data_norm_type=data_norm_type,
        aug_crop=mixture.aug_crop,
        principal_point_centered=principal_point_centered,
        keys=keys,
    )
    return MixedDataset(
        entries,
        num_views=mixture.num_views,
        variable_num_views=mixture.variable_num_views,
        resolutions=mixture.resolution_set,
        options=options,
        seed=seed,
    )


def validation_datasets(
    mixture: Mixture,
    data_root: str | Path,
    *,
    metadata_dir: str | Path | None = None,
    data_norm_type: str = "dinov2",
    keys: tuple[str, ...] | None = None,
    opener: SceneOpener | None = None,
) -> dict[str, MixedDataset]:
    """One fixed set per validation entry (keyed by row name): one resolution, N views, no augmentation, and the
    same samples every epoch under `mixture.val_seed`."""
    cache = SceneCache(opener)
    out: dict[str, MixedDataset] = {}
    for entry in mixture.val:
        if entry.resolution is None:
            raise MapaConfigError(f"validation entry '{entry.dataset}' needs a fixed resolution")
        ds = scene_dataset(entry, data_root, metadata_dir, cache)
        out[entry.dataset] = MixedDataset(
            [(ds, entry.size)],
            num_views=mixture.num_views,
            resolutions=[entry.resolution],
            options=ViewOptions(data_norm_type=data_norm_type, keys=keys),
            seed=mixture.val_seed,
            fixed=True,
        )
    return out


def train_sampler(
    dataset: MixedDataset,
    mixture: Mixture,
    *,
    world_size: int = 1,
    rank: int = 0,
    seed: int = 0,
    ipg: int | None = None,
    token_budget: int | None = None,
) -> DynamicBatchSampler:
    """The dynamic sampler over `dataset` with the mixture's resolutions and view counts."""
    return DynamicBatchSampler(
        len(dataset),
        resolutions=dataset.resolutions,
        view_counts=view_counts(mixture.num_views, mixture.variable_num_views),
        ipg=ipg or mixture.ipg,
        world_size=world_size,
        rank=rank,
        seed=seed,
        token_budget=token_budget,
    )
