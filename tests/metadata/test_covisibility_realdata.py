"""Covisibility of real RGB-D frames (7-Scenes redkitchen, 40 frames 25 apart), imported into a WAI scene here."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import wai
from metadata.covisibility import compute_scene_covisibility, load_covisibility
from metadata.covisibility.frames import resize_depth, working_size
from metadata.view_sampling import sample_views, view_overlap
from tests.realdata import realdata
from wai.camera import Camera, CameraModel


def import_redkitchen(src: Path, scene_dir: Path) -> list[np.ndarray]:
    """7-Scenes layout: frame-XXXXXX.{color.jpg, depth.png (uint16 mm; 0 and 65535 invalid), pose.txt (cam2world)}."""
    K = np.loadtxt(src / "camera-intrinsics.txt")
    camera = Camera(
        CameraModel.PINHOLE, 640, 480, {"fl_x": K[0, 0], "fl_y": K[1, 1], "cx": K[0, 2], "cy": K[1, 2]}
    )
    depths = []
    with wai.SceneWriter(scene_dir, dataset_name="7scenes", camera=camera) as writer:
        for pose_file in sorted(src.glob("frame-*.pose.txt")):
            stem = pose_file.name.removesuffix(".pose.txt")
            raw = cv2.imread(str(src / f"{stem}.depth.png"), cv2.IMREAD_UNCHANGED)
            assert raw.dtype == np.uint16 and raw.shape == (480, 640)
            depth = np.where((raw > 0) & (raw < 65535), raw.astype(np.float32) / 1000.0, 0.0).astype(
                np.float32
            )
            image = cv2.imread(str(src / f"{stem}.color.jpg"))[:, :, ::-1]
            writer.add_frame(stem.removeprefix("frame-"), np.loadtxt(pose_file), image=image, depth=depth)
            depths.append(depth)
    return depths


@pytest.fixture(scope="module")
def kitchen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[np.ndarray]]:
    src = realdata("redkitchen_rgbd")
    scene_dir = tmp_path_factory.mktemp("real") / "redkitchen"
    return scene_dir, import_redkitchen(src, scene_dir)


def test_redkitchen_matrix_is_sensible(kitchen: tuple[Path, list[np.ndarray]]) -> None:
    scene_dir, depths = kitchen
    result = compute_scene_covisibility(scene_dir, "gt_depth")
    matrix = np.asarray(load_covisibility(scene_dir), dtype=np.float64)
    n = len(depths)
    assert n == 40 and matrix.shape == (n, n) and result.working_size == (168, 224)
    assert np.all((matrix >= 0) & (matrix <= 1))

    # The diagonal is each frame's share of valid depth at the working size (depth here is 0.5 m or more).
    size = working_size(480, 640, 224)
    valid_share = [np.count_nonzero(resize_depth(d, size) > 0.04) / (size[0] * size[1]) for d in depths]
    np.testing.assert_allclose(np.diag(matrix), valid_share, atol=1e-6)
    assert 0.7 < min(valid_share) and max(valid_share) < 0.96

    # Normalised by the source's diagonal, as the training loaders do: 1 on the diagonal, roughly symmetric.
    normalised = matrix / np.diag(matrix)[:, None]
    np.testing.assert_allclose(np.diag(normalised), 1.0)
    # (Not exactly: moving closer to a surface, a view sees less of the other than the other sees of it.)
    assert np.mean(np.abs(normalised - normalised.T)) < 0.2
    assert np.corrcoef(normalised.ravel(), normalised.T.ravel())[0, 1] > 0.7

    # Neighbours in time see more of each other than distant frames (the camera comes back later, so only
    # short lags fall off monotonically).
    def mean_at(lag: int) -> float:
        return float(np.mean([normalised[i, i + lag] for i in range(n - lag)]))

    assert mean_at(1) > 0.5
    assert mean_at(1) > mean_at(2) > mean_at(3) > mean_at(5)
    assert mean_at(1) > 1.5 * max(mean_at(lag) for lag in range(5, 30))
    for i in range(n - 1):
        assert normalised[i, i + 1] > np.median(normalised[i])

    # Frame 000000 -> 000100 (index 4): the capture's README measured 37 % of valid pixels landing on valid
    # pixels of the other view and 88 % of those agreeing within 5 cm; our tolerance is wider (~17 cm).
    assert 0.2 < normalised[0, 4] < 0.45

    # View sampling walks along the capture.
    views = sample_views(matrix, 4, 0)
    assert len(set(views.tolist())) == 4
    for k in range(1, 4):
        assert max(view_overlap(matrix, int(p))[views[k]] for p in views[:k]) > 0.25
