"""`wai render ROOT`: ray-cast depth (and colour, face ids, optionally normals) from each scene's mesh (stage 'rendering')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from wai.stages import run_stage
from wai_converters.stages.render import RenderConfig, render_stage


@click.command()
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--scenes", type=str, default=None, help="Comma-separated scene names (default: every scene).")
@click.option(
    "--mesh", "mesh_modality", default="labeled_mesh", show_default=True, help="Scene modality of the mesh."
)
@click.option("--normals/--no-normals", default=False, show_default=True, help="Also write rendered_normals.")
@click.option(
    "--near", type=float, default=0.01, show_default=True, help="Drop hits closer than this (metres)."
)
@click.option(
    "--far", type=float, default=1000.0, show_default=True, help="Drop hits farther than this (metres)."
)
@stage_options
@report_wai_errors
def render(
    root: Path, scenes: str | None, mesh_modality: str, normals: bool, near: float, far: float, **options: Any
) -> None:
    """Render depth from the mesh of every undistorted scene in ROOT into rendered_depth (needs embreex)."""
    config = RenderConfig(mesh_modality=mesh_modality, near=near, far=far, normals=normals)
    names = [s for s in scenes.split(",") if s] if scenes else None
    report = run_stage(render_stage(config), root, scenes=names, **stage_run_kwargs(options))
    exit_with_report(report)
