"""The one table of converters. `wai datasets`, `wai convert NAME` and the README's coverage table read it."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from wai.errors import WaiError
from wai_converters.base import Converter


@dataclass(frozen=True)
class ConverterEntry:
    """A registered converter: its command name, where its class lives and a one-line description."""

    name: str
    target: str  # "module:ClassName", imported only when the converter is used
    description: str

    def load(self) -> type[Converter]:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


CONVERTERS: dict[str, ConverterEntry] = {
    entry.name: entry
    for entry in (
        ConverterEntry(
            "synthetic",
            "wai_converters.synthetic:SyntheticConverter",
            "Procedurally rendered rooms and object scenes with exact depth and poses (no download).",
        ),
    )
}


def get_converter(name: str) -> type[Converter]:
    """The converter class registered as `name`."""
    try:
        return CONVERTERS[name].load()
    except KeyError:
        raise WaiError(f"unknown converter '{name}'; available: {', '.join(sorted(CONVERTERS))}") from None
