"""`wai undistort ROOT`: turn every distorted scene of a dataset root into PINHOLE frames (stage 'undistortion')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from wai.stages import run_stage
from wai_converters.stages.undistort import UndistortConfig, undistort_stage


@click.command()
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--scenes", type=str, default=None, help="Comma-separated scene names (default: every scene).")
@click.option(
    "--balance",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="0: keep only pixels the distorted image sees; 1: keep everything it sees (black corners).",
)
@click.option(
    "--center-principal-point/--no-center-principal-point",
    default=True,
    show_default=True,
    help="Put the principal point of the undistorted camera at the image centre (as the reference).",
)
@stage_options
@report_wai_errors
def undistort(
    root: Path, scenes: str | None, balance: float, center_principal_point: bool, **options: Any
) -> None:
    """Undistort the frames of every scene in ROOT: reads scene_meta_distorted.json, writes scene_meta.json."""
    config = UndistortConfig(balance=balance, center_principal_point=center_principal_point)
    names = [s for s in scenes.split(",") if s] if scenes else None
    report = run_stage(undistort_stage(config), root, scenes=names, **stage_run_kwargs(options))
    exit_with_report(report)
