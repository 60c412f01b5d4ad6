"""`wai splits ROOT --dataset NAME --out META`: train/val/test scene lists in the reference's format."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.errors import report_wai_errors
from metadata.splits import (
    DEFAULT_SEED,
    DEFAULT_VAL_FRACTION,
    SplitInputs,
    check_splits,
    load_splits,
    make_splits,
    write_splits,
)
from wai.plural import plural

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.command(short_help="Write or check train/val/test scene lists.")
@click.argument("root", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--dataset", required=True, help="Aggregator key, e.g. eth3d, scannetppv2, tav2_wb (names the files)."
)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Metadata folder (META).")
@click.option("--test-list", type=_FILE, help="Test scene ids, one per line (or a split .npy).")
@click.option("--val-list", type=_FILE, help="Val scene ids, one per line (or a split .npy).")
@click.option("--exclude-list", type=_FILE, help="Scene ids to leave out of every split.")
@click.option("--dl3dv-benchmark-csv", type=_FILE, help="DL3DV benchmark-meta.csv (column hash).")
@click.option("--dl3dv-valid-csv", type=_FILE, help="DL3DV-valid.csv (columns hash, batch).")
@click.option("--mpsd-val-npy", type=_FILE, help="MPSD val_recon_folder_names.npy.")
@click.option(
    "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the random val draw."
)
@click.option("--val-fraction", type=float, default=DEFAULT_VAL_FRACTION, show_default=True)
@click.option(
    "--check-meta", is_flag=True, help="Also parse every scene_meta.json; unreadable scenes are dropped."
)
@click.option(
    "--check", is_flag=True, help="Write nothing: read the lists in META back and check them against ROOT."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@report_wai_errors
def splits(
    root: Path,
    dataset: str,
    out: Path,
    test_list: Path | None,
    val_list: Path | None,
    exclude_list: Path | None,
    dl3dv_benchmark_csv: Path | None,
    dl3dv_valid_csv: Path | None,
    mpsd_val_npy: Path | None,
    seed: int,
    val_fraction: float,
    check_meta: bool,
    check: bool,
    as_json: bool,
) -> None:
    """Write (or with --check, verify) DATASET's scene lists for the scenes under ROOT."""
    if check:
        lists = load_splits(out, dataset)
        problems = check_splits(lists, dataset, out, root)
        if as_json:
            click.echo(json.dumps({"counts": {s: len(n) for s, n in lists.items()}, "problems": problems}))
        else:
            for line in problems:
                click.echo(line)
            counts = ", ".join(f"{s} {len(n)}" for s, n in lists.items())
            click.echo(f"{dataset}: {counts}; {plural(len(problems), 'listed scene')} missing under '{root}'")
        if problems:
            raise SystemExit(1)
        return
    inputs = SplitInputs(
        test_list=test_list,
        val_list=val_list,
        exclude_list=exclude_list,
        dl3dv_benchmark_csv=dl3dv_benchmark_csv,
        dl3dv_valid_csv=dl3dv_valid_csv,
        mpsd_val_npy=mpsd_val_npy,
        seed=seed,
        val_fraction=val_fraction,
        check_meta=check_meta,
    )
    result = make_splits(root, dataset, inputs)
    written = write_splits(out, result)
    if as_json:
        payload = result.to_dict()
        payload["files"] = {s: str(p) if p else None for s, p in written.items()}
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(result.describe())
    for path in written.values():
        if path is not None:
            click.echo(f"wrote {path}")
