"""Param groups (weight-decay rules, per-submodule LRs, lr 0 = frozen before wrapping) and the LR schedule."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.registry import build_model
from mapa_train.train.optim import BETAS, build_optimizer, build_param_groups
from mapa_train.train.schedule import apply_schedule, lr_at

TP = {"lr": 1e-4, "min_lr": 1e-6, "warmup_epochs": 10, "weight_decay": 0.05}


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
        self.head = nn.Linear(4, 2)
        self.token = nn.Parameter(torch.zeros(4))


def names(group) -> set[str]:
    return set(group["param_names"])


def test_decay_rules_and_submodule_lr() -> None:
    groups = build_param_groups(Net(), {**TP, "submodule_configs": {"encoder": {"lr": 5e-6, "min_lr": 5e-8}}})
    by = {g["name"]: g for g in groups}
    assert names(by["encoder_decay"]) == {"encoder.0.weight"}
    assert names(by["encoder_no_decay"]) == {"encoder.0.bias", "encoder.1.weight", "encoder.1.bias"}
    assert names(by["decay"]) == {"head.weight"}
    assert names(by["no_decay"]) == {"head.bias", "token"}
    assert by["encoder_decay"]["lr"] == 5e-6 and by["encoder_decay"]["min_lr"] == 5e-8
    assert by["encoder_decay"]["weight_decay"] == 0.05 and by["encoder_no_decay"]["weight_decay"] == 0.0
    assert by["decay"]["lr"] == 1e-4
    opt = build_optimizer(groups)
    assert isinstance(opt, torch.optim.AdamW) and opt.defaults["betas"] == BETAS


def test_lr_zero_freezes_before_wrapping() -> None:
    net = Net()
    groups = build_param_groups(net, {**TP, "submodule_configs": {"encoder": {"lr": 0.0}}})
    assert all(not p.requires_grad for p in net.encoder.parameters())
    assert net.head.weight.requires_grad
    assert not any(n.startswith("encoder") for g in groups for n in g["param_names"])


def test_heads_only_preset_on_mapanything() -> None:
    from mapa_train.config.compose import load_group

    model = build_model("mapanything_tiny")
    tp = load_group("train_params", "finetune_heads_only")
    groups = build_param_groups(model, tp)
    trained = {n.split(".")[0] for g in groups for n in g["param_names"]}
    assert trained == {"dpt_feature_head", "dpt_regressor_head", "pose_head", "scale_head"}
    assert all(not p.requires_grad for p in model.encoder.parameters())


def test_reference_model_prefix_is_accepted_and_typos_fail() -> None:
    model = build_model("vggt_tiny")
    groups = build_param_groups(
        model, {**TP, "submodule_configs": {"model.aggregator.patch_embed": {"lr": 5e-7}}}
    )
    sub = [g for g in groups if g["submodule"] == "model.aggregator.patch_embed"]
    assert sub and all(n.startswith("aggregator.patch_embed.") for g in sub for n in g["param_names"])
    with pytest.raises(MapaConfigError, match="no parameter of VGGT starts with 'encodr'"):
        build_param_groups(model, {**TP, "submodule_configs": {"encodr": {"lr": 0.0}}})


def test_schedule_values() -> None:
    assert lr_at(0.0, 1e-4, 1e-6, 10, 100) == 0.0
    assert lr_at(5.0, 1e-4, 1e-6, 10, 100) == pytest.approx(5e-5)
    assert lr_at(10.0, 1e-4, 1e-6, 10, 100) == pytest.approx(1e-4)
    assert lr_at(55.0, 1e-4, 1e-6, 10, 100) == pytest.approx(1e-6 + (1e-4 - 1e-6) * 0.5)
    assert lr_at(100.0, 1e-4, 1e-6, 10, 100) == pytest.approx(1e-6)
    mid = 10 + 90 / 3
    assert lr_at(mid, 1e-4, 1e-6, 10, 100) == pytest.approx(
        1e-6 + (1e-4 - 1e-6) * 0.5 * (1 + math.cos(math.pi / 3))
    )


def test_schedule_per_group() -> None:
    groups = build_param_groups(Net(), {**TP, "submodule_configs": {"encoder": {"lr": 5e-6, "min_lr": 5e-8}}})
    opt = build_optimizer(groups)
    lrs = apply_schedule(opt, 5.0, 100)
    assert lrs == {"encoder": pytest.approx(2.5e-6), "default": pytest.approx(5e-5)}
