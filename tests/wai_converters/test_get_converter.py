"""`get_converter` tells an unknown name, a missing optional package and a bug in a converter apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from wai.errors import WaiError
from wai_converters import registry
from wai_converters.registry import CONVERTERS, ConverterEntry, get_converter
from wai_converters.synthetic import SyntheticConverter


def _register(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, source: str) -> None:
    (tmp_path / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = ConverterEntry(
        name, f"{name}:Converter", "test row", raw_layout="-", metric=True, synthetic=True, licence="-"
    )
    monkeypatch.setitem(registry.CONVERTERS, name, entry)


def test_known_name() -> None:
    assert get_converter("synthetic") is SyntheticConverter


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(WaiError, match=r"unknown converter 'nope'; available: .*synthetic"):
        get_converter("nope")


def test_key_error_inside_a_converter_module_is_not_an_unknown_converter(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _register(monkeypatch, tmp_path, "conv_with_bug", "TABLE = {}\nVALUE = TABLE['missing']\n")
    with pytest.raises(KeyError, match="missing") as info:
        get_converter("conv_with_bug")
    assert not isinstance(info.value, WaiError)


def test_missing_optional_package_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _register(monkeypatch, tmp_path, "conv_needs_pkg", "import package_that_is_not_installed_xyz\n")
    with pytest.raises(WaiError, match="converter 'conv_needs_pkg' needs the package 'package_that_is_not_"):
        get_converter("conv_needs_pkg")


def test_registry_row_naming_a_missing_module_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = ConverterEntry(
        "ghost",
        "wai_converters.ghost_module:Ghost",
        "-",
        raw_layout="-",
        metric=True,
        synthetic=True,
        licence="-",
    )
    monkeypatch.setitem(CONVERTERS, "ghost", entry)
    with pytest.raises(ModuleNotFoundError):
        get_converter("ghost")
