"""Covisibility agrees with a straightforward per-pair implementation of the reference algorithm (written here,
from the spec, without the package's blocked kernel, pre-filter or resize helpers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from metadata.covisibility import (
    CONFIGS,
    CovisibilityParams,
    FrameStack,
    candidate_pairs,
    compute_scene_covisibility,
    covisibility_matrix,
    load_covisibility,
)
from metadata.covisibility.frames import nearest_indices, working_size
from wai.camera import Camera, CameraModel

GT = CONFIGS["gt_depth"].params


# --- the per-pair reference ------------------------------------------------------------------------------------


def ref_resize(depth: np.ndarray, h: int, w: int) -> np.ndarray:
    """PyTorch legacy nearest, float32 index arithmetic; invalid (<= 0, NaN, inf) -> 0."""
    rows = [
        min(int(np.floor(np.float32(i) * (np.float32(depth.shape[0]) / np.float32(h)))), depth.shape[0] - 1)
        for i in range(h)
    ]
    cols = [
        min(int(np.floor(np.float32(j) * (np.float32(depth.shape[1]) / np.float32(w)))), depth.shape[1] - 1)
        for j in range(w)
    ]
    out = depth[np.ix_(rows, cols)].astype(np.float32)
    out[~(np.isfinite(out) & (out > 0))] = 0
    return out


def ref_prepare(depths, cameras, long_side=224):
    """Resized depth maps and K' = [[fx W'/w, 0, cx W'/w], [0, fy H'/h, cy H'/h], [0, 0, 1]] (reference 4.1 step 1)."""
    out_d, out_k = [], []
    for depth, cam in zip(depths, cameras, strict=True):
        h0, w0 = depth.shape
        if long_side is None:
            h, w = h0, w0
        elif isinstance(long_side, tuple):
            h, w = long_side
        elif w0 >= h0:
            h, w = int(h0 * long_side / w0), long_side
        else:
            h, w = long_side, int(w0 * long_side / h0)
        out_d.append(ref_resize(depth, h, w))
        p = cam.params
        sx, sy = w / cam.width, h / cam.height
        out_k.append(
            np.array([[p["fl_x"] * sx, 0, p["cx"] * sx], [0, p["fl_y"] * sy, p["cy"] * sy], [0, 0, 1]])
        )
    return out_d, out_k


