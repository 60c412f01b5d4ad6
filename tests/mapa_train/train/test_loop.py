"""The loop with the real tiny model and stand-in data/loss: the loss falls, a killed run resumes on the same
curve, stage 24v starts from stage 4v's checkpoint, and an unstable loss is skipped or stops the run."""

from __future__ import annotations

import json

import pytest
import torch

from mapa_train.config.compose import compose
from mapa_train.errors import MapaTrainingError
from mapa_train.train.checkpoint import latest_checkpoint, read_model_weights
from mapa_train.train.logs import read_log
from mapa_train.train.loop import train
from tests.mapa_train.train.standins import standin_loss, standin_parts

BASE = ["train_params.log_with=[]", "train_params.iters_per_epoch=6", "train_params.checkpoint_every_steps=4"]


def cfg_for(tmp_path, stage="tiny_4v", extra=()):
    return compose(stage, [*BASE, f"machine.root_experiments_dir={tmp_path}", *extra])


def step_losses(output_dir) -> dict[int, float]:
    return {r["step"]: r["train_loss"] for r in read_log(output_dir / "log.jsonl") if r["event"] == "step"}


def test_interrupted_run_continues_the_same_curve(tmp_path) -> None:
    whole = train(cfg_for(tmp_path / "a", extra=["train_params.epochs=2"]), standin_parts)
    assert len(whole.losses) == 12 and whole.final is not None
    assert sum(whole.losses[-3:]) < sum(whole.losses[:3])  # it learns

    cfg = cfg_for(tmp_path / "b", extra=["train_params.epochs=2"])
    cut = train(cfg, standin_parts, stop_after_steps=10)  # stops after step 10; the last checkpoint is step 8
    assert cut.losses == whole.losses[:10]
    assert latest_checkpoint(cut.output_dir).name == "step_00000008"
    rest = train(cfg, standin_parts)
    assert rest.losses == whole.losses[8:]  # bit-for-bit the same steps 9..12
    assert step_losses(cut.output_dir) == step_losses(whole.output_dir)
    epochs_a = [r for r in read_log(whole.output_dir / "log.jsonl") if r["event"] == "epoch"]
    epochs_b = [r for r in read_log(cut.output_dir / "log.jsonl") if r["event"] == "epoch"]
    assert epochs_a[-1]["train_loss"] == epochs_b[-1]["train_loss"]
    assert epochs_a[-1]["val_loss_med"] == epochs_b[-1]["val_loss_med"]


def test_stage_24v_starts_from_4v(tmp_path) -> None:
    first = train(cfg_for(tmp_path, extra=["train_params.epochs=1"]), standin_parts)
    second_cfg = cfg_for(tmp_path, "tiny_24v", extra=["train_params.epochs=1"])
    assert second_cfg.run.output_dir == str(tmp_path / "tiny" / "tiny_24v")
    from mapa_train.train.model_setup import build_run_model

    model, notes = build_run_model(second_cfg)
    source = latest_checkpoint(first.output_dir)
    assert notes == [f"initialised from stage tiny_4v: {source}"]
    for key, value in read_model_weights(source).items():
        assert torch.equal(model.state_dict()[key], value)
    second = train(second_cfg, standin_parts)
    assert second.state.step == 6 and (second.output_dir / "checkpoints" / "final").is_dir()


def test_stage_24v_without_4v_says_what_is_missing(tmp_path) -> None:
    from mapa_train.errors import MapaWeightsNotFoundError

    with pytest.raises(MapaWeightsNotFoundError, match="no 'last' checkpoint in .*tiny_4v/checkpoints"):
        train(cfg_for(tmp_path, "tiny_24v"), standin_parts)


def exploding_parts(cfg, rank, world):
    """Stand-in parts whose loss is NaN on the third call of every process."""
    parts = standin_parts(cfg, rank, world)
    calls = {"n": 0}

    def loss(preds, views):
        calls["n"] += 1
        out = standin_loss(preds, views)
        if calls["n"] == 3:
            out["loss"] = out["loss"] * float("nan")
        return out

    parts.train_loss = loss
    return parts


def test_unstable_loss_is_skipped_and_counted(tmp_path) -> None:
    result = train(cfg_for(tmp_path, extra=["train_params.epochs=1"]), exploding_parts)
    assert result.state.skipped_steps == 1 and result.state.step == 5
    events = [r for r in read_log(result.output_dir / "log.jsonl") if r["event"] == "unstable_loss"]
    assert len(events) == 1 and events[0]["iteration"] == 2 and events[0]["loss"] is None


def test_unstable_loss_stops_with_policy_stop(tmp_path) -> None:
    cfg = cfg_for(tmp_path, extra=["train_params.epochs=1", "train_params.instability_policy=stop"])
    with pytest.raises(MapaTrainingError, match="unstable loss with instability_policy=stop"):
        train(cfg, exploding_parts)
    dumped = torch.load(tmp_path / "tiny" / "tiny_4v" / "unstable" / "rank_0.pt", weights_only=True)
    assert dumped["iteration"] == 2 and dumped["views"][0]["img"].shape[1:] == (3, 42, 56)


def test_outputs_of_a_run(tmp_path) -> None:
    result = train(
        cfg_for(tmp_path, extra=["train_params.epochs=1", "train_params.keep_freq=1"]), standin_parts
    )
    out = result.output_dir
    assert (out / "config.yaml").read_text().startswith("machine:")
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert names == ["best", "final", "step_00000006"]
    meta = json.loads((out / "checkpoints" / "step_00000006" / "meta.json").read_text())
    assert meta["keep"] is True and meta["epoch"] == 1 and meta["position"] == 0


def test_dinov2_init_and_official_weights_are_wired(tmp_path) -> None:
    from mapa_train.errors import MapaWeightsNotFoundError
    from mapa_train.models.registry import build_model
    from mapa_train.train.model_setup import build_run_model

    torch.manual_seed(1)
    donor = build_model("mapanything_tiny").encoder.model.state_dict()  # torch-hub DINOv2 key names
    donor = {k: v for k, v in donor.items()}
    donor["norm.weight"], donor["norm.bias"] = torch.ones(64), torch.zeros(64)
    path = tmp_path / "dinov2_tiny.pth"
    torch.save(donor, path)
    cfg = cfg_for(tmp_path, extra=["model.dinov2_init.encoder=true", f"model.dinov2_init.path={path}"])
    model, notes = build_run_model(cfg)
    assert notes and notes[0].startswith("encoder from DINOv2")
    for key, value in model.encoder.model.state_dict().items():
        assert torch.equal(value, donor[key]), key
    with pytest.raises(MapaWeightsNotFoundError, match="facebook/VGGT-1B"):
        build_run_model(compose("vggt_finetune", ["model=vggt_tiny", "model.official_weights=true"]))
