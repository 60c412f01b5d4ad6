"""Model configs <-> plain dicts (for the JSON saved beside the weights) and reference-style dotted overrides."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from mapa_train.errors import MapaConfigError

# The reference's Hydra keys for the gradient-checkpointing switches, mapped onto our config fields.
REFERENCE_KEY_ALIASES = {
    "model.encoder.gradient_checkpointing": "encoder.gradient_checkpointing",
    "model.info_sharing.module_args.gradient_checkpointing": "info_sharing.gradient_checkpointing",
    "model.pred_head.gradient_checkpointing": "pred_head.gradient_checkpointing",
}


def config_to_dict(config: Any) -> dict[str, Any]:
    """A (nested) dataclass config as JSON-ready dicts; tuples become lists."""
    return dataclasses.asdict(config)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(value, dict):
        return config_from_dict(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _convert(arg, value, where)
    if origin is tuple and isinstance(value, list | tuple):
        return tuple(value)
    if tp is float and isinstance(value, int | str):
        return float(value)
    return value


def config_from_dict(cls: type, data: dict[str, Any], where: str = "config") -> Any:
    """Rebuild dataclass `cls` from `config_to_dict` output; unknown keys are an error naming the field."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise MapaConfigError(
            f"{where}: unknown {'field' if len(unknown) == 1 else 'fields'} {unknown} for {cls.__name__}; "
            f"expected {sorted(names)}"
        )
    kwargs = {k: _convert(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def apply_overrides(config: Any, overrides: dict[str, Any]) -> Any:
    """A copy of `config` with dotted fields replaced: `{"encoder.gradient_checkpointing": True}`.

    The reference's keys (`model.info_sharing.module_args.gradient_checkpointing`, …) are accepted too.
    """
    for key, value in overrides.items():
        path = REFERENCE_KEY_ALIASES.get(key, key.removeprefix("model.")).split(".")
        config = _replace_path(config, path, value, key)
    return config


def _replace_path(node: Any, path: list[str], value: Any, key: str) -> Any:
    if not dataclasses.is_dataclass(node):
        raise MapaConfigError(f"override {key!r}: {path[0]!r} is not a config section")
    names = {f.name for f in dataclasses.fields(node)}
    if path[0] not in names:
        raise MapaConfigError(
            f"override {key!r}: no field {path[0]!r} in {type(node).__name__} ({sorted(names)})"
        )
    if len(path) == 1:
        hint = typing.get_type_hints(type(node))[path[0]]
        return dataclasses.replace(node, **{path[0]: _convert(hint, value, key)})
    child = _replace_path(getattr(node, path[0]), path[1:], value, key)
    return dataclasses.replace(node, **{path[0]: child})
