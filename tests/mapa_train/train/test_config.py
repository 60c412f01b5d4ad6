"""Config composition: stage presets, group selection, dotted overrides in the reference's keys, typo suggestions."""

from __future__ import annotations

import pytest

from mapa_train.config.compose import compose, group_choices, load_group
from mapa_train.errors import MapaConfigError, MapaUnknownNameError
from mapa_train.models.mapanything.task import TASKS, TaskConfig


def test_stage_selects_groups_and_settings() -> None:
    cfg = compose("24v")
    assert cfg.model.name == "mapanything_v1.1"
    assert cfg.loss.name == "overall_loss_highpm_plus_rel_pose_no_conf"
    assert cfg.dataset.mixture == "megatrain_13d_518_many_ar_36ipg_64g"
    assert cfg.dataset.num_views == 24
    assert cfg.train_params.lr == pytest.approx(1e-5)
    assert cfg.train_params.submodule_configs.encoder.lr == pytest.approx(5e-7)
    assert cfg.train_params.epochs == 60 and cfg.train_params.warmup_epochs == 6
    assert cfg.model.encoder.gradient_checkpointing is True
    assert cfg.run.init_from == {"stage": "4v", "checkpoint": "last"}


def test_reference_overrides_and_group_selection() -> None:
    cfg = compose(
        "4v",
        [
            "model.info_sharing.module_args.gradient_checkpointing=true",
            "model.pred_head.gradient_checkpointing=true",
            "train_params.max_num_of_imgs_per_gpu=48",
            "dataset.num_views=6",
            "loss=vggt_loss",
            "model/task=images_only",
            "train_params.submodule_configs.info_sharing.lr=0",
        ],
    )
    assert cfg.model.info_sharing.module_args.gradient_checkpointing is True
    assert cfg.model.pred_head.gradient_checkpointing is True
    assert cfg.train_params.max_num_of_imgs_per_gpu == 48
    assert cfg.run.reference_ipg == 36  # the preset's ipg, for the LR-scaling print
    assert cfg.dataset.num_views == 6
    assert cfg.loss.name == "vggt_loss"
    assert TaskConfig(**cfg.model.task) == TASKS["images_only"]
    assert cfg.train_params.submodule_configs.info_sharing.lr == 0


def test_unknown_key_suggests_the_nearest() -> None:
    with pytest.raises(MapaConfigError, match=r"did you mean 'train_params.max_num_of_imgs_per_gpu'"):
        compose("4v", ["train_params.max_num_of_img_per_gpu=48"])
    with pytest.raises(MapaConfigError, match=r"model.info_sharing.module_args.gradient_checkpointing"):
        compose("4v", ["model.info_sharing.gradient_checkpointing=true"])


def test_unknown_group_choice_and_stage_suggest() -> None:
    with pytest.raises(MapaUnknownNameError, match="did you mean 'vggt_loss'"):
        compose("4v", ["loss=vgt_loss"])
    with pytest.raises(MapaUnknownNameError, match="did you mean '24v'"):
        compose("24w")


def test_add_key_with_plus_and_bad_words() -> None:
    cfg = compose("4v", ["+train_params.note=hello"])
    assert cfg.train_params.note == "hello"
    with pytest.raises(MapaConfigError, match="expected key=value"):
        compose("4v", ["dataset.num_views"])


def test_machine_paths_from_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MAPA_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MAPA_EXPERIMENTS_DIR", str(tmp_path / "exp"))
    cfg = compose("tiny_4v")
    assert cfg.machine.root_data_dir == str(tmp_path / "data")
    assert cfg.run.output_dir == f"{tmp_path}/exp/tiny/tiny_4v"


def test_machine_yaml_file(tmp_path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("root_data_dir: /datasets\nroot_experiments_dir: /runs\n")
    cfg = compose("24v", [f"machine={mine}"])
    assert cfg.machine.root_data_dir == "/datasets"
    assert cfg.run.output_dir == "/runs/mapa_v1_1_13d/24v"


def test_task_yaml_equals_the_model_task_table() -> None:
    assert set(group_choices("model/task")) == set(TASKS)
    for name, task in TASKS.items():
        assert TaskConfig(**load_group("model/task", name)) == task, name


def test_external_model_presets_have_no_task() -> None:
    cfg = compose("vggt_finetune")
    assert cfg.model.task is None and cfg.model.name == "vggt"
    assert cfg.dataset.principal_point_centered is True
    assert cfg.train_params.submodule_configs["model.aggregator.patch_embed"].lr == pytest.approx(5e-7)
