"""The model registry: architecture families and their named variants, as data (timm's `model_args` style).

A family is one architecture definition (config dataclass + module class); a variant is a function that returns a
config. `mapa-train models` and the tests enumerate this table, so a new entry is listed and tested the day it lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from mapa_train.errors import MapaUnknownNameError
from mapa_train.models.config_io import apply_overrides
from mapa_train.models.mapanything import config as mapa_cfg
from mapa_train.models.mapanything.config import MapAnythingConfig
from mapa_train.models.mapanything.model import MapAnything
from mapa_train.models.moge2 import config as moge2_cfg
from mapa_train.models.moge2.config import MoGe2Config
from mapa_train.models.moge2.model import MoGe2
from mapa_train.models.pi3 import config as pi3_cfg
from mapa_train.models.pi3.config import Pi3Config
from mapa_train.models.pi3.model import Pi3
from mapa_train.models.vggt import config as vggt_cfg
from mapa_train.models.vggt.config import VGGTConfig
from mapa_train.models.vggt.model import VGGT


@dataclass(frozen=True)
class ModelFamily:
    """One architecture: its config class, the module class built as `model_cls(config)`, and how many views
    its `forward(views)` accepts."""

    name: str
    config_cls: type
    model_cls: type[nn.Module]
    description: str
    max_views: int | None = None  # views one forward takes at most (None: any number)


@dataclass(frozen=True)
class ModelEntry:
    """One named variant. `published_params` is the reference's parameter count where one is published."""

    name: str
    family: str
    variant: str
    make_config: Callable[[], Any]
    description: str
    published_params: int | None = None


FAMILIES: dict[str, ModelFamily] = {}
MODELS: dict[str, ModelEntry] = {}


def register_family(family: ModelFamily) -> None:
    """Add an architecture family."""
    FAMILIES[family.name] = family


def register_model(entry: ModelEntry) -> None:
    """Add a named variant of a registered family."""
    if entry.family not in FAMILIES:
        raise MapaUnknownNameError(f"model {entry.name!r} names unknown family {entry.family!r}")
    MODELS[entry.name] = entry


def get_entry(name: str) -> ModelEntry:
    """The registry entry called `name`."""
    if name not in MODELS:
        raise MapaUnknownNameError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    return MODELS[name]


def build_from_config(family: str, config: Any) -> nn.Module:
    """Build a module of `family` from a config object."""
    if family not in FAMILIES:
        raise MapaUnknownNameError(f"unknown model family {family!r}; registered: {sorted(FAMILIES)}")
    return FAMILIES[family].model_cls(config)


def build_model(name: str, overrides: dict[str, Any] | None = None, device: str | torch.device | None = None):
    """Build the registered variant `name` (random init), with dotted config overrides, on `device`."""
    entry = get_entry(name)
    config = apply_overrides(entry.make_config(), overrides or {})
    if device is None:
        return build_from_config(entry.family, config)
    with torch.device(device):
        return build_from_config(entry.family, config)


def family_of(model: nn.Module) -> str:
    """The family name of a built model."""
    for family in FAMILIES.values():
        if type(model) is family.model_cls:
            return family.name
    raise MapaUnknownNameError(f"{type(model).__name__} is not a registered model family")


def count_parameters(model: nn.Module) -> int:
    """Number of distinct parameters (shared tensors counted once; frozen ones included)."""
    return sum(p.numel() for p in model.parameters())


def count_registered_parameters(name: str) -> int:
    """Parameter count of the variant `name`, built on the meta device (no memory, no init cost)."""
    return count_parameters(build_model(name, device="meta"))


def model_table() -> list[dict[str, Any]]:
    """One row per registered variant: name, family, variant, params (meta count), published, description."""
    rows = []
    for entry in MODELS.values():
        rows.append(
            {
                "name": entry.name,
                "family": entry.family,
                "variant": entry.variant,
                "params": count_registered_parameters(entry.name),
                "published_params": entry.published_params,
                "description": entry.description,
            }
        )
    return rows


