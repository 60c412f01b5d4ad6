"""`wai --help` shows each command's whole first sentence, whoever wrote the command."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from cli.wai_cli import COMMANDS, main


def test_top_level_help_does_not_cut_summaries() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    text = " ".join(result.output.split("Commands:")[1].split())
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert f"{name} {command.get_short_help_str(limit=10_000)}" in text
    assert "validate Check a scene or a dataset root; exit status 1 if anything is wrong." in text


def test_every_command_resolves_to_itself_and_loads_on_first_use() -> None:
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command) and command.name == name
    assert main.get_command(ctx, "no-such-command") is None
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2 and "No such command 'no-such-command'" in result.output


def test_importing_the_group_loads_no_command_module() -> None:
    # Spawned stage workers re-import the main module: the group alone must not pull in every command's code.
    code = (
        "import sys, cli.wai_cli\n"
        "print(sorted(m for m in sys.modules if m.endswith('_cmd') or m in ('pyarrow', 'rerun', 'zarr')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
