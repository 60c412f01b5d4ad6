"""A click group whose command list shows each command's whole first sentence instead of cutting it at the width."""

from __future__ import annotations

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
