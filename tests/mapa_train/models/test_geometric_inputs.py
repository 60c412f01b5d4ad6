"""Geometric-input sampling follows the task probabilities; depth/pose preprocessing matches the reference."""

from __future__ import annotations

import pytest
import torch

from mapa_train.models.geometry import quat_multiply, quat_to_rotmat
from mapa_train.models.mapanything.geometric_inputs import (
    normalize_depth,
    relative_poses,
    sample_geometric_input_masks,
    sparsify_depth,
)
from mapa_train.models.mapanything.task import TASKS, get_task
from tests.mapa_train.models.conftest import make_views


def test_aug_training_rates_over_many_draws() -> None:
    torch.manual_seed(0)
    batch, num_views = 4000, 2
    views = make_views(num_views, batch=batch, height=14, width=14)
    task = get_task("aug_training")
    masks = sample_geometric_input_masks(task, views, batch, torch.device("cpu"))
    expected = 0.9 * 0.95 * 0.5
    tol = 4 * (expected * (1 - expected) / (batch * num_views)) ** 0.5
    for mask in (masks.rays, masks.depth, masks.cam):
        assert abs(mask.float().mean().item() - expected) < tol
    # modality coins are shared by the views of a sample: both views dropped-out or not, never disagreeing
    r = masks.rays.reshape(num_views, batch)
    both_kept = r.all(dim=0).float().mean().item()
    assert abs(both_kept - 0.9 * 0.95**2 * 0.5) < tol
    # metric depth token: depth-selected, metric sample (alternating flags), not dropped by the 5 % coin
    assert abs(masks.depth_metric.float().mean().item() - expected * 0.5 * 0.95) < tol


def test_sparsification_coin_rate() -> None:
    torch.manual_seed(1)
    views = make_views(1, batch=1, height=14, width=14)
    task = get_task("aug_training")
    hits = [
        sample_geometric_input_masks(task, views, 1, torch.device("cpu")).sparsify_depth for _ in range(2000)
    ]
    assert abs(sum(hits) / 2000 - 0.5) < 0.05


@pytest.mark.parametrize("name", sorted(TASKS))
def test_fixed_presets_are_deterministic(name: str) -> None:
    task = TASKS[name]
    if task.overall_prob != 1.0 or task.dropout_prob != 0.0:
        return
    views = make_views(2, batch=3, height=14, width=14)
    masks = sample_geometric_input_masks(task, views, 3, torch.device("cpu"))
    assert bool(masks.rays.all()) == (task.ray_dirs_prob == 1.0) and bool(masks.rays.any()) == (
        task.ray_dirs_prob > 0
    )
    assert bool(masks.cam.all()) == (task.cam_prob == 1.0)


def test_missing_key_switches_modality_off() -> None:
    views = make_views(2, batch=2, height=14, width=14)
    del views[1]["ray_directions_cam"]
    masks = sample_geometric_input_masks(get_task("pass_through"), views, 2, torch.device("cpu"))
    assert masks.rays.tolist() == [True, True, False, False]


def test_sparsify_pools_valid_pixels_per_view() -> None:
    torch.manual_seed(2)
    depth = torch.rand(4, 10, 10, 1) + 0.1  # V=2, B=2
    depth[0, :5] = 0.0  # 50 invalid pixels in view 0, sample 0
    mask = torch.tensor([True, True, True, False])
    out = sparsify_depth(depth, mask, num_views=2, removal=0.9)
    assert int((out[:2] > 0).sum()) == 150 - int(150 * 0.9)
    assert int((out[2] > 0).sum()) == 100 - int(100 * 0.9)
    torch.testing.assert_close(out[3], depth[3])  # not depth-selected: untouched


def test_depth_normalisation() -> None:
    depth = torch.tensor([2.0, 4.0, 0.0, 6.0]).reshape(1, 2, 2, 1)
    factor, normed = normalize_depth(depth)
    torch.testing.assert_close(factor, torch.tensor([4.0]))
    torch.testing.assert_close(normed.flatten(), torch.log1p(torch.tensor([0.5, 1.0, 0.0, 1.5])))


def test_relative_poses_in_view0_frame() -> None:
    torch.manual_seed(3)
    views = make_views(3, batch=2, height=14, width=14)
    mask = torch.ones(6, dtype=torch.bool)
    quats, trans, scale = relative_poses(views, mask)
    torch.testing.assert_close(
        quats[:2], torch.tensor([[0.0, 0, 0, 1]] * 2).abs() * torch.sign(quats[:2, 3:])
    )
    torch.testing.assert_close(trans[:2], torch.zeros(2, 3))
    # recompose view 2: q0 ⊗ q_rel = q2 (up to sign), t0 + R0 · t_rel · s = t2
    q0, t0 = views[0]["camera_pose_quats"], views[0]["camera_pose_trans"]
    q2 = quat_multiply(q0, quats[4:6])
    sign = torch.sign((q2 * views[2]["camera_pose_quats"]).sum(-1, keepdim=True))
    torch.testing.assert_close(q2 * sign, views[2]["camera_pose_quats"], atol=1e-5, rtol=1e-5)
    t2 = t0 + (quat_to_rotmat(q0) @ (trans[4:6] * scale[4:6, None])[..., None])[..., 0]
    torch.testing.assert_close(t2, views[2]["camera_pose_trans"], atol=1e-5, rtol=1e-5)
    # the mean norm of the non-reference translations is 1 after normalisation
    norms = trans.reshape(3, 2, 3).norm(dim=-1)[1:]
    torch.testing.assert_close(norms.mean(dim=0), torch.ones(2))
