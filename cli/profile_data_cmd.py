"""`mapa-train profile-data`: the training loader's views/s per worker count against the bare decode (the floor)."""

from __future__ import annotations

from pathlib import Path

import click

from cli.errors import reports_errors


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise click.BadParameter(f"expected non-negative integers, got {text!r}")
    return values


def _resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WxH (e.g. 518x392), got {text!r}") from None
    if w < 1 or h < 1:
        raise click.BadParameter(f"sizes must be positive, got {text!r}")
    return w, h


@click.command("profile-data")
@click.argument("root", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--dataset", default="generic", show_default=True, help="Dataset row that reads the scenes.")
@click.option("--views", type=click.IntRange(min=1), default=4, show_default=True, help="Views per set.")
@click.option("--workers", default="0,1,2", show_default=True, help="Loader worker counts to time.")
@click.option("--resolution", default="518x392", show_default=True, help="Target WxH.")
@click.option("--samples", type=click.IntRange(min=2), default=32, show_default=True, help="Sets per timing.")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=2, show_default=True, help="Sets per batch."
)
@click.option(
    "--interpolation",
    type=click.Choice(["auto", "area", "lanczos", "linear"]),
    default="auto",
    show_default=True,
    help="Image shrinking filter (cv2); auto: bilinear down to 0.55 of the size, area below.",
)
@click.option(
    "--packed",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=None,
    help="Folder of `wai pack` stores of the same scenes to time as the packed layout.",
)
@click.option(
    "--pack-resolution",
    default="auto",
    show_default=True,
    help="Without --packed: pack ROOT to a temporary folder at WxH ('auto': the resolution plus the aug_crop "
    "jitter; 'full': the source size).",
)
@click.option("--no-packed", is_flag=True, help="Time the folder layout only.")
@click.option(
    "--aug-crop", type=click.IntRange(min=0), default=16, show_default=True, help="Scale jitter of the crops."
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Interleaved repetitions; figures are medians.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@reports_errors
def profile_data_cmd(
    root: Path,
    dataset: str,
    views: int,
    workers: str,
    resolution: str,
    samples: int,
    batch_size: int,
    interpolation: str,
    packed: Path | None,
    pack_resolution: str,
    no_packed: bool,
    aug_crop: int,
    repeats: int,
    as_json: bool,
) -> None:
    """Time the training loader (views/s with 0, 1, 2 workers) against the bare decode of the same files, for the
    folder layout and the packed layout (ROOT packed to a temporary folder unless --packed names stores)."""
    import json

    from mapa_train.data.profile import profile_data

    worker_counts = _int_list(workers)
    size = _resolution(resolution)
    if samples <= batch_size:
        raise click.BadParameter("--samples must exceed --batch-size (the first batch is not timed)")
    if packed is not None and no_packed:
        raise click.BadParameter("--packed and --no-packed exclude each other")
    pack_size: tuple[int, int] | str | None = pack_resolution
    if pack_resolution == "full":
        pack_size = None
    elif pack_resolution != "auto":
        pack_size = _resolution(pack_resolution)
    result = profile_data(
        root,
        dataset=dataset,
        num_views=views,
        resolution=size,
        workers=worker_counts,
        samples=samples,
        batch_size=batch_size,
        interpolation=interpolation,  # type: ignore[arg-type]
        aug_crop=aug_crop,
        packed=packed,
        pack=not no_packed,
        pack_resolution=pack_size,
        repeats=repeats,
    )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo("\n".join(result.lines()))
