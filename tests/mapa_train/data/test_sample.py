"""The training sample field by field: rays against wai.geometry, points, quaternions, masks, and cross-view
geometry after crop and resize at every aspect ratio; determinism under a seed; no torch import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import wai
from mapa_train.data.augment import AUGMENT_PRESETS
from mapa_train.data.dataset import MixedDataset, SceneDataset, ViewOptions
from mapa_train.data.rows import get_row
from mapa_train.data.sample import VIEW_KEYS, quaternion_xyzw
from tests.mapa_train.data.conftest import SMALL_RESOLUTIONS
from wai.camera.conventions import quaternion_to_rotation
from wai.geometry import as_camera, pixel_rays, project_points


def make_dataset(root: Path, **kwargs) -> MixedDataset:
    scenes = wai.list_scenes(root)
    ds = SceneDataset(get_row("synthetic"), root, scenes)
    defaults = dict(num_views=3, resolutions=SMALL_RESOLUTIONS, seed=5)
    defaults.update(kwargs)
    return MixedDataset([(ds, 8)], **defaults)


def test_sample_module_imports_without_torch() -> None:
    code = (
        "import sys, mapa_train.data.sample, mapa_train.data.dataset, mapa_train.data.mixtures, "
        "mapa_train.data.sampler, mapa_train.data.build; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_reference_key_with_dtype_and_shape(synthetic_root: Path) -> None:
    data = make_dataset(synthetic_root)
    views = data[(0, 1, 0)]
    assert len(views) == 3
    w, h = SMALL_RESOLUTIONS[1]
    for position, view in enumerate(views):
        assert set(VIEW_KEYS) <= set(view)
        assert view["img"].shape == (3, h, w) and view["img"].dtype == np.float32
        assert view["depthmap"].shape == (h, w, 1) and view["depthmap"].dtype == np.float32
        for key in ("pts3d", "pts3d_cam", "ray_directions_cam"):
            assert view[key].shape == (h, w, 3) and view[key].dtype == np.float32, key
        assert view["depth_along_ray"].shape == (h, w, 1)
        assert view["valid_mask"].dtype == bool and view["non_ambiguous_mask"].dtype == bool
        assert view["camera_pose_quats"].shape == (4,) and view["camera_pose_trans"].shape == (3,)
        np.testing.assert_array_equal(view["true_shape"], np.array([h, w], dtype=np.int32))
        assert view["idx"] == (0, 1, position)
        assert view["dataset"] == "Synthetic" and view["instance"].startswith("images/")
        assert view["is_metric_scale"] is True and view["is_synthetic"] is True
        assert view["data_norm_type"] == "dinov2"
        # Synthetic depth is 0 exactly off geometry, so the depth>0 mask is the valid mask here.
        np.testing.assert_array_equal(view["non_ambiguous_mask"], view["valid_mask"])
        assert view["valid_mask"].mean() > 0.3


def test_rays_points_and_pose_fields_match_wai_geometry(synthetic_root: Path) -> None:
    data = make_dataset(synthetic_root, options=ViewOptions(aug_crop=16, principal_point_centered=True))
    for ar in range(len(SMALL_RESOLUTIONS)):
        for view in data[(2, ar, 0)]:
            K = view["camera_intrinsics"].astype(np.float64)
            h, w = view["true_shape"]
            rays = pixel_rays(K, int(h), int(w), normalize=True)
            np.testing.assert_allclose(view["ray_directions_cam"], rays, atol=1e-6)
            depth = view["depthmap"][..., 0]
            z_rays = pixel_rays(K, int(h), int(w))
            np.testing.assert_allclose(view["pts3d_cam"], z_rays * depth[..., None], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(
                view["depth_along_ray"][..., 0], np.linalg.norm(view["pts3d_cam"], axis=-1), rtol=1e-6
            )
            pose = view["camera_pose"].astype(np.float64)
            world = view["pts3d_cam"] @ pose[:3, :3].T + pose[:3, 3]
            np.testing.assert_allclose(view["pts3d"], world, rtol=1e-5, atol=1e-5)
            q = view["camera_pose_quats"].astype(np.float64)
            R = quaternion_to_rotation(np.array([q[3], q[0], q[1], q[2]]))
            np.testing.assert_allclose(R, pose[:3, :3], atol=1e-5)
            np.testing.assert_allclose(view["camera_pose_trans"], pose[:3, 3])
            np.testing.assert_array_equal(view["valid_mask"], depth > 0)


def test_quaternion_sign_follows_scipy() -> None:
    # A half turn about z: trace = -1, R22 = 1 is the largest, so scipy keeps z positive (w = 0).
    R = np.diag([-1.0, -1.0, 1.0])
    np.testing.assert_allclose(quaternion_xyzw(R), [0, 0, 1, 0], atol=1e-7)
    # Near identity scipy keeps w positive.
    np.testing.assert_allclose(quaternion_xyzw(np.eye(3)), [0, 0, 0, 1], atol=1e-7)
    # A 200-degree turn about x: the largest of (R00, R11, R22, trace) is R00 = 1, so x > 0 even though w < 0 then.
    a = np.deg2rad(200)
    Rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    q = quaternion_xyzw(Rx)
    assert q[0] > 0
    np.testing.assert_allclose(quaternion_to_rotation(np.array([q[3], *q[:3]])), Rx, atol=1e-6)


@pytest.mark.parametrize("ar", range(len(SMALL_RESOLUTIONS)))
def test_world_points_of_view_i_agree_with_depth_of_view_j(synthetic_root: Path, ar: int) -> None:
    """After crop and resize, view i's world points projected into view j land on j's depth where both are valid."""
    data = make_dataset(synthetic_root, options=ViewOptions(aug_crop=16, augment=AUGMENT_PRESETS["imgnorm"]))
    errors = []
    for sample in range(4):
        views = data[(sample, ar, 0)]
        for i, vi in enumerate(views):
            for j, vj in enumerate(views):
                if i == j:
                    continue
                h, w = (int(x) for x in vj["true_shape"])
                cam_j = as_camera(vj["camera_intrinsics"].astype(np.float64), h, w)
                pts = vi["pts3d"][vi["valid_mask"]]
                uv, z, ok = project_points(pts, cam_j, vj["camera_pose"].astype(np.float64))
                uv = np.nan_to_num(uv, nan=-10.0)
                u, v = np.rint(uv[:, 0]).astype(int), np.rint(uv[:, 1]).astype(int)
                inside = ok & (u >= 0) & (u < w) & (v >= 0) & (v < h)
                target = vj["depthmap"][..., 0][v[inside], u[inside]]
                both = target > 0
                errors.append(np.abs(z[inside][both] - target[both]) / target[both])
    rel = np.concatenate(errors)
    assert rel.size > 1000
    # Nearest-pixel lookup at ~100 px, occlusions included: the same check on the native 224x168 frames gives a
    # median of ~0.003; a wrong pose convention or a misplaced crop leaves almost nothing within 5%.
    assert np.median(rel) < 0.01, np.median(rel)
    assert np.mean(rel < 0.05) > 0.7, np.mean(rel < 0.05)


def test_same_seed_same_bytes_other_seed_differs(synthetic_root: Path) -> None:
    options = ViewOptions(aug_crop=16, augment=AUGMENT_PRESETS["colorjitter+grayscale+gaublur"])
    a = make_dataset(synthetic_root, options=options)[(3, 2, 0)]
    b = make_dataset(synthetic_root, options=options)[(3, 2, 0)]
    for va, vb in zip(a, b, strict=True):
        for key in VIEW_KEYS:
            if isinstance(va[key], np.ndarray):
                assert va[key].tobytes() == vb[key].tobytes(), key
            else:
                assert va[key] == vb[key], key
    c = make_dataset(synthetic_root, options=options, seed=6)[(3, 2, 0)]
    assert any(va["img"].tobytes() != vc["img"].tobytes() for va, vc in zip(a, c, strict=True))


def test_only_requested_keys_are_built(synthetic_root: Path) -> None:
    data = make_dataset(synthetic_root, options=ViewOptions(keys=("img", "camera_pose", "valid_mask")))
    view = data[(0, 0, 0)][0]
    assert set(view) == {"img", "camera_pose", "valid_mask", "sample_retries", "nonfinite_depth"}
