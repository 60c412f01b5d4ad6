"""The `wai` command: convert, validate and inspect WAI datasets."""

from __future__ import annotations

import click

from cli.command_group import FullHelpGroup
from cli.convert_cmd import convert, datasets
from cli.covis_cmd import covis
from cli.depth_consistency_cmd import depth_consistency
from cli.index_cmd import index
from cli.info_cmd import info
from cli.ingest_depth_cmd import ingest_depth
from cli.metadata_cmd import metadata_group
from cli.pack_cmd import pack
from cli.render_cmd import render
from cli.splits_cmd import splits
from cli.undistort_cmd import undistort
from cli.validate_cmd import validate
from cli.viz_cmd import viz


@click.group(cls=FullHelpGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wai-toolkit")
def main() -> None:
    """Work with multi-view 3D datasets in the WAI format."""


main.add_command(validate)
main.add_command(info)
main.add_command(convert)
main.add_command(datasets)
main.add_command(undistort)
main.add_command(splits)
main.add_command(index)
main.add_command(metadata_group)
main.add_command(render)
main.add_command(covis)
main.add_command(viz)
main.add_command(pack)
main.add_command(ingest_depth)
main.add_command(depth_consistency)
