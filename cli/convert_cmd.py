"""`wai convert NAME`: one subcommand per registered converter, options generated from its config dataclass."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from wai.errors import WaiError
from wai.stages.process_log import ProcessLog
from wai_converters.base import Converter
from wai_converters.coverage import coverage_table, datasets_text
from wai_converters.registry import CONVERTERS, ConverterEntry, get_converter
from wai_converters.run import run_converter


def _click_type(annotation: Any) -> Any:
    """Map a dataclass field annotation to a click parameter type."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _click_type(args[0])
    if origin is typing.Literal:
        return click.Choice([str(a) for a in typing.get_args(annotation)])
    if annotation is Path:
        return click.Path(path_type=Path)
    return {int: int, float: float, str: str, bool: bool}.get(annotation, str)


def option_for(field: dataclasses.Field, hints: dict[str, Any]) -> click.Option:
    """The click option of one config field: ``--field-name``, typed, with its default and help."""
    flag = "--" + field.name.replace("_", "-")
    annotation = hints[field.name]
    default = field.default if field.default is not dataclasses.MISSING else None
    help_text = field.metadata.get("help", "")
    if annotation is bool:
        return click.Option([f"{flag}/--no-{flag[2:]}"], default=default, show_default=True, help=help_text)
    required = default is None and field.name == "src"
    return click.Option(
        [flag],
        type=_click_type(annotation),
        default=default,
        show_default=default is not None,
        required=required,
        help=help_text,
    )


def config_fields(converter_class: type[Converter]) -> list[dataclasses.Field]:
    """The config fields that become options (`src` only for converters that read raw data)."""
    fields = dataclasses.fields(converter_class.config_class)
    return [f for f in fields if converter_class.needs_source or f.name != "src"]


def make_command(entry: ConverterEntry, converter_class: type[Converter]) -> click.Command:
    """The `wai convert NAME` command of one registry row."""
    config_class = converter_class.config_class
    hints = typing.get_type_hints(config_class)
    fields = config_fields(converter_class)

    @report_wai_errors
    def callback(dst: Path, scenes: str | None, **kwargs: Any) -> None:
        run_kwargs = stage_run_kwargs(kwargs)
        config = config_class(**{f.name: kwargs[f.name] for f in fields})
        names = [s.strip() for s in scenes.split(",") if s.strip()] if scenes else None
        report = run_converter(converter_class, config, dst, scenes=names, **run_kwargs)
        _echo_notes(dst, [o.scene for o in report.done])
        exit_with_report(report)

    params = [
        click.Option(
            ["--dst"],
            type=click.Path(path_type=Path),
            required=True,
            help="Output dataset root (one folder per scene).",
        ),
        click.Option(
            ["--scenes"],
            type=str,
            default=None,
            help="Comma-separated scene names (default: every source scene).",
        ),
    ]
    params += [option_for(f, hints) for f in fields]
    command = click.Command(
        entry.name,
        callback=callback,
        params=params,
        help=entry.description,
        short_help=entry.description,
        epilog="Exit status: 0 done, 1 a scene failed or bad options, 3 scenes left locked by another job.",
    )
    return stage_options(command)


def _echo_notes(dst: Path, scenes: list[str]) -> None:
    """Print what converted scenes reported (missing images, no depth, ...): the message in their process log."""
    notes = []
    for scene in scenes:
        try:
            message = ProcessLog(dst / scene).read().get("conversion", {}).get("message", "")
        except WaiError:
            continue
        if message:
            notes.append(f"  {scene}: {message}")
    if notes:
        click.echo("notes:\n" + "\n".join(notes))


class ConvertGroup(click.Group):
    """Lists converters from the registry and builds each subcommand only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(CONVERTERS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list from the registry alone: `wai convert --help` works even when a converter cannot be imported."""
        with formatter.section("Converters"):
            formatter.write_dl([(name, CONVERTERS[name].description) for name in self.list_commands(ctx)])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = CONVERTERS.get(name)
        if entry is None:
            return None
        try:
            converter_class = get_converter(name)
        except WaiError as exc:  # e.g. an optional package the converter needs is missing
            raise click.ClickException(str(exc)) from exc
        return make_command(entry, converter_class)


@click.group(cls=ConvertGroup, short_help="Convert a dataset into the WAI format.")
def convert() -> None:
    """Convert a dataset into the WAI format (see `wai datasets`)."""


@click.command(short_help="List the datasets that `wai convert` knows.")
@click.option("--markdown", is_flag=True, help="Print the README's coverage table instead.")
def datasets(markdown: bool) -> None:
    """List the datasets that `wai convert` knows: raw layout, metric and synthetic flags, where depth comes from,
    the stages to run after conversion, and the licence."""
    click.echo(coverage_table() if markdown else datasets_text(), nl=False)
