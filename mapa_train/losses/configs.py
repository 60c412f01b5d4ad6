"""The named loss configs of the reference (main training, ablations, VGGT, π³ and MoGe-2 fine-tuning), as data,
selected by name.

Terms carry names, never positions. Terms a reference config weights at 0 are left out. Where the reference's
positional loss sets made one factor count twice (`no_points_loss`: depth gets both the confidence term and the
trimmed term), that is spelled out as two named terms.
"""

from __future__ import annotations

from dataclasses import replace

from mapa_train.errors import MapaUnknownNameError
from mapa_train.losses.composite import Loss, LossConfig, TermSpec
from mapa_train.losses.context import GeometrySettings
from mapa_train.losses.robust import L2

FACTORED = GeometrySettings("depth_along_ray", loss_in_log=True, divide_by_metric_scale=True)
SCALE_FREE = GeometrySettings("depth_along_ray", loss_in_log=True, divide_by_metric_scale=False)


def _factored_terms(
    factor_weight: float, surface_weight: float, mask_weight: float | None, *, conf: bool, scale: bool = True
) -> tuple[TermSpec, ...]:
    """World points (weight 1), camera points, depth, rays, quats, trans, scale at `factor_weight`, normal and
    gradient matching at `surface_weight`, the mask BCE at `mask_weight` (None: no mask term)."""
    f = factor_weight
    terms = [
        TermSpec("world_points", 1.0, "conf" if conf else "trim"),
        TermSpec("cam_points", f, "trim"),
        TermSpec("depth", f, "trim"),
        TermSpec("rays", f),
        TermSpec("quats", f),
        TermSpec("trans", f),
    ]
    if scale:
        terms.append(TermSpec("scale", f))
    terms += [TermSpec("normal", surface_weight), TermSpec("gradient_matching", surface_weight)]
    if mask_weight is not None:
        terms.append(TermSpec("mask", mask_weight))
    return tuple(terms)


def _drop(terms: tuple[TermSpec, ...], *kinds: str) -> tuple[TermSpec, ...]:
    return tuple(t for t in terms if t.kind not in kinds)


def _overall_terms() -> tuple[TermSpec, ...]:
    return _factored_terms(1.0, 3.0, 0.3, conf=True)


def _v11(name: str, description: str, **changes) -> LossConfig:
    base = LossConfig(
        name,
        _factored_terms(0.1, 0.3, 0.03, conf=True),
        FACTORED,
        absolute_pose=True,
        relative_pose=True,
        description=description,
    )
    return replace(base, **changes)


def _overall(name: str, description: str, **changes) -> LossConfig:
    base = LossConfig(name, _overall_terms(), FACTORED, description=description)
    return replace(base, **changes)


def _no_points_terms() -> tuple[TermSpec, ...]:
    terms = _drop(_overall_terms(), "world_points", "cam_points", "depth")
    depth = (
        TermSpec("depth", 1.0, "conf", name="depth_conf", train_only=True),
        TermSpec("depth", 1.0, "trim"),
    )
    return depth + terms


