"""Each benchmark metric on cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mapa_train.benchmark import metrics as M


def _points(seed: int = 0, shape=(6, 5)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (*shape, 3)) + np.array([0, 0, 3.0])).astype(np.float32)


def _rot_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])


def _rot_z(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])


def _poses(centres, rotations=None) -> np.ndarray:
    out = np.tile(np.eye(4), (len(centres), 1, 1))
    for i, c in enumerate(centres):
        out[i, :3, 3] = c
        if rotations is not None:
            out[i, :3, :3] = rotations[i]
    return out


def test_perfect_prediction_scores_perfectly():
    x = _points()
    mask = np.ones(x.shape[:2], bool)
    assert M.abs_rel(x, x, mask) == 0.0
    assert M.thresh_inliers(x, x, mask) == 1.0
    assert M.error_inliers(x, x, mask) == 1.0
    rays = x / np.linalg.norm(x, axis=-1, keepdims=True)
    assert M.ray_dirs_err_deg(rays, rays) == 0.0
    assert M.ray_dirs_err_deg_valid(rays, rays, mask) == pytest.approx(0.0, abs=1e-6)
    poses = _poses([[0, 0, 0], [1, 0, 0], [1, 2, 0], [0, 1, 3]], [_rot_z(10 * i) for i in range(4)])
    assert M.pose_auc(poses, poses) == pytest.approx(100.0)
    assert M.pose_auc(poses, poses, signed=True) == pytest.approx(100.0)
    assert M.pose_ate_mean(poses[:, :3, 3], poses[:, :3, 3]) == pytest.approx(0.0, abs=1e-12)
    assert M.metric_scale_abs_rel(2.0, 2.0) == 0.0


def test_known_scale_error():
    x = _points()
    mask = np.ones(x.shape[:2], bool)
    assert M.abs_rel(1.1 * x, x, mask) == pytest.approx(0.1, rel=1e-5)
    assert M.abs_rel(x[..., 2:3] * 0.8, x[..., 2:3], mask) == pytest.approx(0.2, rel=1e-5)
    assert M.thresh_inliers(1.1 * x, x, mask) == 0.0  # ratio 1.1 >= 1.03
    assert M.thresh_inliers(1.02 * x, x, mask) == 1.0
    assert M.thresh_inliers(x / 1.02, x, mask) == 1.0  # the ratio is symmetric
    assert M.error_inliers(1.02 * x, x, mask) == 1.0
    assert M.error_inliers(1.04 * x, x, mask) == 0.0
    assert M.metric_scale_abs_rel(1.2, 1.0) == pytest.approx(0.2)
    assert M.metric_scale_abs_rel(0.5, 2.0) == pytest.approx(0.75)
    # Half the pixels off by 10 %: the mean over the mask.
    half = x.copy()
    half[:3] *= 1.1
    assert M.abs_rel(half, x, mask) == pytest.approx(0.05, rel=1e-5)
    assert M.thresh_inliers(half, x, mask) == pytest.approx(0.5)


def test_reference_pointmap_inlier_ignores_direction_the_corrected_one_does_not():
    x = _points()
    mask = np.ones(x.shape[:2], bool)
    turned = (x.astype(np.float64) @ _rot_x(20).T).astype(np.float32)  # same distances, other directions
    assert M.thresh_inliers(turned, x, mask) == 1.0
    assert M.error_inliers(turned, x, mask) == 0.0


def test_ray_error_by_hand():
    d = np.zeros((2, 2, 3), np.float32)
    d[..., 2] = 1
    p = np.zeros_like(d)
    p[..., 0] = 1  # 90 degrees off everywhere
    assert M.ray_dirs_err_deg(p, d) == pytest.approx(90.0, rel=1e-5)
    p[0] = d[0]  # half of the pixels exact
    assert M.ray_dirs_err_deg(p, d) == pytest.approx(45.0, rel=1e-5)
    mask = np.array([[True, True], [False, False]])
    assert M.ray_dirs_err_deg_valid(p, d, mask) == pytest.approx(0.0, abs=1e-6)
    # Not renormalised in the reference: a ray twice as long as it should be is 2·asin(1/2) = 60° off.
    assert M.ray_dirs_err_deg(2 * d, d) == pytest.approx(60.0, rel=1e-5)
    assert M.ray_dirs_err_deg_valid(2 * d, d, np.ones((2, 2), bool)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("deg", "auc"), [(3.5, 60.0), (1.5, 86.6666666667), (10.0, 100.0 / 3.0), (0.5, 100.0)]
)
def test_rotation_of_one_camera_moves_auc_as_computed_by_hand(deg, auc):
    # Cameras on the x axis; camera 2 turns about the x axis, so every translation direction is unchanged.
    centres = [[0, 0, 0], [1, 0, 0], [3, 0, 0]]
    gt = _poses(centres)
    pred = _poses(centres, [np.eye(3), np.eye(3), _rot_x(deg)])
    err_r, err_t = M.relative_pose_errors(gt, pred)
    np.testing.assert_allclose(err_r, [0.0, deg, deg], atol=1e-4)
    np.testing.assert_allclose(err_t, 0.0, atol=1e-4)
    # Pairs (0,1), (0,2), (1,2) with errors 0, deg, deg: AUC = mean over k=1..5 of P(e < k).
    assert M.pose_auc(gt, pred) == pytest.approx(auc, rel=1e-6)
    # Rotating a camera about its own centre leaves the centres, so the ATE stays 0.
    assert M.pose_ate_mean(gt[:, :3, 3], pred[:, :3, 3]) == pytest.approx(0.0, abs=1e-12)


def test_rotation_of_the_whole_trajectory_is_removed_by_horn():
    rng = np.random.default_rng(1)
    g = rng.normal(size=(5, 3))
    p = g @ _rot_z(40).T @ _rot_x(25).T + np.array([1.0, -2.0, 0.5])
    assert M.pose_ate_mean(g, p) == pytest.approx(0.0, abs=1e-9)
    assert M.pose_ate_rms(g, p) == pytest.approx(0.0, abs=1e-9)


def test_ate_is_a_mean_and_the_true_rmse_differs():
    g = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    p = np.array([[0.0, 0, 0], [1, 0, 0], [5, 0, 0]])
    # Centroids 1 and 2; R = I, t = 1: residuals 1, 1, 2.
    np.testing.assert_allclose(M.horn_residuals(g, p), [1.0, 1.0, 2.0], atol=1e-9)
    assert M.pose_ate_mean(g, p) == pytest.approx(4.0 / 3.0)
    assert M.pose_ate_rms(g, p) == pytest.approx(math.sqrt(2.0))


def test_reversed_translation_direction():
    gt = _poses([[0, 0, 0], [1, 0, 0]])
    pred = _poses([[0, 0, 0], [-1, 0, 0]])
    _, err_t = M.relative_pose_errors(gt, pred)
    assert err_t[0] == pytest.approx(0.0, abs=1e-4)  # the reference folds 180° to 0°
    assert M.pose_auc(gt, pred) == pytest.approx(100.0)
    _, err_signed = M.relative_pose_errors(gt, pred, signed=True)
    assert err_signed[0] == pytest.approx(180.0)
    assert M.pose_auc(gt, pred, signed=True) == 0.0


def test_duplicate_frame_gives_90_degrees():
    gt = _poses([[0, 0, 0], [0, 0, 0]])  # a zero GT baseline
    _, err_t = M.relative_pose_errors(gt, gt)
    assert err_t[0] == pytest.approx(90.0, abs=1e-3)
    assert M.pose_auc(gt, gt) == 0.0


def test_empty_masks_give_nan():
    x = _points()
    empty = np.zeros(x.shape[:2], bool)
    for fn in (M.abs_rel, M.thresh_inliers, M.error_inliers):
        assert math.isnan(fn(x, x, empty))
    assert math.isnan(M.ray_dirs_err_deg_valid(x, x, empty))
    # A GT point at the origin is outside M even where the mask is set.
    zero = np.zeros_like(x)
    assert math.isnan(M.abs_rel(x, zero, ~empty))
    assert math.isnan(M.pose_auc(_poses([[0, 0, 0]]), _poses([[0, 0, 0]])))
