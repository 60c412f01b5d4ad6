"""`wai convert ase` on Aria-fisheye renders in ASE's layout: pinhole, portrait, z-depth, poses from the CSV."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.ase import CALIB_NAME, LABELS, N_POSES, SCENES, write_ase
from wai import open_scene
from wai.stages import ProcessLog
from wai_converters.testing import BadRaw, ConverterTest, FixtureView, run_cli

SLAM = Path(SCENES[0]) / "render" / "images" / "0"


def _short_trajectory(raw: Path) -> None:
    path = raw / SCENES[0] / "gt_trajectory_mps.csv"
    path.write_text("\n".join(path.read_text().splitlines()[:2]) + "\n")


def _bad_pose_line(raw: Path) -> None:
    path = raw / SCENES[1] / "gt_trajectory_mps.csv"
    lines = path.read_text().splitlines()
    lines[1] = "uid,0,0,1.0,2.0"
    path.write_text("\n".join(lines) + "\n")


def _drop_label(raw: Path) -> None:
    path = raw.parent / CALIB_NAME
    data = json.loads(path.read_text())
    data["CameraCalibrations"] = data["CameraCalibrations"][1:]
    path.write_text(json.dumps(data))


class TestASE(ConverterTest):
    converter = "ase"
    expected_scenes = {name: N_POSES * len(LABELS) for name in SCENES}
    # Range is resampled nearest from the fisheye (as the reference), so at 64x48 each pixel's range belongs to a ray
    # up to half a fisheye pixel away (about 2 degrees here): z-depth is off by a few per cent on slanted surfaces.
    depth_median_rtol = 0.03
    bad_raw = (
        BadRaw("missing depth", lambda raw: (raw / SLAM / "depth0000001.png").unlink(), "depth0000001.png"),
        BadRaw(
            "8-bit depth",
            lambda raw: __import__("cv2").imwrite(
                str(raw / SLAM / "depth0000000.png"), np.zeros((48, 64), np.uint8)
            ),
            "depth0000000.png",
        ),
        BadRaw("fewer poses than images", _short_trajectory, "gt_trajectory_mps.csv"),
        BadRaw("pose line too short", _bad_pose_line, "line 2"),
        BadRaw("calibration without a label", _drop_label, "camera-rgb"),
        BadRaw(
            "truncated image",
            lambda raw: (raw / SLAM / "rgb0000000.png").write_bytes(b"\x89PNG\r\n\x1a\n"),
            "rgb0000000.png",
        ),
    )

    def convert_args(self, raw: Path, root: Path, *extra: str) -> list[str]:
        return super().convert_args(raw, root, "--calib", str(raw.parent / CALIB_NAME), *extra)

    def make_raw(self, root: Path) -> Mapping[str, Sequence[FixtureView]]:
        return write_ase(root)

    def test_meta_as_the_reference_writes_it(self, converted) -> None:
        scene_dir = converted.root / SCENES[0]
        meta = json.loads((scene_dir / "scene_meta.json").read_text())
        assert meta["dataset_name"] == "asev2" and meta["camera_model"] == "PINHOLE"
        assert meta["shared_intrinsics"] is False and meta["scale_type"] == "metric"
        assert meta["scene_modalities"] == {}
        names = [f["frame_name"] for f in meta["frames"]]
        assert names == [f"{p}_{k:07d}" for p in ("rgb", "slam_left", "slam_right") for k in range(N_POSES)]
        first = meta["frames"][2]
        assert first["image"] == first["file_path"] == "images/slam_left_0000000.jpg"
        assert first["depth"] == "depth/slam_left_0000000.exr"
        assert first["mask_path"] == "masks/slam_left_0000000.jpg"
        assert (first["w"], first["h"]) == (48, 64)  # portrait
        assert meta["frame_modalities"]["mask"] == {"frame_key": "mask_path", "format": "binary"}
        rot = [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
        assert meta["_applied_transform"] == rot and meta["_applied_transforms"] == {"image_rotation": rot}
        assert ProcessLog(scene_dir).state("undistortion") == "finished"

    def test_mask_marks_invalid_range(self, converted) -> None:
        scene = open_scene(converted.root / SCENES[0])
        for frame in scene.frames:
            mask, depth = frame.load("mask"), frame.load("depth")
            assert mask.shape == depth.shape and mask.mean() > 0.5
            assert np.all(depth[~mask] == 0)


def test_one_sensor_shares_intrinsics_and_no_rotation(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_ase(raw)
    (raw / "not_a_scene").mkdir()
    args = ["convert", "ase", "--src", raw, "--dst", tmp_path / "wai", "--calib", tmp_path / CALIB_NAME]
    result = run_cli([*args, "--sensors", "camera-slam-left", "--no-rotate-to-portrait"])
    assert result.exit_code == 0, result.output
    assert "2 done, 1 skipped, 0 failed" in result.output
    meta = json.loads((tmp_path / "wai" / SCENES[0] / "scene_meta.json").read_text())
    assert meta["shared_intrinsics"] is True and (meta["w"], meta["h"]) == (64, 48)
    assert "fl_x" not in meta["frames"][0] and meta["cx"] == 31.5
    assert meta["_applied_transform"] == np.eye(4).tolist() and meta["_applied_transforms"] == {}
    assert [f["frame_name"] for f in meta["frames"]] == ["slam_left_0000000", "slam_left_0000001"]


def test_calibration_is_required(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    write_ase(raw)
    result = run_cli(["convert", "ase", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code != 0 and "--calib" in result.output