def reference_matrix(depths, Ks, poses, params: CovisibilityParams = GT) -> np.ndarray:
    """For every pair: unproject i's valid pixels, move them into j, take the nearest pixel, and count the points
    in front (z > min_depth), inside, on a valid target pixel, whose depth agrees; divide by i's pixel count."""
    n = len(depths)
    out = np.zeros((n, n), np.float32)
    for i in range(n):
        h, w = depths[i].shape
        v, u = np.nonzero(depths[i] > 0)
        d = depths[i][v, u].astype(np.float64)
        K = Ks[i]
        cam_pts = np.stack([(u - K[0, 2]) / K[0, 0] * d, (v - K[1, 2]) / K[1, 1] * d, d], axis=1)
        world = cam_pts @ poses[i][:3, :3].T + poses[i][:3, 3]
        for j in range(n):
            inv = np.linalg.inv(poses[j])
            p = world @ inv[:3, :3].T + inv[:3, 3]
            Kj = Ks[j]
            with np.errstate(divide="ignore", invalid="ignore"):
                col = np.rint(Kj[0, 0] * p[:, 0] / p[:, 2] + Kj[0, 2])
                row = np.rint(Kj[1, 1] * p[:, 1] / p[:, 2] + Kj[1, 2])
            z = p[:, 2]
            inside = (z > params.min_depth) & (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
            target = depths[j][row[inside].astype(int), col[inside].astype(int)].astype(np.float64)
            z = z[inside]
            thres = params.abs_thres + params.rel_thres * z - np.log(0.5) * params.temp
            count = np.count_nonzero((target > 0) & (np.abs(z - target) < thres))
            out[i, j] = count / (h * w)
    return out


def frames_of(depths, cameras, poses, target=None) -> FrameStack:
    return FrameStack.from_arrays(depths, cameras, np.asarray(poses), target)


def pinhole(w: int, h: int, f: float, cx: float | None = None, cy: float | None = None) -> Camera:
    cx = (w - 1) / 2 if cx is None else cx
    cy = (h - 1) / 2 if cy is None else cy
    return Camera(CameraModel.PINHOLE, w, h, {"fl_x": f, "fl_y": f, "cx": cx, "cy": cy})


def pose(x: float = 0.0, y: float = 0.0, z: float = 0.0, yaw_deg: float = 0.0) -> np.ndarray:
    a = np.radians(yaw_deg)
    out = np.eye(4)
    out[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    out[:3, 3] = (x, y, z)
    return out


def wall_depth(camera: Camera, c2w: np.ndarray, wall_z: float) -> np.ndarray:
    """z-depth of the plane world z = wall_z seen by a camera (0 where the ray misses it)."""
    rays = wai.geometry.pixel_rays(camera) @ c2w[:3, :3].T
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (wall_z - c2w[2, 3]) / rays[..., 2]
    return np.where(np.isfinite(t) & (t > 0), t, 0).astype(np.float32)


# --- agreement ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("covis") / "synthetic"
    args = [
        "convert",
        "synthetic",
        "--dst",
        str(root),
        "--num-scenes",
        "3",
        "--min-frames",
        "5",
        "--max-frames",
        "7",
    ]
    result = CliRunner().invoke(main, [*args, "--width", "64", "--height", "48"])
    assert result.exit_code == 0, result.output
    return root


def test_synthetic_dataset_matches_the_per_pair_reference(synthetic_root: Path) -> None:
    for name in wai.list_scenes(synthetic_root):
        result = compute_scene_covisibility(synthetic_root / name, "gt_depth")
        scene = wai.open_scene(synthetic_root / name)
        depths, Ks = ref_prepare([f.depth for f in scene.frames], [f.camera for f in scene.frames])
        expected = reference_matrix(depths, Ks, scene.poses)
        ours = load_covisibility(synthetic_root / name)
        assert ours.shape == (len(scene), len(scene)) and ours.dtype == np.float32
        assert np.abs(ours - expected).max() <= 1e-6
        assert result.working_size == (168, 224)
        assert np.all(np.diag(ours) > 0.3)  # the camera sees geometry in most pixels
        off = ours[~np.eye(len(scene), dtype=bool)]
        assert off.max() > 0.1  # neighbouring frames overlap


@pytest.mark.parametrize("config", ["gt_depth_224x224", "gt_depth_mvs_126x224", "pred_depth_moge"])
def test_other_variants_match_the_reference(synthetic_root: Path, config: str) -> None:
    cfg = CONFIGS[config]
    scene = wai.open_scene(synthetic_root / wai.list_scenes(synthetic_root)[0])
    cams = [f.camera for f in scene.frames]
    raw = [f.depth for f in scene.frames]
    ours = covisibility_matrix(frames_of(raw, cams, scene.poses, cfg.target_size), cfg.params)
    depths, Ks = ref_prepare(raw, cams, cfg.target_size)
    assert np.abs(ours - reference_matrix(depths, Ks, scene.poses, cfg.params)).max() <= 1e-6


def test_off_centre_principal_point_and_invalid_depth() -> None:
    # Camera 0's principal point lies far left of its image, so it looks to the right of its axis. A symmetric
    # frustum (cx/fx half-extents, the reference's) would miss its overlap with camera 1, 3 m to the right.
    w, h, f = 40, 30, 30.0
    cams = [
        pinhole(w, h, f, cx=-25.0, cy=10.0),
        pinhole(w, h, f),
        pinhole(w, h, f, cx=60.0),
        pinhole(w, h, f),
    ]
    poses = [pose(0, 0, 0), pose(3.0, 0, 0), pose(3.5, 0, 0.2), pose(-4, 0, 0, yaw_deg=180)]
    depths = [wall_depth(c, p, 4.0) for c, p in zip(cams, poses, strict=True)]
    depths[0][5:12, 8:30] = 0  # a hole
    depths[1][:, :6] = np.nan  # non-finite counts as invalid
    depths[2][20:, :] = -1.0
    frames = frames_of(depths, cams, poses)
    ours = covisibility_matrix(frames, GT)
    expected = reference_matrix(*ref_prepare(depths, cams, None), poses)
    assert np.abs(ours - expected).max() <= 1e-6
    assert ours[0, 1] > 0.2 and ours[1, 0] > 0.2
    # Camera 3 faces away from the wall: it has no valid depth, and nothing else either.
    assert np.all(ours[3] == 0) and np.all(ours[:, 3] == 0)
    assert candidate_pairs(frames, GT)[0, 1]
    np.testing.assert_array_equal(ours, covisibility_matrix(frames, GT, frustum_check=False))


def test_diagonal_is_the_share_of_valid_pixels_above_min_depth() -> None:
    cam = pinhole(20, 16, 15.0)
    depth = np.full((16, 20), 2.0, np.float32)
    depth[:4] = 0
    depth[4, :10] = 0.03  # valid but below min_depth in its own view
    ours = covisibility_matrix(frames_of([depth], [cam], [np.eye(4)]), GT)
    assert ours[0, 0] == pytest.approx((16 * 20 - 4 * 20 - 10) / (16 * 20), abs=1e-7)


def test_invalid_target_pixels_never_count() -> None:
    # The reference accepted a point landing on an invalid target pixel when its depth (here 0.1 m) was below
    # the threshold (0.1693 m); we check the target pixel's validity.
    cam = pinhole(20, 16, 15.0)
    src = np.full((16, 20), 0.1, np.float32)
    dst = src.copy()
    dst[:, :5] = 0
    ours = covisibility_matrix(frames_of([src, dst], [cam, cam], [np.eye(4), np.eye(4)]), GT)
    assert ours[0, 1] == pytest.approx(15 * 16 / (16 * 20), abs=1e-7)
    assert ours[1, 0] == pytest.approx(15 * 16 / (16 * 20), abs=1e-7)


def test_walk_through_prefilter_skips_most_pairs_without_changing_the_matrix() -> None:
    cam = pinhole(32, 24, 20.0)
    poses, depths = [], []
    for k in range(14):
        # A corridor along +z: each camera looks down it and sees its end wall only up to 3 m ahead.
        c2w = pose(0, 0, 2.0 * k)
        d = np.full((24, 32), 2.5, np.float32)
        d[::5, ::7] = 1.2
        poses.append(c2w)
        depths.append(d)
    frames = frames_of(depths, [cam] * 14, poses)
    candidates = candidate_pairs(frames, GT)
    assert candidates.sum() < 0.3 * 14 * 14
    assert np.all(np.diag(candidates))
    ours = covisibility_matrix(frames, GT)
    np.testing.assert_array_equal(ours, covisibility_matrix(frames, GT, frustum_check=False))
    assert np.abs(ours - reference_matrix(depths, [cam.K] * 14, poses)).max() <= 1e-6


def test_block_size_does_not_change_the_result(synthetic_root: Path) -> None:
    scene = wai.open_scene(synthetic_root / wai.list_scenes(synthetic_root)[1])
    frames = frames_of([f.depth for f in scene.frames], [f.camera for f in scene.frames], scene.poses, 224)
    big = covisibility_matrix(frames, GT)
    np.testing.assert_array_equal(big, covisibility_matrix(frames, GT, block_elements=1000))


def test_torch_backend_gives_the_same_numbers(synthetic_root: Path) -> None:
    pytest.importorskip("torch")
    scene = wai.open_scene(synthetic_root / wai.list_scenes(synthetic_root)[2])
    frames = frames_of([f.depth for f in scene.frames], [f.camera for f in scene.frames], scene.poses, 224)
    np.testing.assert_allclose(
        covisibility_matrix(frames, GT, backend="torch", device="cpu"),
        covisibility_matrix(frames, GT),
        atol=1e-6,
    )


def test_resize_follows_pytorchs_float32_nearest() -> None:
    # The spec's example: 1920 -> 224 at output index 119 reads input 1019 (exact arithmetic would give 1020).
    assert nearest_indices(1920, 224)[119] == 1019
    assert nearest_indices(1080, 126)[119] == 1019
    assert working_size(1080, 1920, 224) == (126, 224)
    assert working_size(1920, 1080, 224) == (224, 126)
    assert working_size(100, 50, (224, 224)) == (224, 224)
    torch = pytest.importorskip("torch")
    depth = np.random.default_rng(0).random((48, 64)).astype(np.float32) + 0.5
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(depth)[None, None], size=(168, 224), mode="nearest"
    )
    frames = frames_of([depth], [pinhole(64, 48, 40.0)], [np.eye(4)], 224)
    np.testing.assert_array_equal(frames.depths[0], expected[0, 0].numpy())
    np.testing.assert_allclose(frames.cameras[0].K[0], [40.0 * 224 / 64, 0, 31.5 * 224 / 64])


def test_valid_target_depth_denominator() -> None:
    cam = pinhole(20, 16, 15.0)
    src = np.full((16, 20), 2.0, np.float32)
    dst = src.copy()
    dst[:, :10] = 0
    params = CovisibilityParams(denominator="valid_target_depth")
    ours = covisibility_matrix(frames_of([src, dst], [cam, cam], [np.eye(4), np.eye(4)]), params)
    # Half of the source lands on the target's valid half: 160 points / 160 valid target pixels.
    assert ours[0, 1] == pytest.approx(1.0) and ours[0, 0] == pytest.approx(1.0)
    assert ours[1, 0] == pytest.approx(160 / 320)
