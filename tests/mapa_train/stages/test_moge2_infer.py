"""MoGe-2 inference with a known field of view: shift recovery, metric depth, masking, resizing back, sanitising,
device choice. A stand-in model with an exact pinhole point map lets the geometry be checked to tight tolerances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mapa_train.errors import MapaConfigError
from mapa_train.models.blocks.view_plane import view_plane_uv
from mapa_train.models.geometry import fov_from_focal
from mapa_train.models.moge2.recover import focal_from_fov_x, recover_focal_shift
from mapa_train.stages.device import resolve_device
from mapa_train.stages.moge2 import HALF_MAX, _batches, sanitize_outputs
from mapa_train.stages.moge2_infer import (
    MoGe2Prediction,
    infer_moge2,
    model_input_size,
    resize_prediction,
)


class PinholeStandIn(nn.Module):
    """Predicts the affine-invariant point map of a known pinhole scene: points = (uv·z/f, z − shift)."""

    def __init__(
        self, depth: torch.Tensor, fov_x: float, shift: float, scale: float, mask: torch.Tensor
    ) -> None:
        super().__init__()
        self.depth, self.fov_x, self.shift, self.scale, self.mask_prob = depth, fov_x, shift, scale, mask

    def predict(self, image: torch.Tensor, num_tokens: int) -> dict[str, torch.Tensor]:
        batch, _, height, width = image.shape
        focal = focal_from_fov_x(torch.tensor([self.fov_x]), width / height)
        uv = view_plane_uv(height, width)
        z = self.depth
        points = torch.cat([uv * z[..., None] / focal, (z - self.shift)[..., None]], dim=-1)
        normal = torch.tensor([0.0, 0.0, -2.0]).expand(height, width, 3)  # deliberately not unit length
        return {
            "points": points[None].expand(batch, -1, -1, -1),
            "mask": self.mask_prob[None].expand(batch, -1, -1),
            "metric_scale": torch.full((batch,), self.scale),
            "normal": normal[None].expand(batch, -1, -1, -1),
        }


def _stand_in(height: int = 36, width: int = 48, shift: float = 0.7, scale: float = 2.5) -> PinholeStandIn:
    generator = torch.Generator().manual_seed(0)
    depth = 1.5 + torch.rand(height, width, generator=generator)
    mask = torch.full((height, width), 0.9)
    mask[:, :8] = 0.2
    return PinholeStandIn(depth, fov_x=62.0, shift=shift, scale=scale, mask=mask)


def test_fov_and_focal_conventions() -> None:
    assert math.degrees(fov_from_focal(50.0, 100.0)) == pytest.approx(90.0)
    # 90 degrees horizontally on a 4:3 image: u reaches 0.8 at the border, so the view-plane focal is 0.8.
    assert focal_from_fov_x(torch.tensor([90.0]), 4 / 3).item() == pytest.approx(0.8, rel=1e-6)


@pytest.mark.parametrize(("focal", "shift"), [(1.7, 0.8), (0.6, -1.2), (2.5, 0.0)])
def test_shift_recovered_for_a_known_focal(focal: float, shift: float) -> None:
    generator = torch.Generator().manual_seed(1)
    height, width = 64, 80
    uv = view_plane_uv(height, width)
    depth = 2 + torch.rand(height, width, generator=generator)
    points = torch.cat([uv * depth[..., None] / focal, (depth - shift)[..., None]], dim=-1)[None]
    mask = torch.ones(1, height, width, dtype=torch.bool)
    _, got = recover_focal_shift(points, mask, focal=torch.tensor([focal]))
    assert got.item() == pytest.approx(shift, abs=1e-4)


def test_metric_depth_mask_and_normals_from_known_fov() -> None:
    model = _stand_in()
    images = torch.rand(2, 3, 36, 48)
    pred = infer_moge2(model, images, torch.tensor([62.0, 62.0]), num_tokens=100)
    expected = model.depth * model.scale
    assert pred.depth.shape == (2, 36, 48) and pred.mask.dtype == torch.bool
    assert not pred.mask[:, :, :8].any() and pred.mask[:, :, 8:].all()
    torch.testing.assert_close(
        pred.depth[:, :, 8:], expected[None, :, 8:].expand(2, -1, -1), rtol=1e-5, atol=0
    )
    assert (pred.depth[:, :, :8] == 0).all()
    assert (pred.normal[:, :, :8] == 0).all() and (pred.normal[:, :, 8:, 2] == -2).all()


def test_wrong_fov_gives_different_depth() -> None:
    """The field of view really is used: the same points read with another fov give another shift and depth."""
    model = _stand_in()
    images = torch.rand(1, 3, 36, 48)
    right = infer_moge2(model, images, torch.tensor([62.0]), num_tokens=100)
    wrong = infer_moge2(model, images, torch.tensor([40.0]), num_tokens=100)
    assert (right.depth[0, :, 8:] - wrong.depth[0, :, 8:]).abs().mean() > 0.1


def test_resize_back_to_image_size() -> None:
    depth = torch.arange(12, dtype=torch.float32).reshape(1, 3, 4) + 1
    mask = torch.ones(1, 3, 4, dtype=torch.bool)
    mask[0, 0, 0] = False
    normal = torch.nn.functional.normalize(torch.randn(1, 3, 4, 3), dim=-1)
    normal[0, 0, 0] = 0
    out = resize_prediction(MoGe2Prediction(depth, mask, normal), (6, 8))
    assert out.depth.shape == (1, 6, 8) and out.mask.shape == (1, 6, 8) and out.normal.shape == (1, 6, 8, 3)
    assert set(out.depth.unique().tolist()) <= set(depth.unique().tolist())  # nearest: no blended depths
    assert not out.mask[0, :2, :2].any() and out.mask[0, 2:, 2:].all()
    lengths = out.normal.norm(dim=-1)
    torch.testing.assert_close(lengths[out.mask], torch.ones(int(out.mask.sum())))
    assert (lengths[~out.mask] == 0).all()


def test_model_input_size_keeps_long_side_like_the_reference() -> None:
    assert model_input_size(1080, 1920, 1600) == (900, 1600)
    assert model_input_size(1920, 1080, 1600) == (1600, 900)
    assert model_input_size(1000, 1333, 1600) == (1000, 1333)
    assert model_input_size(1080, 1920, None) == (1080, 1920)
    assert model_input_size(47, 101, 32) == (14, 32)  # int(47 * 32 / 101) truncates


def test_sanitize_outputs_makes_every_frame_storable() -> None:
    depth = np.array([[1.0, np.nan, np.inf], [-2.0, 2 * HALF_MAX, 3.0]], dtype=np.float32)
    mask = np.array([[True, True, True], [True, True, False]])
    normal = np.zeros((2, 3, 3), dtype=np.float32)
    normal[..., 2] = 3.0  # not unit length: renormalised, never an error
    normal[0, 0] = [np.nan, 0, 1]
    out_depth, out_mask, out_normal = sanitize_outputs(depth, mask, normal)
    assert out_mask.dtype == bool and out_mask.tolist() == [[True, False, False], [False, False, False]]
    assert np.isfinite(out_depth).all() and out_depth.tolist() == [[1.0, 0, 0], [0, 0, 0]]
    assert (out_normal == 0).all()  # the one valid pixel had a NaN normal
    depth2, mask2, normal2 = sanitize_outputs(
        np.full((2, 2), 4.0), np.ones((2, 2), bool), np.full((2, 2, 3), 2.0)
    )
    np.testing.assert_allclose(np.linalg.norm(normal2, axis=-1), 1.0, rtol=1e-6)
    assert mask2.all() and (depth2 == 4.0).all()


def test_batches_group_equal_sizes() -> None:
    small, large = np.zeros((4, 6, 3), np.uint8), np.zeros((6, 8, 3), np.uint8)
    items = [("a", small), ("b", large), ("c", small), ("d", small), ("e", large)]
    batches = [[name for name, _ in batch] for batch in _batches(items, batch_size=2)]
    assert batches == [["a", "c"], ["b", "e"], ["d"]]


def test_resolve_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type in ("cpu", "mps")
    with pytest.raises(MapaConfigError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(MapaConfigError, match="not a torch device"):
        resolve_device("gpu-please")


def test_fov_matches_intrinsics_of_the_synthetic_camera() -> None:
    """fov from (fx, W) inverts W = 2·fx·tan(fov/2)."""
    fov = math.degrees(fov_from_focal(50.23, 64))
    assert 64 / (2 * math.tan(math.radians(fov) / 2)) == pytest.approx(50.23)
