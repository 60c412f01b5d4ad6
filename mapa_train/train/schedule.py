"""The reference's only LR schedule, per iteration in fractional epochs (training spec 4.6).

    epoch_f <  warmup:  lr_t = lr * epoch_f / warmup
    epoch_f >= warmup:  lr_t = min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * (epoch_f - warmup) / (E - warmup)))

with `epoch_f = epoch + i / iters_per_epoch`. Each param group uses its own lr / min_lr / warmup and the global E.
The schedule is a pure function of (epoch, iteration), so resuming restores it exactly from those two numbers.
"""

from __future__ import annotations

import math
from typing import Any

from mapa_train.errors import MapaConfigError

SCHEDULES = ("linear_warmup_half_cycle_cosine_decay",)


def lr_at(epoch_f: float, lr: float, min_lr: float, warmup_epochs: float, epochs: float) -> float:
    """The learning rate at fractional epoch `epoch_f`."""
    if epoch_f < warmup_epochs:
        return lr * epoch_f / warmup_epochs
    span = epochs - warmup_epochs
    if span <= 0:
        return min_lr
    progress = min(1.0, (epoch_f - warmup_epochs) / span)
    return min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def check_schedule(schedule_type: str) -> None:
    if schedule_type not in SCHEDULES:
        raise MapaConfigError(
            f"train_params.schedule_type {schedule_type!r}: expected one of {list(SCHEDULES)}"
        )


def apply_schedule(optimizer: Any, epoch_f: float, epochs: float) -> dict[str, float]:
    """Set every group's lr for `epoch_f`; returns {group submodule: lr} (one value per submodule)."""
    out: dict[str, float] = {}
    for group in optimizer.param_groups:
        group["lr"] = lr_at(epoch_f, group["base_lr"], group["min_lr"], group["warmup_epochs"], epochs)
        out[group["submodule"]] = group["lr"]
    return out
