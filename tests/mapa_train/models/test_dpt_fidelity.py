"""DPT details that the released weights depend on: VGGT's residual units skip with the activated input (the
official in-place ReLU), MapAnything's with the raw input; VGGT's track feature extractor has no view-plane
embedding while its depth head has one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mapa_train.models.blocks.dpt_head import ResidualConvUnit
from mapa_train.models.registry import build_model
from mapa_train.models.vggt import dpt_head as vggt_dpt


def _by_hand(unit: ResidualConvUnit, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    hidden = F.conv2d(F.relu(x), unit.conv1.weight, unit.conv1.bias, padding=1)
    return F.conv2d(F.relu(hidden), unit.conv2.weight, unit.conv2.bias, padding=1) + skip


def _units(head: torch.nn.Module) -> list[ResidualConvUnit]:
    return [m for m in head.modules() if isinstance(m, ResidualConvUnit)]


@pytest.mark.parametrize(
    ("model", "head", "activated"),
    [
        ("vggt_tiny", "depth_head", True),
        ("vggt_tiny", "track_head", True),
        ("mapanything_tiny", "dpt_feature_head", False),
    ],
)
def test_residual_unit_skip_matches_the_official_head(model: str, head: str, activated: bool) -> None:
    torch.manual_seed(0)
    units = _units(getattr(build_model(model), head))
    assert len(units) == 7  # refinenet1..3 have two units, refinenet4 one
    x = torch.randn(2, units[0].conv1.in_channels, 5, 6)  # about half the inputs are negative
    for unit in units:
        skip = F.relu(x) if activated else x
        torch.testing.assert_close(unit(x), _by_hand(unit, x, skip), atol=1e-6, rtol=1e-6)
        other = x if activated else F.relu(x)
        assert not torch.allclose(unit(x), _by_hand(unit, x, other), atol=1e-3)


def test_residual_unit_leaves_its_input_untouched_and_passes_gradients() -> None:
    torch.manual_seed(1)
    unit = ResidualConvUnit(4, activated_skip=True)
    x = torch.randn(1, 4, 3, 3, requires_grad=True)
    before = x.detach().clone()
    unit(x).sum().backward()
    assert torch.equal(x.detach(), before) and x.grad is not None


def test_track_feature_extractor_has_no_position_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(2)
    model = build_model("vggt_tiny")
    tokens = model.aggregator(torch.rand(1, 2, 3, 28, 42), set(model.config.pred_head.dpt_layers))
    tapped = [tokens[i] for i in model.config.pred_head.dpt_layers]
    start = model.aggregator.patch_start_idx
    calls: list[tuple[int, ...]] = []
    original = vggt_dpt.add_uv_embedding

    def counting(x: torch.Tensor, *args: int) -> torch.Tensor:
        calls.append(tuple(x.shape))
        return original(x, *args)

    monkeypatch.setattr(vggt_dpt, "add_uv_embedding", counting)
    model.track_head.feature_extractor(tapped, start, (28, 42), 14)
    assert calls == []
    model.depth_head(tapped, start, (28, 42), 14)
    assert len(calls) == 5  # four levels and the full-resolution map
