"""Training losses: small named terms composed by a `LossConfig`, and the reference's loss configs by name.

    from mapa_train.losses import build_loss
    loss = build_loss("overall_loss_highpm_plus_rel_pose")            # or "vggt_loss", "pi3_loss", …
    out = loss(predictions, views)     # predictions: model(views); views: the batch's per-view dicts
    out["loss"].backward(); out.terms; out.skipped

A term whose labels the batch lacks is skipped and listed in `out.skipped`, never computed on zeros. A term whose
predictions the model does not make is a config error: `check_model_outputs(name, model.output_keys)` says so at
build time.
"""

from mapa_train.losses.composite import (
    TERM_KINDS,
    Loss,
    LossConfig,
    LossOutput,
    TermSpec,
)
from mapa_train.losses.configs import LOSS_CONFIGS, build_loss, get_loss_config, loss_table
from mapa_train.losses.context import GeometrySettings, LossContext, TermSkipped
from mapa_train.losses.requirements import check_model_outputs, missing_outputs
from mapa_train.losses.robust import Distance, robust_loss

__all__ = [
    "LOSS_CONFIGS",
    "TERM_KINDS",
    "Distance",
    "GeometrySettings",
    "Loss",
    "LossConfig",
    "LossContext",
    "LossOutput",
    "TermSkipped",
    "TermSpec",
    "build_loss",
    "check_model_outputs",
    "get_loss_config",
    "loss_table",
    "missing_outputs",
    "robust_loss",
]