def _build_registry() -> dict[str, LossConfig]:
    v11_no_conf_terms = _factored_terms(0.1, 0.3, 0.03, conf=False)
    entangled = replace(SCALE_FREE, metric_pred_uses_gt_factor=True)
    vggt_geometry = GeometrySettings("depth_z", loss_in_log=True, divide_by_metric_scale=False)
    pi3_geometry = replace(vggt_geometry, predictions_to_view0=True)
    regr3d = GeometrySettings(loss_in_log=True, divide_by_metric_scale=False, metric_pred_uses_gt_factor=True)
    configs = [
        _v11("overall_loss_highpm_plus_rel_pose", "V1.1 main (stages 4v and 24v)"),
        _v11(
            "overall_loss_highpm_plus_rel_pose_no_conf",
            "V1.1 without confidence (world points trimmed instead)",
            terms=v11_no_conf_terms,
        ),
        _v11("overall_loss_weigh_pm_higher", "V1 main: absolute pose only", relative_pose=False),
        _v11(
            "overall_loss_highpm_rel_pose_no_ref_view",
            "relative pose only, predictions re-expressed in predicted view 0 (no reference view)",
            absolute_pose=False,
            geometry=replace(FACTORED, predictions_to_view0=True),
        ),
        _v11(
            "overall_loss_highpm_rel_pose_no_conf_no_ref_view",
            "as …_no_ref_view, without confidence",
            terms=v11_no_conf_terms,
            absolute_pose=False,
            geometry=replace(FACTORED, predictions_to_view0=True),
        ),
        _overall("overall_loss", "V1 ablation base: factor weights 1, normal/GM 3, absolute pose"),
        _overall(
            "up_to_scale_loss",
            "ablation: no scale term, prediction never divided by the metric scale",
            terms=_drop(_overall_terms(), "scale"),
            geometry=SCALE_FREE,
        ),
        _overall(
            "entangled_metric_loss",
            "ablation: metric samples compared in metres (prediction divided by the GT factor), no scale term",
            terms=_drop(_overall_terms(), "scale"),
            geometry=entangled,
        ),
        _overall(
            "no_log_scaling",
            "ablation: points, depth and scale compared linearly",
            geometry=replace(FACTORED, loss_in_log=False),
        ),
        _overall(
            "no_robust_loss",
            "ablation: Euclidean distance instead of the robust loss; normal/GM 1, mask 0.1",
            terms=_factored_terms(1.0, 1.0, 0.1, conf=True),
            distance=L2,
        ),
        _overall(
            "no_points_loss",
            "ablation: no world or camera points; depth confidence-weighted and trimmed (counted twice, as the reference)",
            terms=_no_points_terms(),
        ),
        _overall(
            "no_ray_dirs_loss", "ablation: no ray-direction term", terms=_drop(_overall_terms(), "rays")
        ),
        _overall("no_depth_loss", "ablation: no depth term", terms=_drop(_overall_terms(), "depth")),
        _overall("no_pose_loss", "ablation: no pose terms", terms=_drop(_overall_terms(), "quats", "trans")),
        LossConfig(
            "conf_pm_mask_loss",
            (TermSpec("world_points", 1.0, "conf"), TermSpec("mask", 0.3)),
            regr3d,
            description="pointmap-head ablation: confidence-weighted world points (metric in metres) + mask",
        ),
        LossConfig(
            "conf_pm_mask_scale_loss",
            (TermSpec("world_points", 1.0, "conf"), TermSpec("scale", 1.0), TermSpec("mask", 0.3)),
            FACTORED,
            description="confidence-weighted world points + metric scale + mask (unused by the reference scripts)",
        ),
        LossConfig(
            "vggt_loss",
            _factored_terms(1.0, 3.0, None, conf=True, scale=False),
            vggt_geometry,
            description="VGGT fine-tuning: scale-invariant, z-depth, absolute pose, no scale or mask term",
        ),
        LossConfig(
            "pi3_loss",
            _factored_terms(1.0, 3.0, None, conf=False, scale=False),
            pi3_geometry,
            relative_pose=True,
            description="π³ fine-tuning: predictions re-expressed in predicted view 0, absolute + all-pairs pose",
        ),
        LossConfig(
            "moge2_loss",
            (
                TermSpec("world_points", 1.0, "trim"),
                TermSpec("normal", 3.0, geometry=FACTORED),
                TermSpec("gradient_matching", 3.0, geometry=FACTORED),
            ),
            regr3d,
            description="MoGe-2 fine-tuning (single view): points (metric in metres) + normal and GM on synthetic data",
        ),
    ]
    return {c.name: c for c in configs}


LOSS_CONFIGS: dict[str, LossConfig] = _build_registry()


def get_loss_config(name: str) -> LossConfig:
    """The registered loss config called `name`."""
    if name not in LOSS_CONFIGS:
        import difflib

        near = difflib.get_close_matches(name, list(LOSS_CONFIGS), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise MapaUnknownNameError(f"unknown loss config {name!r}{hint} (known: {sorted(LOSS_CONFIGS)})")
    return LOSS_CONFIGS[name]


def build_loss(
    config: str | LossConfig, split: str = "train", weights: dict[str, float] | None = None
) -> Loss:
    """Build the loss `config` (a registered name or a `LossConfig`) for "train" or "eval", with optional
    per-term weight changes by term name."""
    cfg = get_loss_config(config) if isinstance(config, str) else config
    if weights:
        cfg = cfg.with_weights(weights)
    if split == "eval":
        cfg = cfg.for_eval()
    elif split != "train":
        raise MapaUnknownNameError(f"loss split must be 'train' or 'eval', got {split!r}")
    return Loss(cfg)


def loss_table() -> list[dict[str, object]]:
    """One row per registered loss config: name, description, and its terms as `{name: weight}`."""
    return [
        {"name": c.name, "description": c.description, "terms": {t.key: t.weight for t in c.terms}}
        for c in LOSS_CONFIGS.values()
    ]
