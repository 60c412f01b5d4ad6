"""The ablation-1 presets (output representations): each composes, is runnable, and builds the model it names; a
loss whose terms the model cannot feed is refused when the run is built, before any data is read."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from cli.mapa_train_cli import main
from mapa_train.config.compose import compose
from mapa_train.config.presets import preset_status
from mapa_train.errors import MapaConfigError
from mapa_train.models.config_io import apply_overrides
from mapa_train.models.registry import get_entry

#: stage -> (model variant, representation, has pose head, has scale head)
ABLATION_1 = {
    "abl_1a_pm_conf_mask": ("mapanything_ablations", "pointmap_confidence_mask", False, False),
    "abl_1b_campm_pose_conf_mask": ("mapanything_ablations", "campointmap_pose_confidence_mask", True, False),
    "abl_1c_rdp_conf_mask": ("mapanything_ablations", "raydirs_depth_pose_confidence_mask", True, False),
    "abl_a1a_pm_conf_mask_universal": ("mapanything_ablations", "pointmap_confidence_mask", False, False),
    "abl_a1b_campm_pose_universal": (
        "mapanything_ablations",
        "campointmap_pose_confidence_mask",
        True,
        False,
    ),
    "abl_a1c_rdp_universal": ("mapanything_ablations", "raydirs_depth_pose_confidence_mask", True, False),
    "abl_a1e_campm_pose_scale_universal": (
        "mapanything_v1",
        "campointmap_pose_confidence_mask_scale",
        True,
        True,
    ),
}


@pytest.mark.parametrize("stage", sorted(ABLATION_1))
def test_ablation_presets_compose_and_are_runnable(stage: str) -> None:
    model, adaptor, pose, scale = ABLATION_1[stage]
    status = preset_status(stage)
    assert status.runnable and status.reason == "", status.reason
    result = CliRunner().invoke(main, ["--stage", stage, "--print-config"])
    assert result.exit_code == 0, result.output
    cfg = yaml.safe_load(result.output)
    assert cfg["model"]["name"] == model
    assert cfg["model"]["overrides"] == {"pred_head.adaptor": adaptor}
    config = apply_overrides(get_entry(model).make_config(), cfg["model"]["overrides"])
    assert config.representation.name == adaptor
    assert (config.representation.pose, config.representation.scale) == (pose, scale)


def test_the_tiny_override_keeps_the_stage_representation() -> None:
    cfg = compose("abl_1a_pm_conf_mask", ["model=mapanything_tiny"])
    assert cfg.model.name == "mapanything_tiny"
    assert dict(cfg.model.overrides) == {"pred_head.adaptor": "pointmap_confidence_mask"}


def test_a_loss_the_model_cannot_feed_fails_when_the_run_is_built(tmp_path) -> None:
    from mapa_train.train.parts import build_parts

    cfg = compose(
        "abl_1a_pm_conf_mask",
        ["model=mapanything_tiny", "loss=overall_loss", f"machine.root_data_dir={tmp_path / 'nowhere'}"],
    )
    with pytest.raises(
        MapaConfigError, match="loss 'overall_loss' does not fit model mapanything_tiny: .*cam_quats"
    ):
        build_parts(cfg, 0, 1)  # refused before the (missing) data root is looked at
