"""`wai --help` shows each command's whole first sentence, whoever wrote the command."""

from __future__ import annotations

from click.testing import CliRunner

from cli.wai_cli import main


def test_top_level_help_does_not_cut_summaries() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    text = " ".join(result.output.split("Commands:")[1].split())
    for name, command in main.commands.items():
        assert f"{name} {command.get_short_help_str(limit=10_000)}" in text
    assert "validate Check a scene or a dataset root; exit status 1 if anything is wrong." in text
