"""The named run presets (the stage files) and whether each can run with what this install has.

A preset is runnable when its model variant is registered, its loss config exists, the model makes every output
the loss reads, its mixture is known and it is not marked `blocked` (a reference run that needs a model part we do
not have). Runnable does not mean the data is on disk: that is checked when the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mapa_train.config.compose import StageFile, group_choices, load_group, load_stage


@dataclass(frozen=True)
class PresetStatus:
    stage: StageFile
    runnable: bool
    reason: str


def _model_overrides(model_group: dict[str, Any], stage: StageFile) -> dict[str, Any]:
    """The registry-config overrides the stage's model ends up with (the group's, then the stage's `set`)."""
    overrides = dict(model_group.get("overrides") or {})
    for key, value in stage.settings.items():
        if key == "model.overrides":
            overrides = dict(value or {})
        elif key.startswith("model.overrides."):
            overrides[key.removeprefix("model.overrides.")] = value
    return overrides


def _loss_fit(model_group: dict[str, Any], stage: StageFile, loss: str) -> list[str]:
    """Why the stage's loss reads outputs its model does not make (empty when it fits or the model declares none)."""
    from mapa_train.errors import MapaError
    from mapa_train.losses import missing_outputs
    from mapa_train.models.config_io import apply_overrides
    from mapa_train.models.registry import get_entry

    try:
        config = apply_overrides(
            get_entry(model_group["name"]).make_config(), _model_overrides(model_group, stage)
        )
    except MapaError as exc:
        return [f"model {model_group['name']!r}: {exc}"]
    outputs = getattr(config, "output_keys", None)
    if outputs is None:
        return []
    missing = missing_outputs(loss, outputs)
    if not missing:
        return []
    terms = ", ".join(f"{term} ({' '.join(keys)})" for term, keys in missing.items())
    return [f"loss {loss!r} reads outputs model {model_group['name']!r} does not make: {terms}"]


def _missing_parts(stage: StageFile) -> list[str]:
    problems = []
    model = load_group("model", stage.groups["model"])
    try:
        from mapa_train.models.registry import MODELS
    except ModuleNotFoundError as exc:
        return [f"mapa_train.models needs {exc.name}"]
    if model["name"] not in MODELS:
        problems.append(f"model {model['name']!r} is not registered")
    loss = load_group("loss", stage.groups["loss"])["name"]
    try:
        from mapa_train.losses import LOSS_CONFIGS

        if loss not in LOSS_CONFIGS:
            problems.append(f"loss {loss!r} is not in mapa_train.losses")
        elif model["name"] in MODELS:
            problems.extend(_loss_fit(model, stage, loss))
    except ImportError:
        problems.append("mapa_train.losses is not available")
    dataset = load_group("dataset", stage.groups["dataset"])
    if dataset.get("mixture"):
        try:
            from mapa_train.data.mixtures import named_mixture

            named_mixture(dataset["mixture"])
        except ImportError:
            problems.append("mapa_train.data mixtures are not available")
        except KeyError:
            problems.append(f"mixture {dataset['mixture']!r} is not in mapa_train.data")
    try:
        import mapa_train.data.torch_dataset  # noqa: F401
    except ImportError:
        problems.append("mapa_train.data.torch_dataset is not available")
    return problems


def preset_status(name: str) -> PresetStatus:
    stage = load_stage(name)
    if stage.blocked:
        return PresetStatus(stage, False, stage.blocked)
    problems = _missing_parts(stage)
    return PresetStatus(stage, not problems, "; ".join(problems) if problems else "")


def all_presets() -> list[PresetStatus]:
    return [preset_status(name) for name in group_choices("stage")]


def format_presets(rows: list[PresetStatus]) -> str:
    """An aligned table: name, status, what it reproduces, description (and why a preset is blocked)."""
    lines = []
    width = max(len(r.stage.name) for r in rows)
    for row in rows:
        status = "ready  " if row.runnable else "blocked"
        lines.append(
            f"{row.stage.name.ljust(width)}  {status}  {row.stage.reproduces}: {row.stage.description}"
        )
        if not row.runnable:
            lines.append(f"{' ' * width}           why: {row.reason}")
    return "\n".join(lines)
