"""Every registered converter has a conformance test: a `ConverterTest` subclass somewhere under this folder."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from wai_converters.registry import CONVERTERS
from wai_converters.testing import ConverterTest

HERE = Path(__file__).parent


def _tested_converters() -> dict[str, list[str]]:
    """Converter name -> the ConverterTest subclasses that test it (after importing every test module here)."""
    package = __name__.rpartition(".")[0]
    for path in sorted(HERE.rglob("test_*.py")):
        rel = path.relative_to(HERE).with_suffix("")
        importlib.import_module(".".join((package, *rel.parts)))
    found: dict[str, list[str]] = {}
    stack = list(ConverterTest.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        name = getattr(cls, "converter", None)
        if isinstance(name, str) and cls.__name__.startswith("Test"):
            found.setdefault(name, []).append(cls.__qualname__)
    return found


TESTED = _tested_converters()


@pytest.mark.parametrize("name", sorted(CONVERTERS))
def test_converter_has_a_conformance_test(name: str) -> None:
    assert name in TESTED, (
        f"converter '{name}' is registered but no ConverterTest subclass under {HERE} tests it "
        "(see wai_converters/testing.py)"
    )


def test_tests_name_registered_converters() -> None:
    unknown = sorted(set(TESTED) - set(CONVERTERS))
    assert not unknown, f"ConverterTest subclasses name converters that are not registered: {unknown}"
