"""VGGT specifics: pose encoding conventions, first-frame tokens, native predictions, and the wrapper's geometry."""

from __future__ import annotations

import math

import torch

from mapa_train.models.geometry import quat_to_rotmat, rotmat_to_quat
from mapa_train.models.registry import build_model
from mapa_train.models.vggt.aggregator import first_frame_tokens
from mapa_train.models.vggt.camera_head import fov_from_focal, pose_encoding_to_extrinsics_intrinsics


def test_pose_encoding_to_camera() -> None:
    q, _ = torch.linalg.qr(torch.randn(3, 3))
    rot = q * torch.sign(torch.linalg.det(q))
    quat = rotmat_to_quat(rot)
    encoding = torch.cat(
        [
            torch.tensor([0.1, -0.2, 0.3]),
            quat,
            torch.tensor([fov_from_focal(300.0, 480), fov_from_focal(320.0, 640)]),
        ]
    )
    extrinsics, intrinsics = pose_encoding_to_extrinsics_intrinsics(encoding[None], 480, 640)
    torch.testing.assert_close(extrinsics[0, :, :3], rot, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(extrinsics[0, :, 3], torch.tensor([0.1, -0.2, 0.3]))
    expected = torch.tensor([[320.0, 0, 320], [0, 300.0, 240], [0, 0, 1]])
    torch.testing.assert_close(intrinsics[0], expected, atol=1e-3, rtol=1e-5)


def test_first_frame_gets_its_own_tokens() -> None:
    param = torch.stack([torch.zeros(1, 4), torch.ones(1, 4)])[None]  # (1, 2, 1, 4)
    tokens = first_frame_tokens(param, batch=2, views=3)
    assert tuple(tokens.shape) == (2, 3, 1, 4)
    assert tokens[:, 0].abs().sum() == 0 and bool((tokens[:, 1:] == 1).all())
    assert tuple(first_frame_tokens(param, 1, 1).shape) == (1, 1, 1, 4)


def test_native_predictions() -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny").eval()
    with torch.no_grad():
        pred = model.predict(torch.rand(2, 3, 3, 28, 42))
    assert len(pred["pose_enc_list"]) == model.config.pred_head.camera_iterations
    assert tuple(pred["pose_enc"].shape) == (2, 3, 9) and bool((pred["pose_enc"][..., 7:] >= 0).all())
    assert tuple(pred["depth"].shape) == (2, 3, 28, 42, 1) and bool((pred["depth"] > 0).all())
    assert tuple(pred["world_points"].shape) == (2, 3, 28, 42, 3)
    assert bool((pred["depth_conf"] >= 1).all()) and bool((pred["world_points_conf"] >= 1).all())


def test_wrapper_world_points_follow_the_predicted_pose() -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny").eval()
    with torch.no_grad():
        out = model([{"img": torch.rand(1, 3, 28, 42)} for _ in range(2)])
    for o in out:
        rot = quat_to_rotmat(o["cam_quats"])
        world = torch.einsum("bij,bhwj->bhwi", rot, o["pts3d_cam"]) + o["cam_trans"][:, None, None]
        torch.testing.assert_close(o["pts3d"], world, atol=1e-4, rtol=1e-4)
        # z-depth and range agree through the unit rays
        torch.testing.assert_close(o["depth_z"], o["depth_along_ray"] * o["ray_directions"][..., 2:3])
        k = o["intrinsics"][0]
        assert math.isclose(k[0, 2].item(), 21.0) and math.isclose(k[1, 2].item(), 14.0)
