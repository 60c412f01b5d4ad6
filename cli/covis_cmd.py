"""`wai covis ROOT`: compute each scene's pairwise covisibility matrix (a `wai.stages` stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.errors import report_wai_errors
from cli.stage_options import exit_with_report, stage_options, stage_run_kwargs
from metadata.covisibility import AUTO, CONFIGS, config_names, covisibility_stage
from wai.stages import run_stage


def _split_scenes(values: tuple[str, ...]) -> list[str] | None:
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return names or None


@click.command(name="covis")
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--scenes",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="Only these scenes (repeat or separate with commas; exact folder names, not patterns).",
)
@click.option(
    "--config",
    "config",
    type=click.Choice(config_names()),
    default=AUTO,
    show_default=True,
    help="Reference variant: "
    + "; ".join(f"{name}: {cfg.description}" for name, cfg in CONFIGS.items())
    + f"; {AUTO}: the one the scene's dataset uses (by dataset_name, else gt_depth).",
)
@click.option(
    "--depth-modality", default=None, help="Frame modality to read depth from (overrides the config)."
)
@click.option(
    "--backend",
    type=click.Choice(["numpy", "torch"]),
    default="numpy",
    show_default=True,
    help="numpy, or torch (a GPU when present; same numbers).",
)
@click.option("--device", default=None, help="torch device (cuda, cpu; default: cuda when available).")
@click.option(
    "--frustum-check/--no-frustum-check",
    default=True,
    show_default=True,
    help="Skip pairs whose frusta cannot overlap (exact: the matrix is the same).",
)
@stage_options
@report_wai_errors
def covis(
    root: Path,
    scenes: tuple[str, ...],
    config: str,
    depth_modality: str | None,
    backend: str,
    device: str | None,
    frustum_check: bool,
    **options: Any,
) -> None:
    """Compute the pairwise covisibility matrix of every scene under ROOT.

    Writes <scene>/covisibility/v0/pairwise_covisibility--NxN.npy (DL3DV's MVS variant: v0_mvsa_based), where
    the reference's loaders read it, and registers it in scene_modalities.
    """
    stage = covisibility_stage(
        config, depth_modality=depth_modality, backend=backend, device=device, frustum_check=frustum_check
    )
    names = _split_scenes(scenes)
    missing = [name for name in names or [] if not (root / name).is_dir()]
    if missing:
        raise click.BadParameter(
            f"no such scene folder under {root}: {', '.join(missing)}", param_hint="--scenes"
        )
    report = run_stage(stage, root, scenes=names, **stage_run_kwargs(options))
    exit_with_report(report)
