"""Saving and loading weights: our own safetensors + config JSON format, reading foreign checkpoint files, and a
load that reports missing and unexpected keys (strict loads fail loudly, naming them).

`torch.load` is only ever called with `weights_only=True`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_model
from torch import nn

from mapa_train.errors import MapaCheckpointError, MapaWeightsNotFoundError
from mapa_train.models.config_io import config_from_dict, config_to_dict
from mapa_train.models.registry import FAMILIES, build_from_config, family_of
from wai.atomic import atomic_path, atomic_write_text

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


@dataclass
class LoadReport:
    """What a state-dict load filled and what it could not match."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    shape_mismatch: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.shape_mismatch)

    def summary(self, limit: int = 10) -> str:
        """One line per problem class, with up to `limit` key names each."""
        parts = [f"{len(self.loaded)} tensors loaded"]
        for label, keys in (
            ("missing", self.missing),
            ("unexpected", self.unexpected),
            ("shape", self.shape_mismatch),
        ):
            if keys:
                more = f" … (+{len(keys) - limit})" if len(keys) > limit else ""
                parts.append(f"{len(keys)} {label}: {', '.join(keys[:limit])}{more}")
        return "; ".join(parts)


def compare_state_dict(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> LoadReport:
    """Which tensors of `state_dict` fit `model` (by name and shape), without copying anything; works on models
    built on the meta device and on memory-mapped or meta tensors."""
    own = model.state_dict()
    report = LoadReport()
    for key, value in state_dict.items():
        if key not in own:
            report.unexpected.append(key)
        elif tuple(own[key].shape) != tuple(value.shape):
            report.shape_mismatch.append(f"{key} {tuple(value.shape)}≠{tuple(own[key].shape)}")
        else:
            report.loaded.append(key)
    report.missing = [k for k in own if k not in state_dict]
    report.loaded.sort()
    return report


def load_state_dict_with_report(
    model: nn.Module, state_dict: dict[str, torch.Tensor], strict: bool = True, source: str = "state dict"
) -> LoadReport:
    """Copy matching tensors into `model`; with `strict`, any missing, unexpected or mis-shaped key raises."""
    report = compare_state_dict(model, state_dict)
    if strict and not report.ok:
        raise MapaCheckpointError(
            f"strict load of {source} into {type(model).__name__} failed: {report.summary()}"
        )
    model.load_state_dict({k: state_dict[k] for k in report.loaded}, strict=False)
    return report


def _unwrap(data: Any, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(torch.is_tensor(v) for v in data.values()):
        raise MapaCheckpointError(
            f"checkpoint {path}: expected a state dict of tensors (optionally under 'model')"
        )
    return data


def read_checkpoint(path: str | Path, how_to_get: str = "", lazy: bool = False) -> dict[str, torch.Tensor]:
    """Flat state dict from a `.safetensors` file or a torch file (a `{"model": …}` wrapper is unwrapped).

    `lazy` reads only what is needed to know names and shapes: a safetensors header (tensors on the meta device)
    or a memory-mapped torch file, so a multi-GB checkpoint can be checked cheaply before a run.
    """
    path = Path(path)
    if not path.is_file():
        hint = f" ({how_to_get})" if how_to_get else ""
        raise MapaWeightsNotFoundError(f"weight file not found: {path}{hint}")
    if path.suffix == ".safetensors":
        try:
            if not lazy:
                return load_file(str(path))
            with safe_open(str(path), framework="pt") as f:
                return {k: torch.empty(f.get_slice(k).get_shape(), device="meta") for k in f.keys()}  # noqa: SIM118
        except SafetensorError as exc:
            raise MapaCheckpointError(f"cannot read {path} as a safetensors file ({exc})") from exc
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True, mmap=lazy)
    except Exception as exc:
        if lazy and "mmap" in str(exc):  # an old-format (non-zip) torch file cannot be memory-mapped
            return read_checkpoint(path, how_to_get)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MapaCheckpointError(
            f"cannot read checkpoint {path} with torch.load(weights_only=True): {reason} "
            "(expected a torch file holding a state dict, or a .safetensors file)"
        ) from exc
    return _unwrap(data, path)


def save_pretrained(model: nn.Module, folder: str | Path) -> Path:
    """Write `model.safetensors` and `config.json` (family + config) into `folder`; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"family": family_of(model), "config": config_to_dict(model.config)}
    with atomic_path(folder / WEIGHTS_NAME) as tmp:
        save_model(model, str(tmp))
    atomic_write_text(folder / CONFIG_NAME, json.dumps(meta, indent=2) + "\n")
    return folder


def load_config(folder: str | Path) -> tuple[str, Any]:
    """(family, config) from `folder/config.json`."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise MapaWeightsNotFoundError(f"model config not found: {path} (write it with save_pretrained)")
    try:
        meta = json.loads(path.read_text())
        family = meta["family"]
        config = config_from_dict(FAMILIES[family].config_cls, meta["config"], where=str(path))
    except (KeyError, json.JSONDecodeError) as exc:
        raise MapaCheckpointError(f"{path}: not a model config written by save_pretrained ({exc!r})") from exc
    return family, config


def load_pretrained(folder: str | Path, strict: bool = True, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild the model saved by `save_pretrained` in `folder` and load its weights."""
    family, config = load_config(folder)
    with torch.device(device):
        model = build_from_config(family, config)
    weights = read_checkpoint(Path(folder) / WEIGHTS_NAME, "write it with save_pretrained")
    load_state_dict_with_report(model, weights, strict=strict, source=str(Path(folder) / WEIGHTS_NAME))
    return model
