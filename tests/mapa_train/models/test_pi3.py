"""π³ specifics: no reference view (permuting the views permutes the outputs), proper rotations, conf as a
probability of the raw logit, world points from the predicted poses."""

from __future__ import annotations

import torch

from mapa_train.models.geometry import quat_to_rotmat
from mapa_train.models.pi3.heads import Pi3CameraHead, orthogonalize
from mapa_train.models.registry import build_model


def test_permutation_equivariance() -> None:
    torch.manual_seed(0)
    model = build_model("pi3_tiny").eval()
    views = [{"img": torch.rand(2, 3, 28, 42)} for _ in range(3)]
    order = [2, 0, 1]
    with torch.no_grad():
        out = model(views)
        permuted = model([views[i] for i in order])
    for new, old in enumerate(order):
        for key in ("pts3d", "pts3d_cam", "cam_trans", "cam_quats", "conf"):
            torch.testing.assert_close(permuted[new][key], out[old][key], atol=1e-5, rtol=1e-4, msg=key)


def test_orthogonalize_gives_proper_rotations() -> None:
    torch.manual_seed(0)
    rot = orthogonalize(torch.randn(16, 3, 3))
    torch.testing.assert_close(rot @ rot.transpose(1, 2), torch.eye(3).expand(16, 3, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.linalg.det(rot), torch.ones(16), atol=1e-5, rtol=0)


def test_wrapper_outputs_follow_native_predictions() -> None:
    torch.manual_seed(0)
    model = build_model("pi3_tiny").eval()
    views = [{"img": torch.rand(1, 3, 42, 28)} for _ in range(2)]
    with torch.no_grad():
        native = model.predict(torch.stack([v["img"] for v in views], dim=1))
        out = model(views)
    assert bool((native["local_points"][..., 2] > 0).all())
    for v, o in enumerate(out):
        torch.testing.assert_close(o["conf"], torch.sigmoid(native["conf"][:, v, ..., 0]))
        torch.testing.assert_close(o["conf_logits"], native["conf"][:, v, ..., 0])
        torch.testing.assert_close(
            quat_to_rotmat(o["cam_quats"]), native["camera_poses"][:, v, :3, :3], atol=1e-5, rtol=0
        )
        rot = quat_to_rotmat(o["cam_quats"])
        world = torch.einsum("bij,bhwj->bhwi", rot, o["pts3d_cam"]) + o["cam_trans"][:, None, None]
        torch.testing.assert_close(o["pts3d"], world, atol=1e-4, rtol=1e-4)


def _nearest_rotation_by_polar(m: torch.Tensor) -> torch.Tensor:
    """M (MᵀM)^(-1/2), the orthogonal polar factor (a rotation for det M > 0), computed without an SVD."""
    values, vectors = torch.linalg.eigh(m.T @ m)
    return m @ vectors @ torch.diag(values.rsqrt()) @ vectors.T


def test_camera_head_normalises_rows_before_orthogonalising() -> None:
    torch.manual_seed(0)
    head = Pi3CameraHead(16).double()
    raw = torch.tensor([[4.0, 0.3, -0.2], [0.1, 0.5, 0.05], [0.4, -0.2, 2.0]], dtype=torch.float64)
    with torch.no_grad():
        head.fc_rot.weight.zero_()
        head.fc_rot.bias.copy_(raw.flatten())
    pose = head(torch.randn(2, 5, 16, dtype=torch.float64))
    rows = raw / raw.norm(dim=-1, keepdim=True)
    expected = _nearest_rotation_by_polar(rows)
    for rotation in pose[:, :3, :3]:
        torch.testing.assert_close(rotation, expected)
    # without the row normalisation the rotation is a different one
    assert not torch.allclose(pose[0, :3, :3], _nearest_rotation_by_polar(raw), atol=1e-2)
