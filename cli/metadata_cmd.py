"""`wai metadata download --to DIR`: the reference's precomputed split lists from the Hugging Face hub."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.errors import report_wai_errors
from metadata.hub import METADATA_PREFIX, REFERENCE_DATASETS, REPO_ID, download_metadata


@click.group("metadata", short_help="Download the reference's precomputed split lists.")
def metadata_group() -> None:
    """Precomputed metadata of the reference (split lists)."""


@metadata_group.command("download", short_help="Fetch split lists from facebook/map-anything.")
@click.option(
    "--to", "to", required=True, type=click.Path(path_type=Path, file_okay=False), help="Target META folder."
)
@click.option(
    "--datasets",
    "datasets",
    multiple=True,
    type=click.Choice(REFERENCE_DATASETS),
    help="Only these datasets (repeatable). [default: all of the reference's]",
)
@click.option("--repo-id", default=REPO_ID, show_default=True)
@click.option("--revision", help="Branch, tag or commit. [default: main]")
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), help="Hugging Face cache. [default: HF_HUB_CACHE]"
)
@click.option("--offline", is_flag=True, help="Use only the local cache (as HF_HUB_OFFLINE=1 does).")
@click.option(
    "--prefix", default=METADATA_PREFIX, show_default=True, help="Folder of the lists in the repository."
)
@click.option("--json", "as_json", is_flag=True)
@report_wai_errors
def download(
    to: Path,
    datasets: tuple[str, ...],
    repo_id: str,
    revision: str | None,
    cache_dir: Path | None,
    offline: bool,
    prefix: str,
    as_json: bool,
) -> None:
    """Fetch the split lists (resumable, from the cache when offline) and check what arrived."""
    result = download_metadata(
        to,
        list(datasets) or None,
        repo_id=repo_id,
        revision=revision,
        cache_dir=cache_dir,
        offline=offline,
        prefix=prefix,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    for name, count in result.scenes.items():
        click.echo(f"{name}: {count} scenes")
    click.echo(
        f"{len(result.files)} split lists from {result.repo_id}@{result.commit[:12]} in '{to}' "
        f"({result.copied} written, {result.unchanged} unchanged)"
    )
