"""The inference call and the camera math it relies on."""

from __future__ import annotations

import torch

from mapa_train.models.geometry import (
    intrinsics_from_rays,
    quat_to_rotmat,
    rays_from_intrinsics,
    rotmat_to_quat,
)
from mapa_train.models.mapanything.inference import infer
from mapa_train.models.registry import build_model


def test_quaternion_round_trip() -> None:
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(64, 4), dim=-1)
    q = torch.where(q[:, 3:] < 0, -q, q)
    torch.testing.assert_close(rotmat_to_quat(quat_to_rotmat(q)), q, atol=1e-5, rtol=1e-5)


def test_intrinsics_fit_recovers_pinhole() -> None:
    k = torch.tensor([[[50.0, 0, 27.5], [0, 55.0, 20.0], [0, 0, 1]]])
    rays = rays_from_intrinsics(k, 42, 56)
    torch.testing.assert_close(rays.norm(dim=-1), torch.ones(1, 42, 56))
    torch.testing.assert_close(intrinsics_from_rays(rays), k, atol=1e-3, rtol=1e-4)


def test_infer_with_optional_inputs() -> None:
    torch.manual_seed(1)
    model = build_model("mapanything_tiny")
    k = torch.tensor([[50.0, 0, 28], [0, 50, 21], [0, 0, 1]]).expand(1, 3, 3)
    pose = torch.eye(4)[None]
    views = [
        {
            "img": torch.rand(1, 3, 42, 56),
            "intrinsics": k,
            "depth_z": torch.rand(1, 42, 56) + 1,
            "camera_poses": pose,
        },
        {"img": torch.rand(1, 3, 42, 56), "intrinsics": k},
        {"img": torch.rand(1, 3, 42, 56)},
    ]
    out = infer(model, views)
    assert len(out) == 3 and model.training
    for o in out:
        assert tuple(o["pts3d"].shape) == (1, 42, 56, 3) and tuple(o["camera_poses"].shape) == (1, 4, 4)
        assert tuple(o["intrinsics"].shape) == (1, 3, 3) and o["mask"].dtype == torch.bool
        torch.testing.assert_close(o["camera_poses"][:, 3], torch.tensor([[0.0, 0, 0, 1]]))
        assert bool((o["metric_scaling_factor"] > 0).all())
    images_only = infer(model, [{"img": v["img"]} for v in views])
    assert not torch.allclose(images_only[0]["pts3d"], out[0]["pts3d"])


def test_infer_with_a_pointmap_model_returns_points_confidence_and_mask_only() -> None:
    torch.manual_seed(2)
    model = build_model("mapanything_tiny", {"pred_head.adaptor": "pointmap_confidence_mask"})
    out = infer(model, [{"img": torch.rand(1, 3, 42, 56)} for _ in range(2)])
    assert set(out[0]) == {"pts3d", "conf", "mask", "metric_scaling_factor"}
    assert tuple(out[1]["pts3d"].shape) == (1, 42, 56, 3) and out[1]["mask"].dtype == torch.bool
    assert out[0]["metric_scaling_factor"] is None
