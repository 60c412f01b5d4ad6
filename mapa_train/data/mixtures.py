"""Dataset mixtures as typed config: entries of (dataset row, virtual size, split, options), never strings to eval.

`MIXTURES` expresses every mixture of the reference's table (training spec 3.3): the 13-dataset and 6-dataset
mixtures at each ipg / GPU count, BlendedMVS only, and mono. Mixing weights are the relative virtual sizes. The
sizes are scaled so that an epoch is a fixed step count: 2,981 steps per rank for every 13d mixture, 3,020 for 6d.

    mixture = named_mixture("megatrain_13d_518_many_ar_48ipg_64g")
    mixture = load_mixture("my_mixture.yaml")        # or Mixture.from_dict({...})
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from mapa_train.data.resolutions import Resolution, resolve_resolutions
from mapa_train.data.rows import APACHE_6, TRAINING_13, get_row
from mapa_train.errors import MapaConfigError, MapaUnknownNameError

Split = Literal["train", "val", "test"]


@dataclasses.dataclass(frozen=True)
class MixtureEntry:
    """One dataset in a mixture."""

    dataset: str
    """Row name (`mapa_train.data.rows.ROWS`)."""
    size: int
    """Virtual samples per epoch (the reference's ``K @``)."""
    split: Split = "train"
    root: str | None = None
    """Folder under the data root (default: the row's folder)."""
    covisibility_threshold: float | None = None
    """Override the row's threshold."""
    resolution: Resolution | None = None
    """A fixed resolution for this entry (validation); default: the mixture's set."""
    scenes: tuple[str, ...] | None = None
    """Explicit scene names (default: the split list, or every scene under the root)."""

    def __post_init__(self) -> None:
        get_row(self.dataset)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1:
            raise MapaConfigError(
                f"mixture entry '{self.dataset}': size must be a positive int, got {self.size!r}"
            )
        if self.split not in ("train", "val", "test"):
            raise MapaConfigError(f"mixture entry '{self.dataset}': unknown split {self.split!r}")

    @property
    def folder(self) -> str:
        return self.root if self.root is not None else get_row(self.dataset).folder


@dataclasses.dataclass(frozen=True)
class Mixture:
    """A training mixture, its validation sets, and the settings the reference's mixture configs fix."""

    name: str
    train: tuple[MixtureEntry, ...]
    val: tuple[MixtureEntry, ...] = ()
    num_views: int = 4
    variable_num_views: bool = True
    resolutions: str | tuple[Resolution, ...] = "518_many_ar"
    ipg: int = 36
    """Images per GPU the virtual sizes were scaled for."""
    num_gpus: int = 64
    augment: str = "colorjitter+grayscale+gaublur"
    aug_crop: int = 16
    val_seed: int = 777

    def __post_init__(self) -> None:
        if not self.train:
            raise MapaConfigError(f"mixture '{self.name}': no training entries")
        resolve_resolutions(self.resolutions)  # fail early on a bad set

    @property
    def resolution_set(self) -> tuple[Resolution, ...]:
        return resolve_resolutions(self.resolutions)

    @property
    def train_size(self) -> int:
        return sum(e.size for e in self.train)

    def iterations_per_epoch(self, world_size: int | None = None) -> int:
        """Steps per rank per epoch with the reference's sampler: ``(sum K // max(1, ipg // N_min)) // world``."""
        n_min = 2 if self.variable_num_views and self.num_views > 2 else self.num_views
        return (self.train_size // max(1, self.ipg // n_min)) // (world_size or self.num_gpus)

    def to_dict(self) -> dict[str, Any]:
        def entry(e: MixtureEntry) -> dict[str, Any]:
            out = {k: v for k, v in dataclasses.asdict(e).items() if v is not None}
            for key in ("resolution", "scenes"):
                if key in out:
                    out[key] = list(out[key])
            return out

        out = dataclasses.asdict(self)
        out["train"] = [entry(e) for e in self.train]
        out["val"] = [entry(e) for e in self.val]
        if not isinstance(self.resolutions, str):
            out["resolutions"] = [list(r) for r in self.resolutions]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Mixture:
        """Build from plain data (YAML/JSON), rejecting unknown keys by name."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise MapaConfigError(
                f"mixture: unknown keys {sorted(unknown)}; expected some of {sorted(fields)}"
            )
        if "name" not in data or "train" not in data:
            raise MapaConfigError("mixture: 'name' and 'train' are required")
        values = dict(data)
        values["train"] = tuple(_entry(e, "train") for e in data["train"])
        values["val"] = tuple(_entry(e, "val") for e in data.get("val", ()))
        if "resolutions" in values and not isinstance(values["resolutions"], str):
            values["resolutions"] = resolve_resolutions(values["resolutions"])
        return cls(**values)


def _entry(data: Any, default_split: Split) -> MixtureEntry:
    if not isinstance(data, Mapping):
        raise MapaConfigError(f"mixture entry: expected a mapping, got {data!r}")
    fields = {f.name for f in dataclasses.fields(MixtureEntry)}
    unknown = set(data) - fields
    if unknown:
        raise MapaConfigError(f"mixture entry {dict(data)}: unknown keys {sorted(unknown)}")
    values = {"split": default_split, **data}
    if values.get("resolution") is not None:
        values["resolution"] = tuple(values["resolution"])
    if values.get("scenes") is not None:
        values["scenes"] = tuple(values["scenes"])
    return MixtureEntry(**values)


def load_mixture(source: str | Path | Mapping[str, Any]) -> Mixture:
    """A mixture from a YAML file, a mapping, or a registered name."""
    if isinstance(source, Mapping):
        return Mixture.from_dict(source)
    if isinstance(source, str) and source in MIXTURES:
        return MIXTURES[source]
    path = Path(source)
    if not path.is_file():
        raise MapaUnknownNameError(f"mixture {str(source)!r} is neither a registered name nor a YAML file")
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, Mapping):
        raise MapaConfigError(f"{path}: expected a mapping at the top level")
    return Mixture.from_dict(data)


# --- the reference's table --------------------------------------------------------------------------------------

#: Per-dataset virtual sizes of the 13d mixtures at 36 ipg on 64 GPUs; the other 13d configs scale these.
_13D_BASE = {name: 315_000 for name in TRAINING_13} | {
    "dynamicreplica": 240_000,
    "spring": 12_000,
    "unrealstereo4k": 33_000,
}
#: The 6d sizes are listed per config in the reference (they do not scale exactly).
_6D_SIZES = {
    "36ipg_64g": {"big": 840_000, "spring": 33_000, "unrealstereo4k": 87_000},
    "48ipg_64g": {"big": 1_120_000, "spring": 44_000, "unrealstereo4k": 116_000},
    "48ipg_8g": {"big": 140_000, "spring": 5_500, "unrealstereo4k": 14_500},
}
_VAL_SIZE = {"spring": 500, "unrealstereo4k": 500}


def _val(names: tuple[str, ...]) -> tuple[MixtureEntry, ...]:
    from mapa_train.data.resolutions import VAL_ASPECTS

    out = []
    for name in names:
        aspect = get_row(name).val_aspect
        resolution = VAL_ASPECTS[aspect] if aspect else None
        out.append(MixtureEntry(name, _VAL_SIZE.get(name, 4_000), "val", resolution=resolution))
    return tuple(out)


def _13d(tag: str, ipg: int, gpus: int, factor: float, num_views: int = 4) -> Mixture:
    train = tuple(MixtureEntry(n, round(_13D_BASE[n] * factor)) for n in TRAINING_13)
    return Mixture(
        f"megatrain_13d_518_many_ar_{tag}",
        train,
        _val(TRAINING_13),
        num_views=num_views,
        ipg=ipg,
        num_gpus=gpus,
    )


def _6d(tag: str, ipg: int, gpus: int) -> Mixture:
    sizes = _6D_SIZES[tag]
    train = tuple(MixtureEntry(n, sizes.get(n, sizes["big"])) for n in APACHE_6)
    return Mixture(f"megatrain_6d_518_many_ar_{tag}", train, _val(APACHE_6), ipg=ipg, num_gpus=gpus)


MIXTURES: dict[str, Mixture] = {
    m.name: m
    for m in (
        _13d("36ipg_64g", 36, 64, 1.0),
        _13d("48ipg_64g", 48, 64, 4 / 3),
        _13d("24ipg_16g", 24, 16, 1 / 6),
        _13d("24ipg_8g", 24, 8, 1 / 12),
        _13d("48ipg_8g_mono", 48, 8, 1 / 3, num_views=1),
        _6d("36ipg_64g", 36, 64),
        _6d("48ipg_64g", 48, 64),
        _6d("48ipg_8g", 48, 8),
        Mixture(
            "bmvs_518_many_ar_48ipg_8g",
            (MixtureEntry("blendedmvs", 140_000),),
            _val(("blendedmvs",)),
            ipg=48,
            num_gpus=8,
        ),
    )
}


def named_mixture(name: str) -> Mixture:
    try:
        return MIXTURES[name]
    except KeyError:
        raise MapaUnknownNameError(f"unknown mixture {name!r}; known: {', '.join(MIXTURES)}") from None
