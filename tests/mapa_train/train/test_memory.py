"""The start-up memory estimate: its static part is the exact byte count of weights, gradients and AdamW state, its
activation part tracks what autograd saves for the tiny model, and an out-of-memory error names the knobs."""

from __future__ import annotations

import pytest
import torch

from mapa_train.config.compose import compose
from mapa_train.errors import MapaTrainingError
from mapa_train.models.mapanything.task import get_task
from mapa_train.models.registry import build_model
from mapa_train.train.loop import train
from mapa_train.train.memory import (
    estimate_memory,
    mapanything_activation_bytes,
    saved_activation_bytes,
    static_bytes,
    worst_batch,
)
from mapa_train.train.optim import build_optimizer, build_param_groups
from tests.mapa_train.train.standins import standin_parts

W, H = 56, 42


def tiny_cfg(tmp_path, extra=()):
    return compose(
        "tiny_4v",
        [
            "train_params.log_with=[]",
            "train_params.iters_per_epoch=2",
            f"machine.root_experiments_dir={tmp_path}",
            *extra,
        ],
    )


def test_static_part_is_the_exact_byte_count_of_a_real_step(tmp_path) -> None:
    cfg = tiny_cfg(
        tmp_path, ["train_params.submodule_configs.encoder.lr=0"]
    )  # a frozen encoder: no grads, no moments there
    model = build_model("mapanything_tiny").train()
    optimizer = build_optimizer(build_param_groups(model, cfg.train_params))
    frozen = [p for p in model.parameters() if not p.requires_grad]
    assert frozen, "lr_encoder=0 should freeze the encoder"
    static = static_bytes(model)
    views = [{"img": torch.randn(1, 3, H, W)} for _ in range(2)]
    out = model(views, task=get_task("images_only"))
    sum(o["pts3d"].square().mean() for o in out).backward()
    optimizer.step()
    params = list(model.parameters())
    assert static["weights"] == sum(p.numel() * p.element_size() for p in params)
    assert static["grads"] == sum(
        p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None
    )
    moments = [t for s in optimizer.state.values() for k, t in s.items() if k != "step"]
    assert static["optimizer"] == sum(t.numel() * t.element_size() for t in moments)
    assert static["ddp_buckets"] == 0 and static_bytes(model, world=2)["ddp_buckets"] == static["grads"]


def measured(model, views: int, flags: tuple[bool, bool, bool]) -> int:
    model.set_gradient_checkpointing(*flags)
    images = [{"img": torch.randn(1, 3, H, W)} for _ in range(views)]
    saved, _ = saved_activation_bytes(model, lambda: model(images, task=get_task("images_only")))
    return saved


@pytest.mark.parametrize("views", [2, 4])
def test_activation_part_is_within_a_factor_of_the_saved_tensors(views) -> None:
    torch.manual_seed(0)
    model = build_model("mapanything_tiny").train()
    estimates = {}
    for flags in [(False, False, False), (True, False, False), (False, True, False), (False, False, True)]:
        estimate, recompute = mapanything_activation_bytes(model.config, views, views, W, H, False, *flags)
        truth = measured(model, views, flags)
        assert 0.8 <= estimate / truth <= 1.25, (flags, estimate, truth)
        estimates[flags] = estimate
        assert (recompute > 0) == any(flags)
    plain = estimates[False, False, False]
    assert all(e < plain for flags, e in estimates.items() if any(flags))  # every flag lowers it
    everything, _ = mapanything_activation_bytes(model.config, views, views, W, H, False, True, True, True)
    assert everything < min(e for flags, e in estimates.items() if any(flags))
    assert measured(model, views, (True, True, True)) < measured(model, views, (False, False, False)) / 2


