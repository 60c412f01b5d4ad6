"""Pre-resized stores: covering size, exact intrinsics through `Camera.resized`, depth still consistent across views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wai
from tests.wai.pack.fixtures import convert_synthetic, make_mixed_scene
from wai.geometry.reprojection import reproject_depth
from wai.pack import covering_size, parse_resolution, run_pack
from wai.pack.resize import resize_nearest


def test_covering_size_keeps_aspect_and_never_upscales() -> None:
    assert covering_size(64, 48, (32, 20)) == (32, 24)
    assert covering_size(64, 48, (40, 40)) == (53, 40)
    assert covering_size(64, 48, (128, 96)) == (64, 48)
    assert parse_resolution("518x392") == (518, 392)
    with pytest.raises(wai.WaiFormatError, match="expected WxH"):
        parse_resolution("518")


def test_nearest_takes_the_pixel_under_each_new_centre() -> None:
    array = np.arange(16).reshape(4, 4)
    np.testing.assert_array_equal(resize_nearest(array, 2, 2), [[5, 7], [13, 15]])


def _agreement(scene: wai.Scene, i: int, j: int) -> float:
    """Median relative difference between frame j's depth and frame i's depth reprojected into j."""
    a, b = scene.frames[i], scene.frames[j]
    warped = reproject_depth(a.depth, a.camera, a.cam2world, b.camera, b.cam2world)
    both = (warped > 0) & (b.depth > 0)
    assert both.sum() > 0.1 * both.size
    return float(np.median(np.abs(warped[both] - b.depth[both]) / b.depth[both]))


def test_resized_store_is_geometrically_consistent(tmp_path: Path) -> None:
    root = convert_synthetic(tmp_path / "synthetic")
    report = run_pack(root, tmp_path / "small", resolution=(32, 20), progress=False)
    assert len(report.done) == 2, report.summary()
    for name in ("room_000", "objects_001"):
        folder = wai.open_scene(root / name)
        small = wai.open_scene(tmp_path / "small" / f"{name}.zarr")
        assert small.storage.info.resolution == (32, 20) and small.storage.info.lossy
        for a, b in zip(folder.frames, small.frames, strict=True):
            assert b.camera == a.camera.resized(32, 24)
            assert (
                b.image.shape == (24, 32, 3)
                and b.depth.shape == (24, 32)
                and b.load("mask").shape == (24, 32)
            )
            np.testing.assert_array_equal(b.depth, resize_nearest(a.depth, 32, 24))
            np.testing.assert_array_equal(b.load("mask"), resize_nearest(a.load("mask"), 32, 24))
        # the same median agreement as at full size: intrinsics and depth still belong together
        assert _agreement(small, 0, 1) < max(0.01, 2 * _agreement(folder, 0, 1))


def test_per_frame_cameras_are_resized_frame_by_frame(tmp_path: Path) -> None:
    scene_dir = make_mixed_scene(tmp_path / "src" / "mixed_000")
    run_pack(scene_dir, tmp_path / "out", resolution=(20, 12), progress=False)
    folder, small = wai.open_scene(scene_dir), wai.open_scene(tmp_path / "out" / "mixed_000")
    for a, b in zip(folder.frames, small.frames, strict=True):
        w, h = covering_size(a.camera.width, a.camera.height, (20, 12))
        assert b.camera == a.camera.resized(w, h)
        for name in ("depth", "pred_depth/moge2", "normals", "depth_confidence", "mask", "sensor_depth"):
            if not a.has(name):
                continue
            np.testing.assert_array_equal(b.load(name), resize_nearest(a.load(name), w, h), err_msg=name)
        assert b.image.shape == (h, w, 3)
