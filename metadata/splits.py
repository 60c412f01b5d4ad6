"""Train/val/test scene lists of a dataset root, written and read in the reference's format.

``make_splits`` applies the dataset's rule (`metadata.split_rules`) to the eligible scenes of a root,
``write_splits`` writes the lists to ``<meta>/<split>/<dataset>_scene_list_<split>.npy`` and ``load_splits`` reads
them back, checking them against a root if one is given.

Unlike the reference, the random val draw is reproducible (a seeded generator over the natural-sorted names, not
over a `set`, whose order depends on string hashing), and every scene that is dropped is reported with its reason.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metadata.natural_sort import natural_sorted
from metadata.scene_lists import SPLITS, Split, read_scene_list, scene_list_path, write_scene_list
from metadata.split_rules import SplitRule, blendedmvs_is_val, rule_for
from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError
from wai.plural import plural
from wai.scene import list_scenes
from wai.scene.meta import SCENE_META, load_scene_meta

DEFAULT_SEED = 42  # the reference seeds its aggregation with 42
DEFAULT_VAL_FRACTION = 0.05


@dataclass
class SplitInputs:
    """Files and settings a rule may need (each is only read by the rules that use it)."""

    test_list: Path | None = None  # one scene per line (or a split .npy); replaces the rule's test source
    val_list: Path | None = None  # same, for val
    exclude_list: Path | None = None  # scenes to leave out of every split
    dl3dv_benchmark_csv: Path | None = None  # DL3DV_10K_4K_resolution/benchmark-meta.csv (column `hash`)
    dl3dv_valid_csv: Path | None = None  # DL3DV-valid.csv (columns `hash`, `batch`)
    mpsd_val_npy: Path | None = None  # mpsd/val_recon_folder_names.npy
    seed: int = DEFAULT_SEED
    val_fraction: float = DEFAULT_VAL_FRACTION
    check_meta: bool = False  # also parse every scene_meta.json; unreadable ones are dropped with the error


@dataclass
class SplitResult:
    """The lists of one dataset, and every scene that did not make it into one, with the reason."""

    dataset: str
    splits: dict[str, list[str]]
    dropped: dict[str, str] = field(default_factory=dict)  # scene folder -> why it is not eligible
    listed_missing: dict[str, dict[str, str]] = field(default_factory=dict)  # split -> {listed scene: why}
    left_out: dict[str, str] = field(default_factory=dict)  # eligible scene in no split -> why

    def counts(self) -> dict[str, int]:
        return {split: len(names) for split, names in self.splits.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        lines = [f"{self.dataset}: " + ", ".join(f"{s} {n}" for s, n in self.counts().items())]
        for scene, why in self.dropped.items():
            lines.append(f"  dropped {scene}: {why}")
        for split, missing in self.listed_missing.items():
            for scene, why in missing.items():
                lines.append(f"  {split} list names {scene}: {why}")
        for scene, why in self.left_out.items():
            lines.append(f"  left out {scene}: {why}")
        total = len(self.dropped) + sum(len(m) for m in self.listed_missing.values()) + len(self.left_out)
        lines.append(f"  {plural(total, 'scene')} dropped or left out")
        return "\n".join(lines)


def read_id_file(path: Path) -> list[str]:
    """Scene ids from a text file (one per line, ``#`` comments) or a split-list ``.npy``."""
    if path.suffix == ".npy":
        return read_scene_list(path)
    if not path.is_file():
        raise WaiFileNotFoundError(f"file '{path}': scene id list not found")
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def eligibility(root: Path, scene: str, rule: SplitRule, check_meta: bool = False) -> str | None:
    """None if the scene is eligible, else why not (the reference's three `exists` filters)."""
    folder = root / scene
    if not folder.is_dir():
        return f"no scene folder '{folder}'"
    if not (folder / SCENE_META).is_file():
        return f"no {SCENE_META}"
    if not (folder / rule.covisibility_dir).is_dir():
        return f"no {rule.covisibility_dir}/ folder"
    if not (folder / rule.depth_dir).is_dir():
        return f"no {rule.depth_dir}/ folder"
    if check_meta:
        try:
            load_scene_meta(folder / SCENE_META)
        except WaiError as exc:
            return str(exc)
    return None


def _csv_column(path: Path | None, option: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if path is None:
        raise WaiFormatError(f"the dl3dv val split needs {option} FILE")
    if not path.is_file():
        raise WaiFileNotFoundError(f"file '{path}': not found ({option})")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise WaiFormatError(
            f"file '{path}': missing {'column' if len(missing) == 1 else 'columns'} {missing}; header is {header}"
        )
    return rows


def _dl3dv_val(inputs: SplitInputs) -> list[str]:
    """DL3DV-Benchmark scenes as ``<batch>_<hash>`` folder names."""
    bench = _csv_column(inputs.dl3dv_benchmark_csv, "--dl3dv-benchmark-csv", ("hash",))
    valid = _csv_column(inputs.dl3dv_valid_csv, "--dl3dv-valid-csv", ("hash", "batch"))
    batch_of = {row["hash"]: row["batch"] for row in valid}
    return [f"{batch_of[row['hash']]}_{row['hash']}" for row in bench if row["hash"] in batch_of]


def _fixed_source(
    kind: str, ids: tuple[str, ...], file: Path | None, split: str, rule: SplitRule, inputs: SplitInputs
) -> list[str]:
    if file is not None:
        return read_id_file(file)
    if kind == "fixed":
        return list(ids)
    if kind == "file":
        raise WaiFormatError(
            f"dataset '{rule.name}': its {split} ids are not built in; pass --{split}-list FILE "
            "(one scene id per line)"
        )
    if kind == "dl3dv":
        return _dl3dv_val(inputs)
    if kind == "mpsd":
        if inputs.mpsd_val_npy is None:
            raise WaiFormatError("the mpsd val split needs --mpsd-val-npy FILE (val_recon_folder_names.npy)")
        return [name.replace("/", "_") for name in read_scene_list(inputs.mpsd_val_npy)]
    return []


def _take_listed(
    listed: list[str], pool: set[str], split: str, result: SplitResult, why_not: Callable[[str], str]
) -> list[str]:
    """The listed scenes that are eligible and still unassigned; the others are reported with `why_not`."""
    taken: list[str] = []
    for scene in dict.fromkeys(listed):
        if scene in pool:
            taken.append(scene)
            pool.discard(scene)
        else:
            result.listed_missing.setdefault(split, {})[scene] = why_not(scene)
    return taken


def make_splits(root: str | Path, dataset: str, inputs: SplitInputs | None = None) -> SplitResult:
    """Apply `dataset`'s rule to the scenes under `root` (nothing is written)."""
    root = Path(root)
    inputs = inputs or SplitInputs()
    rule = rule_for(dataset)
    result = SplitResult(dataset=dataset, splits={})
    eligible: list[str] = []
    for scene in list_scenes(root):
        why = eligibility(root, scene, rule, inputs.check_meta)
        if why is None:
            eligible.append(scene)
        else:
            result.dropped[scene] = why
    pool = set(eligible)
    eligible_set = set(eligible)

    def why_not(scene: str) -> str:
        if scene in result.dropped:
            return f"not eligible ({result.dropped[scene]})"
        if scene in result.left_out:
            return "excluded"
        if scene in eligible_set:
            return "already in another split"
        return f"no such scene under '{root}'"

    if inputs.exclude_list is not None:
        for scene in read_id_file(inputs.exclude_list):
            if scene in pool:
                pool.discard(scene)
                result.left_out[scene] = f"listed in {inputs.exclude_list}"

    test: list[str] = []
    if inputs.test_list is not None or rule.test in ("fixed", "file"):
        listed = _fixed_source(rule.test, rule.test_ids, inputs.test_list, "test", rule, inputs)
        test = _take_listed(listed, pool, "test", result, why_not)
    elif rule.test == "all":
        test, pool = sorted(pool), set()

    val: list[str] = []
    if inputs.val_list is not None or rule.val in ("fixed", "file", "dl3dv", "mpsd"):
        listed = _fixed_source(rule.val, rule.val_ids, inputs.val_list, "val", rule, inputs)
        val = _take_listed(listed, pool, "val", result, why_not)
    elif rule.val == "random" and pool:
        candidates = natural_sorted(pool)
        count = max(1, int(inputs.val_fraction * len(candidates)))
        picks = np.random.default_rng(inputs.seed).choice(len(candidates), size=count, replace=False)
        val = [candidates[i] for i in picks]
        pool.difference_update(val)

    train: list[str] = []
    if rule.train_rule == "blendedmvs":
        for scene in natural_sorted(pool):
            is_val = blendedmvs_is_val(scene)
            if is_val is None:
                result.left_out[scene] = "not a 24-hex-digit BlendedMVS id"
            elif is_val:
                val.append(scene)
            else:
                train.append(scene)
    else:
        train = list(pool)
    result.splits = {
        "train": natural_sorted(train),
        "val": natural_sorted(val),
        "test": natural_sorted(test),
    }
    return result


def write_splits(meta_dir: str | Path, result: SplitResult) -> dict[str, Path | None]:
    """Write the non-empty lists; a list file left from an earlier run for a now-empty split is removed.

    Returns split -> written path (None where the split is empty)."""
    written: dict[str, Path | None] = {}
    for split in SPLITS:
        path = scene_list_path(meta_dir, result.dataset, split)
        names = result.splits.get(split, [])
        if names:
            written[split] = write_scene_list(path, names)
        else:
            if path.is_file():
                path.unlink()
            written[split] = None
    return written


def load_splits(meta_dir: str | Path, dataset: str, root: str | Path | None = None) -> dict[Split, list[str]]:
    """The lists of `dataset` that exist under `meta_dir` (split -> scene names, file order).

    With `root`, every listed scene must be a folder under it; otherwise the error names the file, the number of
    missing scenes and the first few of them.
    """
    lists: dict[Split, list[str]] = {}
    for split in SPLITS:
        path = scene_list_path(meta_dir, dataset, split)
        if path.is_file():
            lists[split] = read_scene_list(path)
    if not lists:
        raise WaiFileNotFoundError(
            f"no split lists for dataset '{dataset}' under '{meta_dir}' "
            f"(expected <split>/{dataset}_scene_list_<split>.npy)"
        )
    if root is not None:
        problems = check_splits(lists, dataset, meta_dir, root)
        if problems:
            raise WaiFileNotFoundError(
                f"{plural(len(problems), 'listed scene')} {'does' if len(problems) == 1 else 'do'} not exist "
                f"under '{root}': " + "; ".join(problems[:5])
            )
    return lists


def check_splits(
    lists: dict[Split, list[str]], dataset: str, meta_dir: str | Path, root: str | Path
) -> list[str]:
    """One line per listed scene that has no folder under `root` (``file '...': scene 'x' ...``)."""
    root = Path(root)
    present = set(list_scenes(root))
    problems: list[str] = []
    for split, names in lists.items():
        path = scene_list_path(meta_dir, dataset, split)
        problems += [
            f"file '{path}': scene '{name}' has no folder under '{root}'"
            for name in names
            if name not in present
        ]
    return problems
