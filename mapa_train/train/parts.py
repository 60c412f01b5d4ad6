"""What a run trains, from its config: the model, the data (`mapa_train.data`) and the losses (`mapa_train.losses`).

The dataset config names a mixture (or lists entries); its `num_views`, `variable_num_views` and
`resolution_train` override the mixture's, and `train_params.max_num_of_imgs_per_gpu` sets the sampler's ipg.
Every rank builds the same sampler sequence and takes its own batches (round-robin), so the DataLoaders are not
handed to Accelerate. Validation sets are fixed (seeded, one resolution) and sharded over the ranks.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from mapa_train.errors import MapaConfigError
from mapa_train.train.loop import RunParts
from mapa_train.train.model_setup import build_run_model


def build_mixture(cfg: DictConfig) -> Any:
    """The run's `Mixture`: the named one or the listed entries, with the dataset config's overrides applied."""
    from mapa_train.data.mixtures import Mixture, named_mixture
    from mapa_train.data.resolutions import resolve_resolutions

    data = cfg.dataset
    if data.mixture and data.entries:
        raise MapaConfigError("dataset: give either `mixture` or `entries`, not both")
    if data.mixture:
        base = named_mixture(str(data.mixture))
        if data.val_entries:
            base = dataclasses.replace(
                base,
                val=Mixture.from_dict(
                    {"name": base.name, "train": [], "val": OmegaConf.to_container(data.val_entries)}
                ).val,
            )
    elif data.entries:
        base = Mixture.from_dict(
            {
                "name": f"{cfg.run.stage}_entries",
                "train": OmegaConf.to_container(data.entries),
                "val": OmegaConf.to_container(data.val_entries) if data.val_entries else [],
            }
        )
    else:
        raise MapaConfigError("dataset: set `mixture` (a named mixture) or `entries`")
    resolutions = data.resolution_train
    if not isinstance(resolutions, str):
        resolutions = resolve_resolutions(OmegaConf.to_container(resolutions))
    return dataclasses.replace(
        base,
        num_views=int(data.num_views),
        variable_num_views=bool(data.variable_num_views),
        resolutions=resolutions,
        ipg=int(cfg.train_params.max_num_of_imgs_per_gpu),
    )


def data_root(cfg: DictConfig) -> Path:
    root = cfg.machine.root_data_dir
    if not root:
        raise MapaConfigError(
            "machine.root_data_dir is not set: export MAPA_DATA_ROOT, pass machine.root_data_dir=..., or "
            "machine=/path/to/your_machine.yaml"
        )
    path = Path(str(root))
    if not path.is_dir():
        raise MapaConfigError(f"machine.root_data_dir {path} is not a folder")
    return path


def build_parts(cfg: DictConfig, rank: int, world: int) -> RunParts:
    """Model, train loader (dynamic sampler), validation loaders and the train / eval losses of `cfg`."""
    from mapa_train.data.build import train_dataset, train_sampler, validation_datasets
    from mapa_train.data.dataset import view_counts
    from mapa_train.data.sampler import validation_batch_size
    from mapa_train.data.torch_dataset import train_loader, validation_loader
    from mapa_train.losses import build_loss, check_model_outputs

    model, notes = build_run_model(cfg)
    check_model_outputs(str(cfg.loss.name), getattr(model, "output_keys", None), str(cfg.model.name))
    mixture = build_mixture(cfg)
    root = data_root(cfg)
    meta = cfg.machine.mapanything_dataset_metadata_dir or None
    seed = int(cfg.train_params.seed)
    norm = str(cfg.model.data_norm_type)
    data = train_dataset(
        mixture,
        root,
        metadata_dir=meta,
        seed=seed,
        data_norm_type=norm,
        principal_point_centered=bool(cfg.dataset.principal_point_centered),
    )
    sampler = train_sampler(data, mixture, world_size=world, rank=rank, seed=seed)
    workers = int(cfg.dataset.num_workers)
    loader = train_loader(data, sampler, num_workers=workers, pin_memory=torch.cuda.is_available())
    val_batch = validation_batch_size(int(cfg.train_params.max_num_of_imgs_per_gpu), mixture.num_views)
    val_loaders = {
        name: validation_loader(ds, val_batch, world_size=world, rank=rank, num_workers=workers)
        for name, ds in validation_datasets(mixture, root, metadata_dir=meta, data_norm_type=norm).items()
    }
    notes.append(
        f"mixture {mixture.name}: {mixture.train_size:,} sets per epoch over {len(mixture.train)} datasets, "
        f"validation sets {sorted(val_loaders) or 'none'}"
    )
    return RunParts(
        model=model,
        train_loader=loader,
        val_loaders=val_loaders,
        train_loss=build_loss(str(cfg.loss.name)),
        val_loss=build_loss(str(cfg.loss.name), split="eval"),
        view_counts=view_counts(mixture.num_views, mixture.variable_num_views),
        notes=notes,
    )
