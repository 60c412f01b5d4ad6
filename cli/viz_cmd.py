"""`wai viz`: show a WAI scene, or an N-view set drawn as the trainer draws it, in Rerun."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from cli.errors import report_wai_errors
from metadata.view_sampling import DEFAULT_THRESHOLD, overlap_edges, sample_views
from wai.errors import WaiError, WaiFileNotFoundError
from wai.scene import SCENE_META_DISTORTED, Scene, is_scene, list_scenes, open_scene
from wai.viz import (
    Sink,
    close_recording,
    log_scene_sequence,
    log_views,
    open_recording,
    scene_views,
    sequence_blueprint,
    views_blueprint,
)
from wai.viz.records import default_depth_modality


def _open(path: Path) -> Scene:
    """A scene, or, before `wai undistort` has run, its distorted version (and the command says so)."""
    if is_scene(path):
        return open_scene(path)
    click.echo(
        f"scene '{path.name}' is not undistorted yet: showing {SCENE_META_DISTORTED} (Rerun draws the linear "
        "part of its camera; points use the full model)"
    )
    return open_scene(path, meta_name=SCENE_META_DISTORTED)


def _viewable(path: Path) -> bool:
    return is_scene(path) or (path / SCENE_META_DISTORTED).is_file()


def _pick_scene(path: Path, scene_name: str | None) -> Scene:
    if _viewable(path):
        if scene_name is not None and scene_name != path.name:
            raise WaiError(f"{path} is the scene '{path.name}', not '{scene_name}'")
        return _open(path)
    names = [name for name in list_scenes(path) if _viewable(path / name)]
    if not names:
        raise WaiFileNotFoundError(
            f"{path}: neither a scene (no scene_meta.json) nor a dataset root with scenes"
        )
    if scene_name is None:
        click.echo(f"showing scene '{names[0]}' of {len(names)} (choose another with --scene)")
        return _open(path / names[0])
    if scene_name not in names:
        raise WaiFileNotFoundError(f"{path}: no scene '{scene_name}' (it has {len(names)} scenes)")
    return _open(path / scene_name)


def _covisibility(scene: Scene, compute: bool) -> np.ndarray | None:
    """The scene's matrix; without one, one computed on the fly when `compute` (and the command says so)."""
    try:
        return np.asarray(scene.covisibility())
    except WaiFileNotFoundError:
        if not compute:
            return None
    if default_depth_modality(scene) is None:
        return None
    from metadata.covisibility import scene_covisibility_matrix

    click.echo(f"scene '{scene.name}' has no covisibility matrix: computing one on the fly (not saved)")
    matrix, _ = scene_covisibility_matrix(scene)
    return matrix


def _parse_resolution(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()) or int(width) < 1 or int(height) < 1:
        raise WaiError(f"--resolution: expected WxH such as 518x392, got {text!r}")
    return int(width), int(height)


def _show_training_sample(
    scene: Scene,
    views: int,
    resolution: tuple[int, int],
    seed: int,
    row: str | None,
    augment: str,
    max_points: int,
    sink: Sink,
) -> None:
    """The trainer's sample: needs `mapa_train` (its data side is numpy; torch is not imported)."""
    from mapa_train.data.viz_records import training_records
    from mapa_train.errors import MapaError

    try:
        records = training_records(
            scene.path, num_views=views, resolution=resolution, seed=seed, row=row, augment=augment
        )
    except MapaError as exc:
        raise WaiError(str(exc)) from exc
    rec = open_recording("wai_viz", sink, views_blueprint(records))
    log_views(rec, records, max_points=max_points, seed=seed)
    click.echo(f"scene '{scene.name}': logged the training sample {', '.join(r.name for r in records)}")
    close_recording(rec, sink)


def _modalities(scene: Scene, names: tuple[str, ...]) -> tuple[str | None, list[str], list[str]]:
    """Split requested modality names into (depth, masks, scalar maps) by their format."""
    if not names:
        formats = {n: scene.frame_modality(n).format for n in scene.frame_modality_names}
        return (
            "auto",
            [n for n, f in formats.items() if f == "binary"],
            [n for n, f in formats.items() if f == "scalar"],
        )
    depth, masks, scalars = None, [], []
    for name in names:
        fmt = scene.frame_modality(name).format
        if fmt == "depth":
            if depth is not None:
                raise WaiError(f"--modalities names two depth modalities ('{depth}', '{name}'); choose one")
            depth = name
        elif fmt == "binary":
            masks.append(name)
        elif fmt == "scalar":
            scalars.append(name)
        elif fmt != "image":
            raise WaiError(
                f"modality '{name}' has format '{fmt}'; wai viz shows depth, binary and scalar maps"
            )
    return depth, masks, scalars


