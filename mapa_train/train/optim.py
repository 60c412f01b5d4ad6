"""Parameter groups and the optimizer, with the reference's rules (training spec 4.3 step 8, 4.7).

- A parameter belongs to the first `submodule_configs` key that is a prefix of its name (a key's leading
  ``model.``, from the reference's wrappers of external models, is accepted when our model has no such module).
- A submodule with ``lr == 0`` is frozen: its parameters get ``requires_grad=False`` here, *before* the model is
  wrapped for distributed training, so DDP never waits for their gradients.
- No weight decay for 1-D tensors (norms, biases, tokens) and names ending in ``.bias``.
- AdamW with betas (0.9, 0.95). Each group carries its own lr / min_lr / warmup for the schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from mapa_train.errors import MapaConfigError

log = logging.getLogger(__name__)
BETAS = (0.9, 0.95)
SCHEDULE_KEYS = ("lr", "min_lr", "warmup_epochs", "weight_decay")


@dataclass(frozen=True)
class GroupSettings:
    """lr / min_lr / warmup / weight decay of one submodule (or of everything else: "default")."""

    lr: float
    min_lr: float
    warmup_epochs: float
    weight_decay: float


def _prefix_in_model(prefix: str, names: list[str]) -> str:
    """The prefix as our parameter names spell it (a leading 'model.' is dropped when nothing starts with it)."""
    if prefix.startswith("model.") and not any(n.startswith(prefix) for n in names):
        return prefix[len("model.") :]
    return prefix


def submodule_settings(train_params: Mapping[str, Any]) -> dict[str, GroupSettings]:
    """The "default" settings plus one per `submodule_configs` key (missing fields fall back to the globals)."""
    base = GroupSettings(
        float(train_params["lr"]),
        float(train_params["min_lr"]),
        float(train_params["warmup_epochs"]),
        float(train_params["weight_decay"]),
    )
    out = {"default": base}
    for name, sub in (train_params.get("submodule_configs") or {}).items():
        unknown = set(sub) - set(SCHEDULE_KEYS)
        if unknown:
            raise MapaConfigError(
                f"train_params.submodule_configs.{name}: unknown keys {sorted(unknown)}; allowed {list(SCHEDULE_KEYS)}"
            )
        out[name] = GroupSettings(
            float(sub.get("lr", base.lr)),
            float(sub.get("min_lr", base.min_lr)),
            float(sub.get("warmup_epochs", base.warmup_epochs)),
            float(sub.get("weight_decay", base.weight_decay)),
        )
    return out


def no_weight_decay(name: str, param: torch.Tensor) -> bool:
    """The reference's rule: 1-D tensors and biases are not decayed."""
    return param.ndim <= 1 or name.endswith(".bias")


def build_param_groups(model: nn.Module, train_params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Freeze lr-0 submodules and return AdamW param groups named ``<sub>_decay`` / ``<sub>_no_decay``.

    A `submodule_configs` key that matches no parameter is an error (a typo would otherwise train the submodule at
    the global LR). With `warn_not_in_submodule`, parameters that fall to "default" are logged.
    """
    settings = submodule_settings(train_params)
    named = [(n, p) for n, p in model.named_parameters()]
    names = [n for n, _ in named]
    prefixes = {sub: _prefix_in_model(sub, names) for sub in settings if sub != "default"}
    for sub, prefix in prefixes.items():
        if not any(n.startswith(prefix) for n in names):
            raise MapaConfigError(
                f"train_params.submodule_configs.{sub}: no parameter of {type(model).__name__} starts with "
                f"{prefix!r} (top-level modules: {sorted({n.split('.')[0] for n in names})})"
            )
    groups: dict[str, dict[str, Any]] = {}
    for name, param in named:
        sub = next((s for s, prefix in prefixes.items() if name.startswith(prefix)), "default")
        cfg = settings[sub]
        if cfg.lr == 0:
            param.requires_grad_(False)
            continue
        if not param.requires_grad:
            continue
        if sub == "default" and prefixes and train_params.get("warn_not_in_submodule"):
            log.warning("parameter %s is in no submodule group; it trains at the global LR", name)
        decay = not no_weight_decay(name, param)
        key = ("" if sub == "default" else f"{sub}_") + ("decay" if decay else "no_decay")
        group = groups.setdefault(
            key,
            {
                "params": [],
                "param_names": [],
                "name": key,
                "submodule": sub,
                "weight_decay": cfg.weight_decay if decay else 0.0,
                "lr": cfg.lr,
                "base_lr": cfg.lr,
                "min_lr": cfg.min_lr,
                "warmup_epochs": cfg.warmup_epochs,
            },
        )
        group["params"].append(param)
        group["param_names"].append(name)
    if not groups:
        raise MapaConfigError("every parameter is frozen (lr 0 everywhere): nothing to train")
    return list(groups.values())


def build_optimizer(param_groups: list[dict[str, Any]]) -> torch.optim.AdamW:
    """AdamW (0.9, 0.95) over the groups; the names stay in the groups for logging, not the tensors' names."""
    groups = [{k: v for k, v in g.items() if k != "param_names"} for g in param_groups]
    return torch.optim.AdamW(groups, lr=groups[0]["lr"], betas=BETAS)


def describe_groups(param_groups: list[dict[str, Any]]) -> dict[str, Any]:
    """Per group: submodule, lr, weight decay and the number of tensors and values (for the start-up print)."""
    return {
        g["name"]: {
            "submodule": g["submodule"],
            "lr": g["base_lr"],
            "weight_decay": g["weight_decay"],
            "tensors": len(g["params"]),
            "values": sum(p.numel() for p in g["params"]),
        }
        for g in param_groups
    }
