"""Typed model configs to and from plain dicts: round trip and unknown keys."""

from __future__ import annotations

import dataclasses

import pytest

from mapa_train.errors import MapaConfigError
from mapa_train.models.config_io import config_from_dict, config_to_dict


@dataclasses.dataclass(frozen=True)
class _Head:
    dim: int = 8
    name: str = "dpt"


def test_round_trip_and_unknown_fields_are_named() -> None:
    head = _Head(dim=16)
    assert config_from_dict(_Head, config_to_dict(head)) == head
    with pytest.raises(
        MapaConfigError, match=r"^head: unknown field \['width'\] for _Head; expected \['dim', 'name'\]"
    ):
        config_from_dict(_Head, {"dim": 4, "width": 2}, where="head")
    with pytest.raises(MapaConfigError, match=r"unknown fields \['a', 'b'\]"):
        config_from_dict(_Head, {"a": 1, "b": 2})
