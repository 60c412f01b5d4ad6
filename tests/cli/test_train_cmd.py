"""`mapa-train presets` and `mapa-train [train] --stage X --print-config`: listing, honesty, overrides, errors."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from click.testing import CliRunner

from cli.mapa_train_cli import main
from mapa_train.config import presets

REFERENCE_RUNS = {
    "4v",
    "24v",
    "conf",
    "4v_apache",
    "24v_apache",
    "conf_apache",
    "v1_4v",
    "v1_24v",
    "v1_4v_apache",
    "v1_24v_apache",
    "bmvs_4v",
    "bmvs_img_only_4v",
    "vggt_finetune",
    "pi3_finetune",
    "moge2_finetune",
    "abl_base_4v",
    "abl_base_24v",
    "abl_1a_pm_conf_mask",
    "abl_1b_campm_pose_conf_mask",
    "abl_1c_rdp_conf_mask",
    "abl_2a_gat",
    "abl_2b_aat_w_pe",
    "abl_3a_no_log_scaling",
    "abl_3b_no_robust_loss",
    "abl_3c_entangled_metric_loss",
    "abl_3d_up_to_scale_loss",
    "abl_3e_no_points_loss",
    "abl_3f_no_ray_dirs_loss",
    "abl_3g_no_depth_loss",
    "abl_3h_no_pose_loss",
    "abl_4a_direct_24v",
    "abl_5a_finetune_for_geometric_inputs",
    "abl_6a_mvs",
    "abl_6b_registration",
    "abl_6c_universal",
    "abl_a1a_pm_conf_mask_universal",
    "abl_a1b_campm_pose_universal",
    "abl_a1c_rdp_universal",
    "abl_a1d_full_universal",
    "abl_a1e_campm_pose_scale_universal",
}


def test_presets_cover_every_reference_run_and_say_what_they_reproduce() -> None:
    result = CliRunner().invoke(main, ["presets", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert REFERENCE_RUNS <= set(rows)
    assert rows["24v"]["init_from"] == {"stage": "4v", "checkpoint": "last"}
    assert rows["conf"]["init_from"] == {"stage": "24v", "checkpoint": "last"}
    assert (
        "stage 2" in rows["24v"]["reproduces"] and "ablation 3" in rows["abl_3a_no_log_scaling"]["reproduces"]
    )
    for row in rows.values():
        assert row["runnable"] == (row["reason"] == ""), row  # a blocked preset always says why
    assert all(row["runnable"] for row in rows.values())  # the ablation-1 representations included


@pytest.fixture
def misfit_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Preset abl_1a with a loss its pointmap model cannot feed (it has no pose head)."""
    real = presets.load_stage

    def load_stage(name: str):
        stage = real(name)
        if name == "abl_1a_pm_conf_mask":
            stage = dataclasses.replace(stage, groups={**stage.groups, "loss": "overall_loss"})
        return stage

    monkeypatch.setattr(presets, "load_stage", load_stage)


def test_presets_table(misfit_preset) -> None:
    result = CliRunner().invoke(main, ["presets"])
    assert result.exit_code == 0
    assert "24v" in result.output and "MapAnything V1.1, stage 2" in result.output
    assert (
        "why: loss 'overall_loss' reads outputs model 'mapanything_ablations' does not make:" in result.output
    )
    assert "quats (cam_quats)" in result.output


def test_print_config_with_overrides_and_the_short_form() -> None:
    args = [
        "--stage",
        "4v",
        "--print-config",
        "train_params.max_num_of_imgs_per_gpu=48",
        "loss=vggt_loss",
        "model.info_sharing.module_args.gradient_checkpointing=true",
    ]
    short = CliRunner().invoke(main, args)
    long = CliRunner().invoke(main, ["train", *args])
    assert short.exit_code == 0, short.output
    assert short.output == long.output
    cfg = yaml.safe_load(short.output)
    assert cfg["train_params"]["max_num_of_imgs_per_gpu"] == 48
    assert cfg["loss"]["name"] == "vggt_loss"
    assert cfg["model"]["info_sharing"]["module_args"]["gradient_checkpointing"] is True
    assert cfg["run"]["stage"] == "4v"


def test_unknown_key_is_one_line_error() -> None:
    result = CliRunner().invoke(main, ["--stage", "4v", "--print-config", "dataset.num_view=4"])
    assert result.exit_code == 1
    assert "unknown config key 'dataset.num_view'; did you mean 'dataset.num_views'" in result.output


def test_blocked_preset_refuses_to_train(misfit_preset) -> None:
    result = CliRunner().invoke(main, ["train", "--stage", "abl_1a_pm_conf_mask"])
    assert result.exit_code == 1 and "cannot run yet" in result.output and "cam_quats" in result.output


def test_plot_loss_writes_a_png(tmp_path) -> None:
    rows = [{"event": "step", "step": s, "train_loss": 10.0 / s} for s in range(1, 30)]
    rows.append({"event": "epoch", "step": 29, "epoch": 0, "val_loss_med": 0.5})
    (tmp_path / "log.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = CliRunner().invoke(main, ["plot-loss", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(main, ["plot-loss", str(empty)])
    assert bad.exit_code == 1 and "no log.jsonl" in bad.output
