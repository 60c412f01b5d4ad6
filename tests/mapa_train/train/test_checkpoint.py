"""Checkpoints: step folders that sort by step, atomic publication, keep rule, strict loading, RNG round trip."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
import torch
from torch import nn

from mapa_train.errors import MapaCheckpointError, MapaWeightsNotFoundError
from mapa_train.train import checkpoint as ckpt


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))


def save(tmp_path, model, opt, step: int, keep: bool = False):
    return ckpt.save_step_checkpoint(
        tmp_path,
        model=model,
        optimizer=opt,
        state=ckpt.TrainState(step=step, epoch=1, position=3),
        sampler_state={"epoch": 1, "position": 3, "seed": 0},
        config_yaml="a: 1\n",
        rank=0,
        world_size=1,
        barrier=lambda: None,
        keep=keep,
    )


def test_round_trip_rng_and_keep_rule(tmp_path) -> None:
    model = net()
    opt = torch.optim.AdamW(model.parameters())
    model(torch.ones(2, 3)).sum().backward()
    opt.step()
    torch.manual_seed(5), np.random.seed(5), random.seed(5)  # noqa: NPY002 (global RNGs are what resume restores)
    first = save(tmp_path, model, opt, 1200, keep=True)
    expected = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    save(tmp_path, model, opt, 1300)
    save(tmp_path, model, opt, 1400)
    names = [p.name for p in ckpt.step_folders(tmp_path)]
    assert names == ["step_00001200", "step_00001400"]  # 1300 was not kept; 1200 was
    assert first.name == "step_00001200" and ckpt.latest_checkpoint(tmp_path).name == "step_00001400"

    other = net()
    with torch.no_grad():
        for p in other.parameters():
            p.zero_()
    opt2 = torch.optim.AdamW(other.parameters())
    state, sampler = ckpt.load_step_checkpoint(first, model=other, optimizer=opt2, rank=0, world_size=1)
    assert (state.step, state.epoch, state.position) == (1200, 1, 3) and sampler["position"] == 3
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert opt2.state_dict()["state"][0]["step"] == opt.state_dict()["state"][0]["step"]
    got = (torch.rand(3), np.random.rand(3), random.random())  # noqa: NPY002
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1]) and got[2] == expected[2]


def test_unfinished_folder_is_never_resumed(tmp_path) -> None:
    model = net()
    opt = torch.optim.AdamW(model.parameters())
    save(tmp_path, model, opt, 10)
    partial = ckpt.checkpoints_dir(tmp_path) / ".tmp-step_00000020-00000020"
    partial.mkdir()
    (partial / "state.pt").write_bytes(b"half")
    assert ckpt.latest_checkpoint(tmp_path).name == "step_00000010"


def test_strict_load_names_the_keys(tmp_path) -> None:
    model = net()
    opt = torch.optim.AdamW(model.parameters())
    folder = save(tmp_path, model, opt, 10)
    bigger = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1), nn.Linear(1, 1))
    with pytest.raises(MapaCheckpointError, match=r"missing: 2\.weight, 2\.bias"):
        ckpt.load_step_checkpoint(
            folder, model=bigger, optimizer=torch.optim.AdamW(bigger.parameters()), rank=0, world_size=1
        )
    smaller = nn.Sequential(nn.Linear(3, 4))
    with pytest.raises(MapaCheckpointError, match=r"unexpected: 1\.weight, 1\.bias"):
        ckpt.load_step_checkpoint(
            folder, model=smaller, optimizer=torch.optim.AdamW(smaller.parameters()), rank=0, world_size=1
        )


def test_world_size_and_missing_rank_part(tmp_path) -> None:
    model = net()
    opt = torch.optim.AdamW(model.parameters())
    folder = save(tmp_path, model, opt, 10)
    with pytest.raises(MapaCheckpointError, match="written by 1 processes, this run has 2"):
        ckpt.load_step_checkpoint(folder, model=model, optimizer=opt, rank=1, world_size=2)
    (folder / "rank_0.pt").unlink()
    with pytest.raises(MapaCheckpointError, match="rank_0.pt is missing"):
        ckpt.load_step_checkpoint(folder, model=model, optimizer=opt, rank=0, world_size=1)


def test_best_final_and_resolve(tmp_path) -> None:
    model = net()
    with pytest.raises(MapaWeightsNotFoundError, match="no 'last' checkpoint"):
        ckpt.resolve_checkpoint(tmp_path, "last")
    ckpt.save_model_checkpoint(tmp_path, "best", model, ckpt.TrainState(step=3), "a: 1\n")
    ckpt.save_model_checkpoint(tmp_path, "best", model, ckpt.TrainState(step=4), "a: 1\n")  # replaces
    best = ckpt.resolve_checkpoint(tmp_path, "best")
    assert sorted(p.name for p in best.iterdir()) == ["meta.json", "model.pt"]
    weights = ckpt.read_model_weights(best)
    assert set(weights) == set(model.state_dict())
    assert [p.name for p in ckpt.checkpoints_dir(tmp_path).iterdir()] == ["best"]
    shutil.rmtree(best)
    with pytest.raises(MapaWeightsNotFoundError, match="no 'final' checkpoint"):
        ckpt.resolve_checkpoint(tmp_path, "final")
