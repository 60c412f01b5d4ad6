"""Shared builders for the model tests: tiny MapAnything configs and synthetic multi-view batches."""

from __future__ import annotations

import pytest
import torch

from mapa_train.models.geometry import normalize, rotmat_to_quat


def make_views(
    num_views: int, batch: int = 2, height: int = 42, width: int = 56, metric: bool | None = True
) -> list[dict]:
    """Views with every optional geometric key (random but valid: unit rays, positive depth, unit quats)."""
    views = []
    for _ in range(num_views):
        q, _ = torch.linalg.qr(torch.randn(batch, 3, 3))
        q = q * torch.sign(torch.linalg.det(q))[:, None, None]
        view = {
            "img": torch.randn(batch, 3, height, width),
            "ray_directions_cam": normalize(
                torch.randn(batch, height, width, 3) * 0.3 + torch.tensor([0, 0, 1.0])
            ),
            "depth_along_ray": torch.rand(batch, height, width, 1) * 4 + 0.5,
            "camera_pose_quats": rotmat_to_quat(q),
            "camera_pose_trans": torch.randn(batch, 3),
        }
        if metric is not None:
            view["is_metric_scale"] = torch.tensor([metric, not metric] * batch)[:batch]
        views.append(view)
    return views


@pytest.fixture
def seeded() -> None:
    torch.manual_seed(0)
