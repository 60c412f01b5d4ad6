"""`wai ingest-depth ROOT --from DIR --name NAME`: depth maps made elsewhere become ``pred_depth/<NAME>``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from wai.predicted_depth import pred_depth_stage
from wai.stages import run_stage
from wai_converters.stages.ingest_depth import IngestedDepth


@click.command(name="ingest-depth")
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    help="Folder of depth maps: <DIR>/<scene>/<frame>.{exr,png,npy,pfm}.",
)
@click.option(
    "--name",
    default="mvsanywhere",
    show_default=True,
    help="Method name: modality pred_depth/<name>, frame key <name>_depth, process-log stage <name>.",
)
@click.option(
    "--scale",
    type=float,
    default=None,
    help="Multiply every stored value by this to get metres (default: 1; 16-bit PNG: 0.001).",
)
@click.option("--out-path", default=None, help="Folder under each scene (default: <name>/v0).")
@click.option("--scenes", type=str, default=None, help="Comma-separated scene names (default: every scene).")
@stage_options
@report_wai_errors
def ingest_depth(
    root: Path,
    source: Path,
    name: str,
    scale: float | None,
    out_path: str | None,
    scenes: str | None,
    **options: Any,
) -> None:
    """Store depth maps predicted elsewhere, such as MVSAnywhere's, in every scene of ROOT as pred_depth/NAME.

    Maps are resized (nearest) to their frame's image size when only the resolution differs; writes
    <scene>/<out-path>/depth/<frame>.exr and records the stage NAME in the process log.
    """
    predictor = IngestedDepth(source, name=name, scale=scale, out_path=out_path or "")
    predictor.check()
    names = [s for s in scenes.split(",") if s] if scenes else None
    report = run_stage(pred_depth_stage(predictor), root, scenes=names, **stage_run_kwargs(options))
    exit_with_report(report)
