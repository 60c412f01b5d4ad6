"""The `wai` command: convert, validate and inspect WAI datasets.

Each command's module is imported when the command runs (`LazyGroup`), so `wai convert` does not load the index,
viewer or packing code.
"""

from __future__ import annotations

import click

from cli.command_group import LazyGroup

COMMANDS = {
    "validate": "cli.validate_cmd:validate",
    "info": "cli.info_cmd:info",
    "convert": "cli.convert_cmd:convert",
    "datasets": "cli.convert_cmd:datasets",
    "undistort": "cli.undistort_cmd:undistort",
    "splits": "cli.splits_cmd:splits",
    "index": "cli.index_cmd:index",
    "metadata": "cli.metadata_cmd:metadata_group",
    "render": "cli.render_cmd:render",
    "covis": "cli.covis_cmd:covis",
    "viz": "cli.viz_cmd:viz",
    "pack": "cli.pack_cmd:pack",
    "ingest-depth": "cli.ingest_depth_cmd:ingest_depth",
    "depth-consistency": "cli.depth_consistency_cmd:depth_consistency",
}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wai-toolkit")
def main() -> None:
    """Work with multi-view 3D datasets in the WAI format."""
