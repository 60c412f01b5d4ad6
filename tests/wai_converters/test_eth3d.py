"""ETH3D: conformance on a raw fixture in the release layout (fisheye laser depth resampled), portrait images,
pre-made undistorted depth, and bad raw inputs named in the error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.eth3d import RAW_SHAPE, SCENES, SCENES_FRAMES, write_eth3d
from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from wai import io, open_scene
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = "courtyard"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _cut_image_line(path: Path) -> None:
    lines = path.read_text().splitlines()
    lines[6] = " ".join(lines[6].split()[:6])  # the second image line loses its translation, camera and name
    path.write_text("\n".join(lines) + "\n")


class TestETH3D(ConverterTest):
    converter = "eth3d"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: (raw / SCENE / "dslr_calibration_undistorted" / "cameras.txt").unlink(),
            "dslr_calibration_undistorted/cameras.txt",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / SCENE / "images" / "dslr_images_undistorted" / "DSC_0310.JPG"),
            "DSC_0310.JPG",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: os.truncate(
                raw / SCENE / "ground_truth_depth" / "dslr_images" / "DSC_0309.JPG", 4 * 4032 * 6000
            ),
            "ground_truth_depth/dslr_images/DSC_0309.JPG",
        ),
        BadRaw(
            "pose_too_few_rows",
            lambda raw: _cut_image_line(raw / SCENE / "dslr_calibration_undistorted" / "images.txt"),
            "images.txt",
        ),
    )

    def make_raw(self, root: Path):
        return write_eth3d(root)

    def test_order_links_and_portrait(self, converted) -> None:
        meta = json.loads((converted.root / "relief" / "scene_meta.json").read_text())
        assert [f["frame_name"] for f in meta["frames"]] == SCENES_FRAMES["relief"]
        assert [f["is_portrait"] for f in meta["frames"]] == ["False", "True", "False"]
        link = converted.root / "relief" / "images" / "DSC_0425.png"
        assert meta["frames"][0]["image"] == "images/DSC_0425.png" and link.is_symlink()
        assert link.resolve().name == "DSC_0425.JPG"
        portrait = converted.root / "relief" / "images" / "DSC_0427.png"
        assert not portrait.is_symlink() and portrait.read_bytes().startswith(b"\x89PNG")
        assert (meta["frames"][1]["w"], meta["frames"][1]["h"]) == (48, 64)
        names = [
            f["frame_name"]
            for f in json.loads((converted.root / SCENE / "scene_meta.json").read_text())["frames"]
        ]
        assert names == SCENES_FRAMES[SCENE]  # images.txt order, not sorted

    def test_raw_folder_is_not_written(self, converted) -> None:
        assert not (converted.raw / SCENE / "ground_truth_depth" / "dslr_images_undistorted").exists()


def test_premade_undistorted_depth_is_linked(tmp_path: Path) -> None:
    """Where the reference already wrote `<stem>.exr` into the raw tree, it is linked and the raw depth not read."""
    raw = tmp_path / "raw"
    truth = write_eth3d(raw)
    made = raw / SCENE / "ground_truth_depth" / "dslr_images_undistorted"
    made.mkdir()
    for name, view in zip(SCENES_FRAMES[SCENE], truth[SCENE], strict=True):
        io.store(made / f"{name}.exr", view.depth, "depth")
        os.truncate(raw / SCENE / "ground_truth_depth" / "dslr_images" / f"{name}.JPG", 8)  # unread
    result = run_cli(["convert", "eth3d", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    scene = open_scene(tmp_path / "wai" / SCENE)
    link = scene.path / "depth" / "DSC_0311.exr"
    assert link.is_symlink() and link.resolve() == made / "DSC_0311.exr"
    np.testing.assert_allclose(scene.frames[0].depth, truth[SCENE][0].depth, rtol=1e-3)


def test_frames_without_depth_are_reported(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_eth3d(raw)
    (raw / SCENE / "ground_truth_depth" / "dslr_images" / "DSC_0309.JPG").unlink()
    result = run_cli(["convert", "eth3d", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    log = json.loads((tmp_path / "wai" / SCENE / "_process_log.json").read_text())
    assert "skipped 1 frame: DSC_0309 (no ground-truth depth)" in log["conversion"]["message"]
    assert len(open_scene(tmp_path / "wai" / SCENE)) == 2
    assert RAW_SHAPE == (4032, 6048)
