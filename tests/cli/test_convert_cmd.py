"""`wai convert NAME` for every registered converter: generated options, help, and checks before any scene starts."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.convert_cmd import config_fields, make_command
from cli.stage_options import EXIT_WORK_LEFT
from cli.wai_cli import main
from wai.stages import SceneLock
from wai_converters.registry import CONVERTERS, ConverterEntry, get_converter

NAMES = sorted(CONVERTERS)
SMALL = ["--num-scenes", "2", "--min-frames", "2", "--max-frames", "2", "--width", "16", "--height", "12"]


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", NAMES)
def test_help_lists_every_config_field(name: str) -> None:
    converter = get_converter(name)
    result = invoke("convert", name, "--help")
    assert result.exit_code == 0, result.output
    assert "--dst" in result.output and "--shard" in result.output and "--overwrite" in result.output
    for field in config_fields(converter):
        assert "--" + field.name.replace("_", "-") in result.output, field.name
        assert field.metadata.get("help"), f"{name}: config field '{field.name}' has no help text"
    assert ("--src" in result.output) == converter.needs_source


@pytest.mark.parametrize("name", NAMES)
def test_options_follow_the_config_types_and_defaults(name: str) -> None:
    converter = get_converter(name)
    hints = typing.get_type_hints(converter.config_class)
    command = make_command(CONVERTERS[name], converter)
    options = {p.name: p for p in command.params if isinstance(p, click.Option)}
    for field in config_fields(converter):
        option = options[field.name]
        default = None if field.default is dataclasses.MISSING else field.default
        assert option.default == default, field.name
        hint = hints[field.name]
        if hint is bool:
            assert option.is_flag and option.secondary_opts == ["--no-" + field.name.replace("_", "-")]
        elif hint is int:
            assert option.type is click.INT
        elif hint is float:
            assert option.type is click.FLOAT
        elif typing.get_origin(hint) is typing.Literal:
            assert list(option.type.choices) == [str(a) for a in typing.get_args(hint)]


@pytest.mark.parametrize("name", NAMES)
def test_dst_that_is_a_file_is_one_error_before_any_scene(name: str, tmp_path: Path) -> None:
    dst = tmp_path / "not_a_folder"
    dst.write_text("keep me")
    (tmp_path / "raw").mkdir()
    src = ["--src", str(tmp_path / "raw")] if get_converter(name).needs_source else []
    result = invoke("convert", name, "--dst", str(dst), *src)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output and "Errno" not in result.output
    assert dst.read_text() == "keep me"


def test_dst_message_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = invoke("convert", "synthetic", "--dst", str(tmp_path / "file"), *SMALL)
    assert result.output.strip() == f"Error: dataset root '{tmp_path / 'file'}' is a file, not a folder"


@pytest.mark.parametrize("fov", ["0", "200", "-5"])
def test_bad_field_of_view_is_refused_before_the_run(fov: str, tmp_path: Path) -> None:
    result = invoke("convert", "synthetic", "--dst", str(tmp_path / "out"), *SMALL, "--fov-x", fov)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: synthetic: --fov-x must be between 0 and 180 degrees (exclusive), got {float(fov):g}"
    )
    assert not (tmp_path / "out").exists()


def test_scene_locked_by_another_job_is_work_left(tmp_path: Path) -> None:
    dst = tmp_path / "out"
    (dst / "room_000").mkdir(parents=True)
    with SceneLock(dst / "room_000"):
        result = invoke("convert", "synthetic", "--dst", str(dst), *SMALL)
    assert result.exit_code == EXIT_WORK_LEFT == 3
    assert "not finished: 1 scene locked by another job (room_000)" in result.output
    result = invoke("convert", "synthetic", "--dst", str(dst), *SMALL)
    assert result.exit_code == 0
    assert "conversion: 2 scenes in" in result.output and "1 done, 1 skipped, 0 failed" in result.output


def test_datasets_lists_every_converter() -> None:
    result = invoke("datasets")
    assert result.exit_code == 0
    # one block per converter: its name and description, then indented detail lines
    assert [
        line.split()[0] for line in result.output.strip().splitlines() if not line.startswith(" ")
    ] == NAMES


def test_corrupt_process_log_names_the_overwrite_flag(tmp_path: Path) -> None:
    dst = tmp_path / "out"
    assert invoke("convert", "synthetic", "--dst", str(dst), *SMALL).exit_code == 0
    (dst / "room_000" / "_process_log.json").write_text('{"conversion": ')
    result = invoke("convert", "synthetic", "--dst", str(dst), *SMALL)
    assert result.exit_code == 1
    assert "corrupt process log" in result.output and "rerun with --overwrite" in result.output
    assert invoke("convert", "synthetic", "--dst", str(dst), *SMALL, "--overwrite").exit_code == 0


def test_converter_with_a_missing_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`wai convert --help` still lists everything; using that converter is one line naming the package."""
    (tmp_path / "conv_missing_pkg.py").write_text("import package_that_is_not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = ConverterEntry(
        "needs_pkg",
        "conv_missing_pkg:C",
        "Needs a package.",
        raw_layout="-",
        metric=True,
        synthetic=True,
        licence="-",
    )
    monkeypatch.setitem(CONVERTERS, "needs_pkg", entry)
    listing = invoke("convert", "--help")
    assert listing.exit_code == 0 and "needs_pkg" in listing.output and "Needs a package." in listing.output
    result = invoke("convert", "needs_pkg", "--help")
    assert result.exit_code == 1
    assert result.output.strip().startswith(
        "Error: converter 'needs_pkg' needs the package 'package_that_is_not_"
    )


def test_unknown_scenes_are_named_before_the_run(tmp_path: Path) -> None:
    dst = tmp_path / "out"
    one = invoke("convert", "synthetic", "--dst", str(dst), *SMALL, "--scenes", "room_000,nowhere")
    assert one.exit_code == 1 and "--scenes: unknown scene nowhere; the source has: room_000, " in one.output
    two = invoke("convert", "synthetic", "--dst", str(dst), *SMALL, "--scenes", "a,b")
    assert two.exit_code == 1 and "--scenes: unknown scenes a, b; the source has:" in two.output
    assert not dst.exists() or not any(dst.iterdir())
