"""The building blocks on hand-computed values: robust loss, log-norm, avg-dis, reductions, frames."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.losses.frames import apply_log_to_norm, avg_dis_factor, points_in_frame, relative_pose
from mapa_train.losses.reduction import confidence_weighted, masked_mean, trimmed_mean
from mapa_train.losses.robust import L2, ROBUST, robust_loss
from mapa_train.models.geometry import quat_multiply
from tests.mapa_train.losses.scene import random_quats, rotate


def rho(e: float) -> float:
    """The α = 0.5 robust loss as a function of e = Σ((a−b)/c)²: 3·((e/1.5 + 1)^0.25 − 1)."""
    return 3.0 * ((e / 1.5 + 1.0) ** 0.25 - 1.0)


def test_robust_loss_hand_values() -> None:
    gt = torch.zeros(3, 3)
    pred = torch.tensor([[0.05, 0.0, 0.0], [0.05, 0.1, 0.0], [0.0, 0.0, 0.0]])
    out = robust_loss(pred, gt)
    assert out.tolist() == pytest.approx([rho(1.0), rho(5.0), 0.0], rel=1e-6)
    assert ROBUST(pred, gt).tolist() == pytest.approx(out.tolist())
    assert L2(pred, gt).tolist() == pytest.approx([0.05, math.sqrt(0.05**2 + 0.01), 0.0], rel=1e-6)


def test_log_to_norm_keeps_direction() -> None:
    out = apply_log_to_norm(torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]))
    assert out[0].tolist() == pytest.approx([0.6 * math.log(6), 0.8 * math.log(6), 0.0], rel=1e-6)
    assert out[1].tolist() == [0.0, 0.0, 0.0]
    assert apply_log_to_norm(torch.tensor([[2.0]])).item() == pytest.approx(math.log(3.0))


def test_avg_dis_ignores_invalid_points() -> None:
    a = torch.tensor([[[[3.0, 4.0, 0.0], [100.0, 0.0, 0.0]]]])  # (B=1, H=1, W=2, 3)
    b = torch.tensor([[[[0.0, 0.0, 1.0], [0.0, 2.0, 0.0]]]])
    masks = [torch.tensor([[[True, False]]]), torch.tensor([[[True, True]]])]
    assert avg_dis_factor([a, b], masks).tolist() == pytest.approx([(5 + 1 + 2) / 3])
    assert avg_dis_factor([a], [torch.zeros(1, 1, 2, dtype=torch.bool)]).item() == pytest.approx(1e-8)


def test_trimmed_mean_drops_top_five_percent_of_real_samples_only() -> None:
    loss = torch.arange(1.0, 21.0).repeat(2, 1)  # 20 valid values 1..20 per sample
    mask = torch.ones(2, 20, dtype=torch.bool)
    real = trimmed_mean(loss[:1], mask[:1], torch.tensor([True]), 5.0)
    synthetic = trimmed_mean(loss[:1], mask[:1], torch.tensor([False]), 5.0)
    assert real.item() == pytest.approx(sum(range(1, 20)) / 19)  # floor(0.95·20) = 19 kept
    assert synthetic.item() == pytest.approx(10.5)
    both = trimmed_mean(loss, mask, torch.tensor([True, False]), 5.0)
    assert both.item() == pytest.approx((sum(range(1, 20)) + sum(range(1, 21))) / 39)
    mask[0, 19] = False  # 19 valid -> floor(18.05) = 18 kept: values 1..18
    assert trimmed_mean(loss[:1], mask[:1], torch.tensor([True]), 5.0).item() == pytest.approx(9.5)


def test_confidence_weighting_and_masked_mean() -> None:
    loss = torch.tensor([[1.0, 2.0, 50.0]])
    conf = torch.tensor([[1.0, math.e, 7.0]])
    mask = torch.tensor([[True, True, False]])
    expected = ((1.0 * 1.0 - 0.2 * 0.0) + (2.0 * math.e - 0.2 * 1.0)) / 2
    assert confidence_weighted(loss, conf, mask, 0.2).item() == pytest.approx(expected, rel=1e-6)
    assert masked_mean(loss, mask).item() == pytest.approx(1.5)
    assert masked_mean(loss, torch.zeros_like(mask)).item() == 0.0


def test_frames_round_trip() -> None:
    gen = torch.Generator().manual_seed(1)
    q0, q1 = random_quats(3, gen), random_quats(3, gen)
    t0, t1 = torch.randn(3, 3, generator=gen), torch.randn(3, 3, generator=gen)
    local = torch.randn(3, 5, 3, generator=gen)
    world = rotate(q1, local) + t1[:, None]
    q01, t01 = relative_pose(q0, t0, q1, t1)
    # points of camera 1 seen from camera 0 = the relative pose applied to camera-1 points
    assert torch.allclose(points_in_frame(q0, t0, world), rotate(q01, local) + t01[:, None], atol=1e-5)
    assert torch.allclose(quat_multiply(q0, q01), q1, atol=1e-6)
