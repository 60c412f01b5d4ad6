"""Click groups: a command list that shows each command's whole first sentence, and commands imported on first use."""

from __future__ import annotations

import importlib

import click


class FullHelpGroup(click.Group):
    """`wai --help` lists every command with its complete short help, wrapped onto further lines when long."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class LazyGroup(FullHelpGroup):
    """A group whose commands are named as ``"module:attribute"`` and imported only when a command is looked up.

    `wai convert` then imports what converting needs and nothing else, which also matters for the stage runner's
    spawned workers: each re-imports the main module, so an eager group would load every command (pyarrow, rerun,
    the index) in every worker.
    """

    def __init__(self, *args: object, lazy_commands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands or name not in self.lazy_commands:
            return super().get_command(ctx, name)
        module_name, attribute = self.lazy_commands[name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[name]} is not a click command")
        self.add_command(command, name)
        return command
