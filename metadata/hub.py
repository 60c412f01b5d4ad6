"""Download the reference's precomputed split lists from the Hugging Face dataset repository `facebook/map-anything`.

The repository keeps the lists that `aggregate_scene_names.py` wrote under ``mapanything_dataset_metadata/``:
``<split>/<dataset>_scene_list_<split>.npy``. `download_metadata` asks huggingface_hub for exactly the files of the
requested datasets (`allow_patterns`), so they land in the Hugging Face cache (``HF_HUB_CACHE``, resumable: a rerun
fetches only what is missing), checks that every expected file arrived and loads as a split list, and copies them
into ``DIR/<split>/...`` so that DIR is a metadata folder the trainer and `wai splits --check` read directly.
With ``HF_HUB_OFFLINE=1`` (or ``offline=True``) nothing goes to the network and the cached snapshot is used.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from metadata.scene_lists import Split, read_scene_list
from metadata.split_rules import RULES, rule_for
from wai.atomic import atomic_write_bytes, atomic_write_text
from wai.errors import WaiFileNotFoundError, WaiStageError
from wai.plural import plural

REPO_ID = "facebook/map-anything"
REPO_TYPE = "dataset"
METADATA_PREFIX = "mapanything_dataset_metadata"
PROVENANCE = "hub_download.json"
#: The datasets of the reference's aggregation (its `--datasets` choices).
REFERENCE_DATASETS: tuple[str, ...] = tuple(sorted(RULES))


def _hub() -> tuple[Any, Any, Any]:
    """(snapshot_download, huggingface_hub.errors, huggingface_hub.constants), imported only when needed."""
    try:
        from huggingface_hub import constants, errors, snapshot_download
    except ImportError as exc:
        raise WaiStageError(
            "downloading metadata needs huggingface_hub: pip install 'wai-toolkit[hub]'"
        ) from exc
    return snapshot_download, errors, constants


def dataset_splits(dataset: str) -> tuple[Split, ...]:
    """The splits the reference writes for `dataset` (ETH3D: test only; ScanNet++ v2, TAv2-WB: all three)."""
    rule = rule_for(dataset)
    splits: list[Split] = []
    if rule.test != "all":
        splits.append("train")
    if rule.val != "none":
        splits.append("val")
    if rule.test != "none":
        splits.append("test")
    return tuple(splits)


def expected_files(datasets: Sequence[str], prefix: str = METADATA_PREFIX) -> list[str]:
    """Repository paths of the split lists of `datasets` (also the `allow_patterns` of the download)."""
    lead = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    return [
        f"{lead}{split}/{dataset}_scene_list_{split}.npy"
        for dataset in datasets
        for split in dataset_splits(dataset)
    ]


@dataclass
class DownloadResult:
    """Where the snapshot is, which commit it is, and what was copied into the target folder."""

    repo_id: str
    commit: str
    snapshot: str
    files: list[str] = field(default_factory=list)  # written (or already identical) under the target folder
    copied: int = 0
    unchanged: int = 0
    scenes: dict[str, int] = field(default_factory=dict)  # file name -> number of scenes listed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_layout(snapshot: Path, paths: Sequence[str]) -> dict[str, int]:
    """Every expected file must be in the snapshot and load as a split list; the error lists every missing file."""
    missing = [p for p in paths if not (snapshot / p).is_file()]
    if missing:
        raise WaiFileNotFoundError(
            f"snapshot '{snapshot}' lacks {len(missing)} of {plural(len(paths), 'expected split list')}: "
            + ", ".join(missing)
        )
    return {p: len(read_scene_list(snapshot / p)) for p in paths}


def download_metadata(
    to: str | Path,
    datasets: Sequence[str] | None = None,
    *,
    repo_id: str = REPO_ID,
    revision: str | None = None,
    cache_dir: str | Path | None = None,
    offline: bool = False,
    prefix: str = METADATA_PREFIX,
    max_workers: int = 8,
) -> DownloadResult:
    """Fetch the split lists of `datasets` (default: all of the reference's) and copy them under `to`."""
    snapshot_download, errors, constants = _hub()
    names = list(datasets) if datasets else list(REFERENCE_DATASETS)
    paths = expected_files(names, prefix)
    try:
        snapshot = Path(
            snapshot_download(
                repo_id,
                repo_type=REPO_TYPE,
                revision=revision,
                cache_dir=cache_dir,
                allow_patterns=paths,
                local_files_only=offline,
                max_workers=max_workers,
            )
        )
    except getattr(
        errors, "IncompleteSnapshotError", ()
    ) as exc:  # huggingface_hub >= 2: partial cached snapshot
        raise WaiFileNotFoundError(f"dataset repository '{repo_id}': {exc}") from exc
    except errors.LocalEntryNotFoundError as exc:
        where = cache_dir or constants.HF_HUB_CACHE
        raise WaiFileNotFoundError(
            f"dataset repository '{repo_id}' (revision {revision or 'main'}) is not in the cache '{where}' and the "
            f"hub cannot be used ({exc.__class__.__name__}); run once with network access (HF_HUB_OFFLINE unset)"
        ) from exc
    except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError, errors.HfHubHTTPError) as exc:
        raise WaiStageError(f"dataset repository '{repo_id}': {exc}") from exc
    counts = check_layout(snapshot, paths)

    target = Path(to)
    result = DownloadResult(repo_id=repo_id, commit=snapshot.name, snapshot=str(snapshot))
    lead = len(f"{prefix.strip('/')}/") if prefix.strip("/") else 0
    for path in paths:
        data = (snapshot / path).read_bytes()
        dest = target / path[lead:]
        if dest.is_file() and dest.read_bytes() == data:
            result.unchanged += 1
        else:
            atomic_write_bytes(dest, data)
            result.copied += 1
        result.files.append(str(dest))
        result.scenes[path[lead:]] = counts[path]
    provenance = {
        "repo_id": repo_id,
        "repo_type": REPO_TYPE,
        "commit": result.commit,
        "files": sorted(result.scenes),
    }
    atomic_write_text(target / PROVENANCE, json.dumps(provenance, indent=2) + "\n")
    return result
