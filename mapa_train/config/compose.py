"""Compose a run's config from the YAML groups shipped in `mapa_train/config/groups`, with OmegaConf.

A stage (`groups/stage/<name>.yaml`) picks one file per group and sets keys; the command line then selects other
group files (``loss=vggt_loss``, ``model/task=images_only``, ``machine=/path/mine.yaml``) and sets dotted keys in
the reference's spelling (``train_params.max_num_of_imgs_per_gpu=48``). Every key must already exist: a misspelt
key is an error that names the nearest existing ones, so a typo never silently trains the wrong run. Keys under
the free-form maps (`train_params.submodule_configs`, `model.overrides`) may be new, and ``+key=value`` adds any key.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from mapa_train.errors import MapaConfigError, MapaUnknownNameError

GROUPS_DIR = Path(__file__).parent / "groups"
#: Group name -> where its file lands in the composed config.
GROUPS: dict[str, str] = {
    "machine": "machine",
    "dataset": "dataset",
    "model": "model",
    "model/task": "model.task",
    "loss": "loss",
    "train_params": "train_params",
}
#: Groups a stage may leave out (external models have no geometric-input task): the key is then null.
OPTIONAL_GROUPS = ("model/task",)
#: Maps whose keys are free-form (a new key there is not a typo).
OPEN_MAPS = ("train_params.submodule_configs", "model.overrides")


@dataclass(frozen=True)
class StageFile:
    """A stage preset as written in `groups/stage/<name>.yaml`."""

    name: str
    description: str
    reproduces: str
    run_name: str
    reference_gpus: int
    groups: dict[str, str]
    init_from: dict[str, str] | None
    settings: dict[str, Any]
    blocked: str | None = None


def group_choices(group: str) -> list[str]:
    """The file names (without .yaml) available in a group, base files excluded."""
    folder = GROUPS_DIR / group
    return sorted(p.stem for p in folder.glob("*.yaml") if not p.stem.startswith("_"))


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise MapaConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise MapaConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_group(group: str, choice: str) -> dict[str, Any]:
    """One group file merged over the group's `_base.yaml` (if any). `choice` may be a path to a YAML file."""
    folder = GROUPS_DIR / group
    candidate = Path(choice)
    if choice.endswith((".yaml", ".yml")) and candidate.is_file():
        path = candidate
    else:
        path = folder / f"{choice}.yaml"
        if not path.is_file():
            options = group_choices(group)
            raise MapaUnknownNameError(
                f"unknown {group} {choice!r}{_suggest(choice, options)} (available: {', '.join(options)})"
            )
    base = folder / "_base.yaml"
    data = _read_yaml(base) if base.is_file() else {}
    merged = OmegaConf.merge(OmegaConf.create(data), OmegaConf.create(_read_yaml(path)))
    return OmegaConf.to_container(merged)  # type: ignore[return-value]


def load_stage(name: str) -> StageFile:
    """The stage preset called `name`."""
    path = GROUPS_DIR / "stage" / f"{name}.yaml"
    if not path.is_file():
        options = group_choices("stage")
        raise MapaUnknownNameError(
            f"unknown stage {name!r}{_suggest(name, options)}; `mapa-train presets` lists them"
        )
    data = _read_yaml(path)
    return StageFile(
        name=name,
        description=data["description"],
        reproduces=data["reproduces"],
        run_name=data["run_name"],
        reference_gpus=int(data["reference_gpus"]),
        groups=dict(data["groups"]),
        init_from=data.get("init_from"),
        settings=dict(data.get("set") or {}),
        blocked=data.get("blocked"),
    )


def parse_value(text: str) -> Any:
    """A command-line value as YAML (``true`` -> bool, ``48`` -> int, ``[1,2]`` -> list, ``null`` -> None)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def leaf_keys(cfg: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a config (maps are walked; lists are leaves)."""
    keys = []
    node = cfg if isinstance(cfg, dict) else OmegaConf.to_container(cfg)
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        keys.append(dotted)
        if isinstance(value, dict):
            keys.extend(leaf_keys(value, dotted + "."))
    return keys


def set_key(cfg: DictConfig, key: str, value: Any, add: bool = False) -> None:
    """Set dotted `key`; unless `add` or the key sits in an open map, it must exist (else the nearest are named)."""
    in_open_map = any(key.startswith(m + ".") for m in OPEN_MAPS)
    if not (add or in_open_map) and OmegaConf.select(cfg, key, default="__missing__") == "__missing__":
        raise MapaConfigError(
            f"unknown config key {key!r}{_suggest(key, leaf_keys(cfg))} (add a new key with +{key}=...)"
        )
    for open_map in OPEN_MAPS:
        if key.startswith(open_map + "."):  # a dotted submodule name ("model.encoder") is one key of the map
            rest = key[len(open_map) + 1 :]
            target = OmegaConf.select(cfg, open_map)
            name, _, field = rest.rpartition(".")
            if open_map == "train_params.submodule_configs" and name:
                target[name] = OmegaConf.merge(target.get(name) or {}, {field: value})
            else:
                target[rest] = value
            return
    OmegaConf.update(cfg, key, value, merge=False)


def split_overrides(overrides: list[str]) -> tuple[dict[str, str], list[tuple[str, Any, bool]]]:
    """Command-line words -> (group selections, [(key, value, add)])."""
    selections: dict[str, str] = {}
    settings: list[tuple[str, Any, bool]] = []
    for word in overrides:
        key, sep, text = word.partition("=")
        if not sep or not key:
            raise MapaConfigError(f"override {word!r}: expected key=value")
        if key in GROUPS:
            selections[key] = text
        elif key == "stage":
            raise MapaConfigError("choose the stage with --stage, not as an override")
        else:
            add = key.startswith("+")
            settings.append((key.lstrip("+"), parse_value(text), add))
    return selections, settings


def compose(stage: str, overrides: list[str] | tuple[str, ...] = ()) -> DictConfig:
    """The resolved config of `stage` with command-line `overrides` applied (see the module docstring)."""
    preset = load_stage(stage)
    selections, settings = split_overrides(list(overrides))
    choices = {"machine": "default", **preset.groups, **selections}
    for group in GROUPS:
        if group not in choices and group not in OPTIONAL_GROUPS:
            raise MapaConfigError(f"stage {stage!r} selects no {group}")
    tree: dict[str, Any] = {}
    for group, dest in GROUPS.items():
        part = load_group(group, choices[group]) if group in choices else None
        if dest == "model.task":
            tree["model"]["task"] = part
        else:
            tree[dest] = part
    tree["run"] = {
        "stage": stage,
        "name": preset.run_name,
        "output_dir": "${machine.root_experiments_dir}/${run.name}/${run.stage}",
        "init_from": preset.init_from,
        "reference_gpus": preset.reference_gpus,
        "groups": choices,
    }
    cfg = OmegaConf.create(tree)
    for key, value in preset.settings.items():
        set_key(cfg, key, value)
    cfg.run.reference_ipg = cfg.train_params.max_num_of_imgs_per_gpu  # the preset's, before the command line
    for key, value, add in settings:
        set_key(cfg, key, value, add=add)
    try:
        OmegaConf.resolve(cfg)
    except Exception as exc:  # an interpolation naming a missing key or env var
        raise MapaConfigError(f"stage {stage!r}: {exc}") from exc
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise MapaConfigError(f"stage {stage!r}: these keys need a value: {', '.join(missing)}")
    return cfg


def to_yaml(cfg: DictConfig) -> str:
    """The composed config as YAML (what `--print-config` shows and the run folder keeps)."""
    return OmegaConf.to_yaml(cfg)
