"""Which model outputs each term of a loss config reads, and a build-time check against what a model produces.

A model that declares its per-view output keys (MapAnything's `output_keys`, set by its output representation) is
checked when a run is built, so a loss term whose predictions the model never makes is a config error naming the
term and the missing keys, not an error in the middle of the first step.
"""

from __future__ import annotations

from collections.abc import Collection

from mapa_train.errors import MapaConfigError
from mapa_train.losses.composite import LossConfig, TermSpec
from mapa_train.losses.configs import get_loss_config
from mapa_train.losses.context import GeometrySettings

#: A requirement is a tuple of keys any one of which will do (depth_z falls back to the camera points' z).
Requirement = tuple[str, ...]

_POSE = (("cam_quats",), ("cam_trans",))


def _kind_needs(kind: str, geometry: GeometrySettings) -> list[Requirement]:
    """Outputs a term kind reads. Every term but rays and quats divides by the prediction's avg-dis factor, which is
    computed from the world points `pts3d`."""
    if kind == "rays":
        return [("ray_directions",)]
    if kind == "quats":
        return [("cam_quats",)]
    if kind == "mask":
        return [("non_ambiguous_mask_logits",)]
    needs: list[Requirement] = [("pts3d",)]
    if kind in ("cam_points", "normal", "gradient_matching"):
        needs.append(("pts3d_cam",))
    elif kind == "depth":
        if geometry.depth_type == "depth_along_ray":
            needs.append(("depth_along_ray",))
        else:
            needs.append(("depth_z", "pts3d_cam"))
    elif kind == "trans":
        needs.append(("cam_trans",))
    elif kind == "scale":
        needs.append(("metric_scaling_factor",))
    return needs


def term_requirements(config: LossConfig, spec: TermSpec) -> list[Requirement]:
    """The model outputs term `spec` of `config` reads (train and eval reductions both counted)."""
    geometry = spec.geometry or config.geometry
    needs = _kind_needs(spec.kind, geometry)
    if "conf" in (spec.reduction, spec.eval_reduction):
        needs.append(("conf",))
    if geometry.predictions_to_view0 and spec.kind not in ("rays", "mask"):
        needs.extend(_POSE)  # predictions are re-expressed in the predicted view 0's frame
    return needs


def missing_outputs(config: str | LossConfig, outputs: Collection[str]) -> dict[str, list[str]]:
    """Term name -> the outputs it needs that `outputs` lacks (alternatives joined by " or "); empty if none."""
    cfg = get_loss_config(config) if isinstance(config, str) else config
    available = set(outputs)
    missing: dict[str, list[str]] = {}
    for spec in cfg.terms:
        lacking = [
            " or ".join(need) for need in term_requirements(cfg, spec) if not available.intersection(need)
        ]
        if lacking:
            missing[spec.key] = sorted(set(lacking))
    return missing


def check_model_outputs(
    config: str | LossConfig, outputs: Collection[str] | None, model: str = "the model"
) -> None:
    """Raise `MapaConfigError` when a term of loss `config` needs an output that `model` does not produce.

    `outputs` is the model's per-view output keys; None (a model that does not declare them) skips the check.
    """
    if outputs is None:
        return
    missing = missing_outputs(config, outputs)
    if missing:
        name = config if isinstance(config, str) else config.name
        terms = "; ".join(f"{term} needs {', '.join(keys)}" for term, keys in missing.items())
        raise MapaConfigError(
            f"loss {name!r} does not fit model {model}: {terms} (the model outputs {sorted(outputs)}); "
            "choose a loss without these terms or a model output representation that has them"
        )
