"""The undistortion stage through `wai undistort`: geometry, masks, kept modalities, resume and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from tests.wai_converters.stages.distorted_scene import mask_threshold, scene_and_poses, write_distorted_scene
from wai.stages import ProcessLog
from wai.synthetic import render


def _neighbourhood_range(depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel min and max of the 3x3 neighbourhood (NaN ignored)."""
    padded = np.pad(depth, 1, constant_values=np.nan)
    stack = np.stack(
        [padded[i : i + depth.shape[0], j : j + depth.shape[1]] for i in range(3) for j in range(3)]
    )
    return np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)


def _undistort(root: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["undistort", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("model", ["OPENCV_FISHEYE", "OPENCV", "FULL_OPENCV", "THIN_PRISM_FISHEYE"])
def test_undistorted_frames_match_a_pinhole_render(tmp_path: Path, model: str) -> None:
    root = tmp_path / "root"
    distorted = write_distorted_scene(root / "s", model)
    _undistort(root)
    scene = wai.open_scene(root / "s")
    camera = scene.camera(0)
    assert camera.model.value == "PINHOLE"
    meta = json.loads((root / "s" / "scene_meta.json").read_text())
    assert not any(k in meta for k in ("k1", "k2", "k3", "k4", "p1", "p2"))
    if distorted.is_fisheye:  # fisheyes keep their size, perspective models are cropped to the valid area
        assert camera.size == distorted.size
    else:
        assert camera.size != distorted.size
    # The reference's centring, in our pixel-centre convention.
    assert camera.params["cx"] == pytest.approx((camera.width - 1) / 2)
    assert camera.params["cy"] == pytest.approx((camera.height - 1) / 2)

    synthetic, poses = scene_and_poses()
    before = wai.open_scene(root / "s", meta_name="scene_meta_distorted.json")
    for frame, pose in zip(scene.frames, poses, strict=True):
        truth = render(synthetic, pose, K=camera.K, width=camera.width, height=camera.height)
        depth = frame.load("depth")
        assert depth.shape == camera.size
        both = (depth > 0) & truth.valid
        assert both.mean() > 0.9  # balance 0: (almost) every output pixel comes from the distorted image
        # Nearest sampling takes the depth of a surface point less than a pixel away: within the 3x3 range.
        low, high = _neighbourhood_range(np.where(truth.valid, truth.depth, np.nan))
        slack = 2e-3 * truth.depth
        inside = (depth >= low - slack) & (depth <= high + slack)
        # The outermost pixels may sample surface just outside the pinhole view; leave them out.
        interior = both[1:-1, 1:-1]
        assert inside[1:-1, 1:-1][interior].mean() > 0.97
        mask = frame.load("mask")
        assert mask.dtype == bool
        near = mask_threshold(before.frame(frame.name).load("depth_distorted"))
        expected = truth.valid & (truth.depth < near)
        assert 0.1 < expected.mean() < 0.9  # the mask has both values, so "survives" means something
        assert (mask == expected).mean() > 0.95
        # Textures alias at this size, so compare the images blurred: they must show the same picture.
        got = cv2.GaussianBlur(frame.image.astype(np.float32), (5, 5), 1.5)
        want = cv2.GaussianBlur(truth.image.astype(np.float32), (5, 5), 1.5)
        assert np.corrcoef(got.ravel(), want.ravel())[0, 1] > 0.9
        # A pixel modality without the suffix is undistorted too, and the distorted originals stay on disk.
        assert frame.raw["depth_confidence"] == f"undistorted/depth_confidence/{frame.name}.exr"
        confidence = frame.load("depth_confidence")
        assert confidence.shape == camera.size and confidence[1:-1, 1:-1].min() == 1.0
        assert (root / "s" / "images_distorted" / f"{frame.name}.png").is_file()
        assert frame.raw["file_path"] == frame.raw["image"] == f"images/{frame.name}.png"
    assert set(meta["frame_modalities"]) == {"image", "depth", "mask", "depth_confidence"}
    assert meta["frame_modalities"]["depth"]["format"] == "depth"
    check = CliRunner().invoke(main, ["validate", str(root), "--deep"])
    assert check.exit_code == 0, check.output
    distorted_meta = json.loads((root / "s" / "scene_meta_distorted.json").read_text())
    assert distorted_meta["camera_model"] == model


def test_rerun_skips_and_overwrite_redoes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_distorted_scene(root / "s")
    _undistort(root)
    assert ProcessLog(root / "s").state("undistortion").value == "finished"
    assert "1 skipped" in _undistort(root)
    (root / "s" / "images" / "f0.png").unlink()
    assert "1 done" in _undistort(root, "--overwrite")
    assert (root / "s" / "images" / "f0.png").is_file()


def test_per_frame_cameras_are_replaced(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_distorted_scene(root / "s")
    path = root / "s" / "scene_meta_distorted.json"
    meta = json.loads(path.read_text())
    meta["frames"][1].update(fl_x=31.0, k1=0.04)
    path.write_text(json.dumps(meta))
    _undistort(root)
    frames = json.loads((root / "s" / "scene_meta.json").read_text())["frames"]
    assert frames[1]["camera_model"] == "PINHOLE" and "k1" not in frames[1]
    assert "camera_model" not in frames[0]
    assert wai.open_scene(root / "s").camera(1).is_pinhole


def test_missing_distorted_meta_fails_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_distorted_scene(root / "s")
    (root / "s" / "scene_meta_distorted.json").unlink()
    result = CliRunner().invoke(main, ["undistort", str(root)])
    assert result.exit_code == 1
    assert "scene_meta_distorted.json" in result.output and "1 failed" in result.output


def test_mask_of_the_wrong_size_fails_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_distorted_scene(root / "s")
    wai.store(root / "s" / "masks_distorted" / "f1.png", np.ones((10, 12), bool), "binary")
    result = CliRunner().invoke(main, ["undistort", str(root)])
    assert result.exit_code == 1
    assert "masks_distorted/f1.png" in result.output and "12x10" in result.output
    assert not (root / "s" / "scene_meta.json").exists()


def test_originals_outside_a_distorted_folder_are_never_replaced(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_distorted_scene(root / "s")
    scene_dir = root / "s"
    (scene_dir / "images_distorted").rename(scene_dir / "images")
    path = scene_dir / "scene_meta_distorted.json"
    meta = json.loads(path.read_text())
    for frame in meta["frames"]:
        frame["image_distorted"] = frame["image_distorted"].replace("images_distorted", "images")
    path.write_text(json.dumps(meta))
    original = (scene_dir / "images" / "f0.png").read_bytes()
    _undistort(root)
    _undistort(root, "--overwrite")  # the reset must not delete the originals' folder either
    assert (scene_dir / "images" / "f0.png").read_bytes() == original
    frame = wai.open_scene(scene_dir).frames[0]
    assert frame.raw["image"] == "undistorted/images/f0.png" and frame.image.shape == (36, 48, 3)


def test_worker_processes_and_shards(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("a", "b", "c"):
        write_distorted_scene(root / name, n_frames=1)
    assert "1 done" in _undistort(root, "--shard", "1/3")
    assert (root / "b" / "scene_meta.json").is_file() and not (root / "a" / "scene_meta.json").exists()
    out = _undistort(root, "--workers", "2")
    assert "2 done, 1 skipped, 0 failed" in out
    assert all(wai.open_scene(root / n).camera(0).is_pinhole for n in ("a", "b", "c"))
