"""Build the model a run trains from its `model` config, and initialise it (another stage's result, the released
checkpoint of an external model, DINOv2 weights, or a file).

Order (the reference's, spec 4.3 steps 4 and 6): build the registry variant with the config's overrides and task,
switch the three gradient-checkpointing flags, then load `run.init_from` (another stage's checkpoint in the same
run folder, found by name: no manual rename), else `model.official_weights` / `model.pretrained`, else
`model.dinov2_init`. A resume later overrides all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.registry import build_model, get_entry
from mapa_train.train import checkpoint as ckpt


def model_overrides(cfg: DictConfig) -> dict[str, Any]:
    """Registry-config overrides from `model.overrides` and `model.task` (MapAnything only)."""
    overrides = dict(OmegaConf.to_container(cfg.model.overrides) or {})
    task = cfg.model.get("task")
    if task is not None:
        family = get_entry(cfg.model.name).family
        if family != "mapanything":
            raise MapaConfigError(
                f"model/task: the {family} model {cfg.model.name!r} takes no geometric inputs; drop model/task"
            )
        overrides["task"] = OmegaConf.to_container(task)
    return overrides


def init_source(cfg: DictConfig) -> Path | None:
    """The checkpoint folder `run.init_from` names: `<run folder>/<stage>/checkpoints/<last|best|final>`."""
    init = cfg.run.get("init_from")
    if not init:
        return None
    stage_dir = Path(cfg.run.output_dir).absolute().parent / str(init["stage"])
    return ckpt.resolve_checkpoint(stage_dir, str(init.get("checkpoint", "last")))


def build_run_model(cfg: DictConfig) -> tuple[nn.Module, list[str]]:
    """The model of `cfg`, initialised; and notes for the start-up print (what was loaded from where)."""
    model = build_model(cfg.model.name, model_overrides(cfg))
    model.set_gradient_checkpointing(
        encoder=bool(cfg.model.encoder.gradient_checkpointing),
        info_sharing=bool(cfg.model.info_sharing.module_args.gradient_checkpointing),
        pred_head=bool(cfg.model.pred_head.gradient_checkpointing),
    )
    notes = []
    source = init_source(cfg)
    dino = cfg.model.dinov2_init
    if source is None and not cfg.model.pretrained and (dino.encoder or dino.info_sharing):
        notes.extend(dinov2_init(model, dino))
    if source is not None:
        ckpt.load_model_strict(model, ckpt.read_model_weights(source), source)
        notes.append(f"initialised from stage {cfg.run.init_from.stage}: {source}")
    elif cfg.model.official_weights:
        from mapa_train.models.pretrained import load_official_checkpoint

        report = load_official_checkpoint(model, cfg.model.pretrained or None)
        notes.append(f"initialised from the released {cfg.model.name} checkpoint: {report.summary()}")
    elif cfg.model.pretrained:
        from mapa_train.models.weights import load_state_dict_with_report, read_checkpoint

        path = Path(cfg.model.pretrained)
        if path.is_dir() and (path / "meta.json").is_file():  # one of our checkpoint folders
            state = ckpt.read_model_weights(path)
        else:
            state = read_checkpoint(path)
        report = load_state_dict_with_report(model, state, strict=False, source=str(path))
        notes.append(f"initialised from {path} (non-strict): {report.summary()}")
    return model, notes


def dinov2_init(model: nn.Module, dino: DictConfig) -> list[str]:
    """Fill a MapAnything's encoder (and, for V1.1, its multi-view transformer) from DINOv2 weights."""
    from mapa_train.models.pretrained import init_encoder_from_dinov2, init_info_sharing_from_dinov2

    if not hasattr(model, "info_sharing") or not hasattr(model.encoder, "model"):
        raise MapaConfigError(f"model.dinov2_init applies to MapAnything models, not {type(model).__name__}")
    notes = []
    if dino.encoder:
        report = init_encoder_from_dinov2(model.encoder.model, dino.path, str(dino.name))
        notes.append(f"encoder from DINOv2 {dino.name}: {report.summary()}")
    if dino.info_sharing:
        report = init_info_sharing_from_dinov2(model.info_sharing, dino.path, str(dino.name))
        notes.append(f"multi-view transformer from DINOv2 {dino.name} blocks 24..: {report.summary()}")
    return notes
