"""The models' camera math uses `wai`'s pixel convention (integer pixel centres): rays for a `wai` camera equal
`wai.geometry`'s, the pinhole fit inverts them exactly, and MoGe's normalised intrinsics convert explicitly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mapa_train.errors import MapaInputError
from mapa_train.models.geometry import (
    intrinsics_from_rays,
    normalized_to_pixel_intrinsics,
    rays_from_intrinsics,
)
from wai.camera import Camera, CameraModel
from wai.geometry import pixel_rays

HEIGHT, WIDTH = 12, 16
K = np.array([[20.0, 0.0, 7.5], [0.0, 22.0, 5.0], [0.0, 0.0, 1.0]])


def _wai_rays() -> torch.Tensor:
    camera = Camera(CameraModel.PINHOLE, WIDTH, HEIGHT, {"fl_x": 20.0, "fl_y": 22.0, "cx": 7.5, "cy": 5.0})
    return torch.from_numpy(pixel_rays(camera, normalize=True))[None]


def test_rays_for_a_wai_camera_equal_wai_geometry_rays() -> None:
    ours = rays_from_intrinsics(torch.from_numpy(K)[None], HEIGHT, WIDTH)
    torch.testing.assert_close(ours, _wai_rays(), atol=1e-12, rtol=0)
    # pixel (0, 0)'s centre is at (0, 0): its ray goes through (-cx/fx, -cy/fy, 1)
    expected = torch.tensor([-7.5 / 20.0, -5.0 / 22.0, 1.0], dtype=torch.float64)
    torch.testing.assert_close(ours[0, 0, 0], expected / expected.norm())


def test_pinhole_fit_recovers_a_wai_camera_exactly() -> None:
    fitted = intrinsics_from_rays(_wai_rays())
    torch.testing.assert_close(fitted[0], torch.from_numpy(K), atol=1e-9, rtol=1e-9)
    fitted32 = intrinsics_from_rays(_wai_rays().float())
    torch.testing.assert_close(fitted32[0], torch.from_numpy(K).float(), atol=1e-4, rtol=1e-5)


def test_rays_that_do_not_point_forward_are_left_out_of_the_fit() -> None:
    rays = _wai_rays().clone()
    rays[0, :3] = -rays[0, :3]  # backwards (z < 0)
    rays[0, 5, :, 2] = 0.0  # sideways (z = 0)
    fitted = intrinsics_from_rays(rays)
    torch.testing.assert_close(fitted[0], torch.from_numpy(K), atol=1e-9, rtol=1e-9)


def test_an_image_without_forward_rays_is_an_error() -> None:
    rays = torch.cat([_wai_rays(), -_wai_rays()])
    with pytest.raises(MapaInputError, match="image 1 has 0 forward rays"):
        intrinsics_from_rays(rays)


def test_moge_normalised_intrinsics_convert_to_integer_pixel_centres() -> None:
    fx, fy = 0.9, 1.1  # in image widths / heights; principal point (0.5, 0.5)
    norm = torch.tensor([[[fx, 0.0, 0.5], [0.0, fy, 0.5], [0.0, 0.0, 1.0]]], dtype=torch.float64)
    pixel = normalized_to_pixel_intrinsics(norm, HEIGHT, WIDTH)
    expected = torch.tensor(
        [[fx * WIDTH, 0.0, (WIDTH - 1) / 2], [0.0, fy * HEIGHT, (HEIGHT - 1) / 2], [0.0, 0.0, 1.0]],
        dtype=torch.float64,
    )
    torch.testing.assert_close(pixel[0], expected)
    # the same rays as MoGe's own normalised grid, whose pixel centres sit at (i + 0.5) / size
    u = (torch.arange(WIDTH, dtype=torch.float64) + 0.5) / WIDTH
    v = (torch.arange(HEIGHT, dtype=torch.float64) + 0.5) / HEIGHT
    gv, gu = torch.meshgrid(v, u, indexing="ij")
    moge = torch.stack([(gu - 0.5) / fx, (gv - 0.5) / fy, torch.ones_like(gu)], dim=-1)
    moge = moge / moge.norm(dim=-1, keepdim=True)
    torch.testing.assert_close(rays_from_intrinsics(pixel, HEIGHT, WIDTH)[0], moge)