@click.command(short_help="Show a scene or an N-view training set in Rerun.")
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option("--scene", "scene_name", help="Scene to show when PATH is a dataset root (default: the first).")
@click.option(
    "--views", type=click.IntRange(min=1), help="Draw an N-view set with the covisibility random walk."
)
@click.option("--frames", help="Comma-separated frame names to show (instead of --views).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the view sampling.")
@click.option(
    "--threshold",
    type=float,
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Covisibility threshold of the walk and of the drawn graph.",
)
@click.option(
    "--modalities", help="Comma-separated modalities to show (default: depth, masks, confidence maps)."
)
@click.option(
    "--max-points",
    type=click.IntRange(min=0),
    default=20_000,
    show_default=True,
    help="Points per view (0: none).",
)
@click.option(
    "--as-training",
    is_flag=True,
    help="With --views: show the trainer's sample (crop, resize, augmentation), the arrays the model sees.",
)
@click.option(
    "--resolution", default="518x392", show_default=True, help="With --as-training: the sample's WxH."
)
@click.option(
    "--augment", default="imgnorm", show_default=True, help="With --as-training: colour augmentation."
)
@click.option(
    "--row", help="With --as-training: the dataset row (default: the scene's dataset_name, else generic)."
)
@click.option(
    "--save", type=click.Path(path_type=Path, dir_okay=False), help="Write the recording to an .rrd file."
)
@click.option("--spawn", is_flag=True, help="Open a local Rerun viewer.")
@click.option("--serve", is_flag=True, help="Serve a web viewer (prints its address).")
@click.option(
    "--connect", metavar="ADDR", help="Send to a running viewer, e.g. rerun+http://127.0.0.1:9876/proxy."
)
@report_wai_errors
def viz(
    path: Path,
    scene_name: str | None,
    views: int | None,
    frames: str | None,
    seed: int,
    threshold: float,
    modalities: str | None,
    max_points: int,
    as_training: bool,
    resolution: str,
    augment: str,
    row: str | None,
    save: Path | None,
    spawn: bool,
    serve: bool,
    connect: str | None,
) -> None:
    """Show a WAI scene (PATH, or one scene of a dataset root) in Rerun.

    Without --views or --frames the whole scene plays along a `frame` timeline. With --views N an N-view set is
    drawn as the trainer draws it (a scene without a covisibility matrix gets one computed on the fly).
    """
    if views is not None and frames is not None:
        raise WaiError("give --views or --frames, not both")
    sink = Sink(save=save, spawn=spawn, serve=serve, connect=connect)
    scene = _pick_scene(path, scene_name)
    if as_training:
        if views is None:
            raise WaiError("--as-training needs --views N")
        _show_training_sample(
            scene, views, _parse_resolution(resolution), seed, row, augment, max_points, sink
        )
        return
    depth, masks, scalars = _modalities(scene, tuple(n for n in (modalities or "").split(",") if n))
    matrix = _covisibility(scene, compute=views is not None)
    if views is not None and matrix is None:
        click.echo(
            f"scene '{scene.name}' has no depth, so no covisibility: showing {views} frames drawn at random"
        )
        rng = np.random.default_rng(seed)
        indices = sorted(int(i) for i in rng.choice(len(scene), size=views, replace=views > len(scene)))
    elif views is not None:
        indices = [int(i) for i in sample_views(matrix, views, seed, threshold=threshold)]
    elif frames is not None:
        indices = [scene.frame(name.strip()).index for name in frames.split(",") if name.strip()]
    else:
        indices = list(range(len(scene)))
    records = scene_views(scene, indices, depth=depth, masks=masks, scalars=scalars)
    edges = overlap_edges(matrix, indices, threshold=threshold) if matrix is not None else None
    if views is None and frames is None:
        rec = open_recording("wai_viz", sink, sequence_blueprint())
        log_scene_sequence(rec, records, edges=edges, max_points=max_points, seed=seed)
    else:
        rec = open_recording("wai_viz", sink, views_blueprint(records))
        log_views(rec, records, edges=edges, max_points=max_points, seed=seed)
    shown = ", ".join(r.name for r in records) if len(records) <= 32 else f"{len(records)} frames"
    target = save or ("a spawned viewer" if spawn else "the web viewer" if serve else connect)
    click.echo(f"scene '{scene.name}': logged {shown} to {target}")
    if serve:
        click.echo("web viewer at http://localhost:9090 (Ctrl-C stops serving)")
    close_recording(rec, sink)
