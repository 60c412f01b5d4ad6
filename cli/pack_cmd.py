"""`wai pack SCENE_OR_ROOT --out STORE`: write packed zarr scene stores (stage 'pack')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from wai.errors import WaiError


def _resolution(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    from wai.pack.resize import parse_resolution

    try:
        return parse_resolution(value)
    except WaiError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@click.command(short_help="Pack scenes into zarr stores for fast loading from network and object storage.")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="Store root: one <scene>.zarr per scene."
)
@click.option(
    "--resolution",
    type=str,
    default=None,
    callback=_resolution,
    metavar="WxH",
    help="Pre-resize every frame to the smallest size covering WxH (aspect kept; lossy: images are re-encoded, "
    "maps take the nearest pixel). Default: full size, values exact.",
)
@click.option("--scenes", type=str, default=None, help="Comma-separated scene names (default: every scene).")
@stage_options
@report_wai_errors
def pack(
    source: Path, out: Path, resolution: tuple[int, int] | None, scenes: str | None, **options: Any
) -> None:
    """Pack SOURCE (a scene folder or a dataset root) into packed zarr stores under --out: images as their
    encoded bytes, depth and masks compressed, one chunk per frame. `wai.open_scene` reads a store, local or
    through an fsspec URL (s3://, gs://, file://), with the same interface and values as the folder."""
    from wai.pack.stage import run_pack

    names = [s.strip() for s in scenes.split(",") if s.strip()] if scenes else None
    report = run_pack(source, out, resolution=resolution, scenes=names, **stage_run_kwargs(options))
    exit_with_report(report)
