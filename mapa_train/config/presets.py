"""The named run presets (the stage files) and whether each can run with what this install has.

A preset is runnable when its model variant is registered, its loss config exists, its mixture is known and it is
not marked `blocked` (a reference run that needs a model part we do not have). Runnable does not mean the data is
on disk: that is checked when the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapa_train.config.compose import StageFile, group_choices, load_group, load_stage


@dataclass(frozen=True)
class PresetStatus:
    stage: StageFile
    runnable: bool
    reason: str


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
