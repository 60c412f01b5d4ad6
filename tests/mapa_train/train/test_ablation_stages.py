"""Ablation-1 presets train on the tiny model and `wai convert synthetic` data with their own losses: a pointmap
model (no pose head) with `conf_pm_mask_loss` and a camera-pointmap model with `entangled_metric_loss`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from cli.wai_cli import main as wai_main
from mapa_train.config.compose import compose
from mapa_train.train.loop import forward_loss, train
from mapa_train.train.parts import build_parts

pytest.importorskip("mapa_train.data.torch_dataset")

#: stage -> (loss terms that must be computed, heads that must get a gradient)
STAGES = {
    "abl_1a_pm_conf_mask": ({"world_points", "mask"}, ("dpt_regressor_head",)),
    "abl_1b_campm_pose_conf_mask": (
        {"world_points", "cam_points", "depth", "rays", "quats", "trans", "mask"},
        ("dpt_regressor_head", "pose_head"),
    ),
}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    dst = root / "synthetic"
    args = ["convert", "synthetic", "--dst", str(dst), "--num-scenes", "2", "--min-frames", "5"]
    args += ["--max-frames", "5", "--width", "112", "--height", "84"]
    assert CliRunner().invoke(wai_main, args).exit_code == 0
    assert CliRunner().invoke(wai_main, ["covis", str(dst)]).exit_code == 0
    return root


def tiny_cfg(stage: str, data_root: Path, out: Path):
    return compose(
        stage,
        [
            "model=mapanything_tiny",
            "dataset=synthetic",
            f"machine.root_data_dir={data_root}",
            f"machine.root_experiments_dir={out}",
            "dataset.num_views=2",
            "train_params.max_num_of_imgs_per_gpu=4",
            "train_params.log_with=[]",
            "train_params.amp=0",
            "train_params.epochs=1",
            "train_params.warmup_epochs=0",
            "train_params.iters_per_epoch=2",
            "train_params.lr=0.001",
        ],
    )


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_one_step_backpropagates_into_the_heads_and_the_loss_falls(stage: str, data_root, tmp_path) -> None:
    terms, heads = STAGES[stage]
    cfg = tiny_cfg(stage, data_root, tmp_path)
    torch.manual_seed(0)
    parts = build_parts(cfg, 0, 1)
    model = parts.model
    assert hasattr(model, "pose_head") == ("pose_head" in heads) and not hasattr(model, "scale_head")
    parts.train_loader.batch_sampler.set_epoch(0)
    views = next(iter(parts.train_loader))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    values = []
    for step in range(4):  # the same batch: the loss must fall
        out = forward_loss(model, views, parts.train_loss, torch.device("cpu"), cfg.train_params)
        assert terms <= set(out) and math.isfinite(out["loss"].item()), out.get("_skipped")
        optimizer.zero_grad()
        out["loss"].backward()
        if step == 0:
            for head in heads:
                grads = [p.grad for n, p in model.named_parameters() if n.startswith(head)]
                assert any(g is not None and g.abs().sum() > 0 for g in grads), head
        optimizer.step()
        values.append(out["loss"].item())
    assert values[-1] < values[0], values


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_training_loop_runs_the_stage(stage: str, data_root, tmp_path) -> None:
    result = train(tiny_cfg(stage, data_root, tmp_path))
    assert len(result.losses) == 2 and all(math.isfinite(x) for x in result.losses)
    assert (result.output_dir / "checkpoints" / "final" / "model.pt").is_file()
