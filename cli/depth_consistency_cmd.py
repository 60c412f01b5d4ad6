"""`wai depth-consistency ROOT`: per-pixel confidence of a depth map from its agreement with the other views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from metadata.depth_consistency import ConsistencyConfig, depth_consistency_stage
from wai.stages import run_stage


@click.command(name="depth-consistency")
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--method",
    default="mvsanywhere",
    show_default=True,
    help="Reads pred_depth/<method>, writes depth_confidence/<method> (frame key <method>_depth_confidence).",
)
@click.option("--depth-modality", default=None, help="Read this depth modality instead (e.g. depth).")
@click.option("--out-path", default=None, help="Folder under each scene (default: <method>/v0).")
@click.option(
    "--target-size",
    type=int,
    default=360,
    show_default=True,
    help="Long side of the working size (0: native).",
)
@click.option(
    "--abs-thres", type=float, default=0.02, show_default=True, help="Agreement: |z - D| < abs + rel z."
)
@click.option(
    "--rel-thres", type=float, default=0.02, show_default=True, help="Relative part of the threshold."
)
@click.option("--scenes", type=str, default=None, help="Comma-separated scene names (default: every scene).")
@stage_options
@report_wai_errors
def depth_consistency(
    root: Path,
    method: str,
    depth_modality: str | None,
    out_path: str | None,
    target_size: int,
    abs_thres: float,
    rel_thres: float,
    scenes: str | None,
    **options: Any,
) -> None:
    """Score every depth pixel of the scenes in ROOT by how many other views agree with it.

    Stage 'depth_consistency_confidence'; writes <scene>/<out-path>/depth_confidence/<frame>.exr.

    The stage has one process-log name whatever the method (as the reference), so scoring a second method in
    scenes already scored needs --overwrite (which replaces only that method's maps)."""
    config = ConsistencyConfig(
        method=method,
        depth_modality=depth_modality,
        out_path=out_path,
        target_size=target_size or None,
        abs_thres=abs_thres,
        rel_thres=rel_thres,
    )
    names = [s for s in scenes.split(",") if s] if scenes else None
    report = run_stage(depth_consistency_stage(config), root, scenes=names, **stage_run_kwargs(options))
    exit_with_report(report)