register_family(
    ModelFamily("mapanything", MapAnythingConfig, MapAnything, "MapAnything multi-view reconstruction")
)
for _entry in (
    ModelEntry(
        "mapanything_tiny",
        "mapanything",
        "tiny",
        mapa_cfg.mapanything_tiny,
        "CPU test model, every code path",
    ),
    ModelEntry(
        "mapanything_mid", "mapanything", "mid", mapa_cfg.mapanything_mid, "ViT-S-sized, CPU benchmarks"
    ),
    ModelEntry(
        "mapanything_v1",
        "mapanything",
        "full",
        mapa_cfg.mapanything_v1,
        "V1: ViT-L + AAT 24×768",
        563_335_382,
    ),
    ModelEntry(
        "mapanything_v1.1",
        "mapanything",
        "full",
        mapa_cfg.mapanything_v1_1,
        "V1.1: ViT-g[:24] + AAT 16×1536 SwiGLU",
        1_228_491_222,
    ),
    ModelEntry(
        "mapanything_v1_gat",
        "mapanything",
        "ablation",
        mapa_cfg.mapanything_v1_global_attention,
        "global attention",
    ),
    ModelEntry(
        "mapanything_v1_no_ref_view",
        "mapanything",
        "ablation",
        mapa_cfg.mapanything_v1_no_ref_view,
        "no ref-view PE",
    ),
    ModelEntry(
        "mapanything_ablations",
        "mapanything",
        "ablation",
        mapa_cfg.mapanything_ablations,
        "no scale token; pred_head.adaptor picks the output representation",
    ),
):
    register_model(_entry)


register_family(ModelFamily("vggt", VGGTConfig, VGGT, "VGGT multi-view geometry transformer"))
register_family(ModelFamily("pi3", Pi3Config, Pi3, "π³ permutation-equivariant multi-view reconstruction"))
register_family(ModelFamily("moge2", MoGe2Config, MoGe2, "MoGe-2 single-view metric geometry", max_views=1))
for _entry in (
    ModelEntry("vggt_tiny", "vggt", "tiny", vggt_cfg.vggt_tiny, "CPU test model"),
    ModelEntry(
        "vggt",
        "vggt",
        "full",
        vggt_cfg.vggt_1b,
        "VGGT-1B (facebook/VGGT-1B): camera, depth, point and track heads",
        1_256_537_516,
    ),
    ModelEntry("pi3_tiny", "pi3", "tiny", pi3_cfg.pi3_tiny, "CPU test model"),
    ModelEntry(
        "pi3", "pi3", "full", pi3_cfg.pi3_large, "π³ (yyfz233/Pi3): ViT-L-reg + 36-block decoder", 958_696_732
    ),
    ModelEntry("moge2_tiny", "moge2", "tiny", moge2_cfg.moge2_tiny, "CPU test model (with normal head)"),
    ModelEntry(
        "moge2_vitl",
        "moge2",
        "full",
        moge2_cfg.moge2_vitl,
        "MoGe-2 ViT-L (Ruicheng/moge-2-vitl)",
        326_209_221,
    ),
    ModelEntry(
        "moge2_vitl_normal",
        "moge2",
        "full",
        moge2_cfg.moge2_vitl_normal,
        "MoGe-2 ViT-L + normal head (Ruicheng/moge-2-vitl-normal)",
        330_901_544,
    ),
):
    register_model(_entry)


def format_model_table(rows: list[dict[str, Any]]) -> str:
    """The `model_table` rows as an aligned text table (parameter counts with thousands separators)."""
    header = ("name", "family", "variant", "params", "published", "description")
    lines = [header]
    for row in rows:
        published = f"{row['published_params']:,}" if row["published_params"] else "-"
        lines.append(
            (row["name"], row["family"], row["variant"], f"{row['params']:,}", published, row["description"])
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {3, 4}
    out = []
    for line in lines:
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)
