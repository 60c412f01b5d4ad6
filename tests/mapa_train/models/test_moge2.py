"""MoGe-2 specifics: token grid choice, focal/shift recovery, native outputs, the metric wrapper's geometry, and the
single-view rule."""

from __future__ import annotations

import pytest
import torch

from mapa_train.errors import MapaInputError
from mapa_train.models.blocks.view_plane import view_plane_uv
from mapa_train.models.moge2.model import token_grid
from mapa_train.models.moge2.recover import normalized_intrinsics, recover_focal_shift
from mapa_train.models.registry import build_model


def test_token_grid_rounds_to_nearest_as_the_official_code() -> None:
    assert token_grid(392, 518, 28 * 37) == (28, 37)
    assert token_grid(518, 518, 37 * 37) == (37, 37)
    assert token_grid(154, 210, 11 * 15) == (11, 15)  # √(165·ar) = 14.99…: truncation would drop a column
    assert token_grid(392, 518, 1200) == (30, 40)  # 30.13, 39.82
    assert token_grid(480, 640, 3600) == (52, 69)  # 51.96, 69.28


def test_predict_at_a_non_default_token_count_uses_the_rounded_grid() -> None:
    torch.manual_seed(0)
    model = build_model("moge2_tiny").eval()
    grids: list[tuple[int, int]] = []
    model.encoder.register_forward_hook(lambda _m, _i, out: grids.append(tuple(out[0].shape[-2:])))
    with torch.no_grad():
        pred = model.predict(torch.rand(1, 3, 42, 56), num_tokens=20)  # √15 = 3.87, √26.7 = 5.16
    assert grids == [(4, 5)]
    assert tuple(pred["points"].shape) == (1, 42, 56, 3)


@pytest.mark.parametrize(("focal", "shift"), [(1.7, 0.8), (0.6, -3.0), (2.5, 0.0)])
def test_focal_and_shift_recovered_from_a_pinhole_point_map(focal: float, shift: float) -> None:
    torch.manual_seed(0)
    height, width = 64, 80
    uv = view_plane_uv(height, width)
    depth = 2 + torch.rand(height, width)
    points = torch.cat([uv * depth[..., None] / focal, (depth - shift)[..., None]], dim=-1)[None]
    mask = torch.ones(1, height, width, dtype=torch.bool)
    got_focal, got_shift = recover_focal_shift(points, mask)
    assert abs(got_focal.item() - focal) < 1e-4 * focal and abs(got_shift.item() - shift) < 1e-4


def test_normalized_intrinsics() -> None:
    k = normalized_intrinsics(torch.tensor([2.0]), 4 / 3)
    diag = (1 + (4 / 3) ** 2) ** 0.5
    torch.testing.assert_close(k[0, 0, 0], torch.tensor(diag / (4 / 3)))
    torch.testing.assert_close(k[0, 1, 1], torch.tensor(diag))
    assert k[0, 0, 2] == 0.5 and k[0, 1, 2] == 0.5


def test_native_outputs() -> None:
    torch.manual_seed(0)
    model = build_model("moge2_tiny").eval()
    with torch.no_grad():
        pred = model.predict(torch.rand(2, 3, 42, 56), num_tokens=12)
    assert tuple(pred["points"].shape) == (2, 42, 56, 3) and bool((pred["points"][..., 2] > 0).all())
    assert bool(((pred["mask"] > 0) & (pred["mask"] < 1)).all())
    torch.testing.assert_close(pred["normal"].norm(dim=-1), torch.ones(2, 42, 56))
    assert tuple(pred["metric_scale"].shape) == (2,) and bool((pred["metric_scale"] > 0).all())


def test_wrapper_points_project_through_the_intrinsics() -> None:
    torch.manual_seed(0)
    model = build_model("moge2_tiny").eval()
    height, width = 42, 70
    with torch.no_grad():
        (out,) = model([{"img": torch.rand(2, 3, height, width)}])
    assert out["pts3d"] is out["pts3d_cam"]
    k = out["intrinsics"]
    assert bool((k[:, :2, 2] == 0.5).all())
    valid = out["depth_z"][..., 0] > 0
    assert bool(valid.any()) and torch.equal(out["non_ambiguous_mask"] & ~valid, torch.zeros_like(valid))
    pts = out["pts3d"]
    u = pts[..., 0] / pts[..., 2] * k[:, 0, 0, None, None] * width + 0.5 * width
    centres = torch.arange(width) + 0.5
    torch.testing.assert_close(u[valid], centres.expand(2, height, width)[valid], atol=1e-3, rtol=1e-4)
    torch.testing.assert_close(out["cam_quats"], torch.tensor([[0.0, 0, 0, 1]]).expand(2, 4))


def test_more_than_one_view_is_refused() -> None:
    model = build_model("moge2_tiny")
    with pytest.raises(MapaInputError, match="single-view: got 2 views"):
        model([{"img": torch.rand(1, 3, 28, 28)}] * 2)