def test_estimate_of_a_run_config_and_its_line(tmp_path) -> None:
    assert worst_batch(36, (2, 3, 4)) == (36, 4) and worst_batch(8, (24,)) == (24, 24)
    assert worst_batch(10, (2, 3, 4)) == (10, 2)  # 5 x 2 beats 3 x 3 and 2 x 4
    cfg = tiny_cfg(
        tmp_path, ["train_params.max_num_of_imgs_per_gpu=8", "model.encoder.gradient_checkpointing=true"]
    )
    model = build_model("mapanything_tiny")
    est = estimate_memory(model, cfg, 1, (2, 3, 4))
    assert (est.images, est.views) == (8, 4) and (est.width, est.height) == (56, 42)  # the set's largest
    assert est.checkpointing == ("encoder",) and est.dtype == ("bf16" if cfg.train_params.amp else "fp32")
    line = est.line()
    assert line.startswith(f"estimated peak memory per GPU: {est.total / 2**20:.1f} MiB")
    assert "2 x 4 views at 56x42" in line and "checkpointing: encoder" in line and "not a measurement" in line
    assert est.total == est.static + est.saved + est.recompute


def test_startup_prints_the_estimate(tmp_path, capsys) -> None:
    train(tiny_cfg(tmp_path), standin_parts, stop_after_steps=1)
    assert "estimated peak memory per GPU: " in capsys.readouterr().out


def test_out_of_memory_names_the_knobs_and_their_values(tmp_path, monkeypatch) -> None:
    from mapa_train.models.mapanything.model import MapAnything

    def no_memory(self, views, task=None):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(MapAnything, "forward", no_memory)
    cfg = tiny_cfg(
        tmp_path, ["train_params.max_num_of_imgs_per_gpu=8", "model.pred_head.gradient_checkpointing=true"]
    )
    with pytest.raises(MapaTrainingError) as info:
        train(cfg, standin_parts)
    text = str(info.value)
    assert "epoch 0 iteration 0, rank 0: out of memory on a batch of" in text
    assert "train_params.max_num_of_imgs_per_gpu (now 8)" in text
    assert "model.encoder.gradient_checkpointing (now false)" in text
    assert "model.info_sharing.module_args.gradient_checkpointing (now false)" in text
    assert "model.pred_head.gradient_checkpointing (now true)" in text
    assert "the start-up estimate was" in text
    assert isinstance(info.value.__cause__, torch.OutOfMemoryError)


def test_estimate_memory_flag_of_the_cli() -> None:
    from click.testing import CliRunner

    from cli.mapa_train_cli import main
    from mapa_train.models.registry import count_registered_parameters
    from mapa_train.train.memory import estimate_for_config

    runner = CliRunner()
    tiny = runner.invoke(main, ["train", "--stage", "tiny_4v", "--estimate-memory", "--gpus", "1"])
    assert tiny.exit_code == 0, tiny.output
    assert tiny.output.strip() == estimate_for_config(compose("tiny_4v"), 1).line()
    full = runner.invoke(main, ["--stage", "24v", "--estimate-memory"])  # 64 GPUs, as the preset
    assert full.exit_code == 0, full.output
    assert "for 2 x 18 views at 518x518, bf16, checkpointing: encoder)" in full.output
    est = estimate_for_config(compose("24v"), 64)
    # fp32 weights, grads, two AdamW moments and DDP's bucket copy of the grads: 20 bytes per value (all trainable)
    assert est.static == 20 * count_registered_parameters("mapanything_v1.1")
    more = estimate_for_config(
        compose("24v", ["model.info_sharing.module_args.gradient_checkpointing=true"]), 64
    )
    assert more.static == est.static and more.activations < est.activations / 2


@pytest.mark.parametrize("trained", ["info_sharing_and_heads", "heads"])
def test_frozen_parts_save_nothing(trained) -> None:
    from mapa_train.train.memory import frozen_parts

    torch.manual_seed(0)
    model = build_model("mapanything_tiny").train()
    kept = ("dpt_", "pose_head.", "scale_head.") + (("info_sharing.",) if trained != "heads" else ())
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(kept))
    frozen = frozen_parts(model)
    assert frozen == (("encoder",) if trained != "heads" else ("encoder", "info_sharing"))
    estimate, _ = mapanything_activation_bytes(model.config, 4, 4, W, H, False, frozen=frozen)
    plain, _ = mapanything_activation_bytes(model.config, 4, 4, W, H, False)
    truth = measured(model, 4, (False, False, False))
    assert 0.8 <= estimate / truth <= 1.25, (estimate, truth)
    assert estimate < plain
