"""Spring: conformance on the train split of a raw fixture in the release layout, the test split, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from tests.wai_converters.fixtures.spring import SCENES, TEST, write_spring
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = Path("train") / next(iter(SCENES))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_last_row(path: Path) -> None:
    path.write_text("\n".join(path.read_text().splitlines()[:-1]) + "\n")


def _wrong_shape(path: Path) -> None:
    with h5py.File(path, "w") as handle:
        handle.create_dataset("disparity", data=np.ones((40, 50), np.float32))


class TestSpring(ConverterTest):
    converter = "spring"
    expected_scenes = SCENES
    options = {"splits": "train"}
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: (raw / SCENE / "cam_data" / "intrinsics.txt").unlink(),
            "intrinsics.txt",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / SCENE / "frame_right" / "frame_right_0002.png"),
            "frame_right_0002.png",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: _wrong_shape(raw / SCENE / "disp1_left" / "disp1_left_0003.dsp5"),
            "disp1_left_0003.dsp5",
        ),
        BadRaw(
            "pose_too_few_rows",
            lambda raw: _drop_last_row(raw / SCENE / "cam_data" / "extrinsics.txt"),
            "extrinsics.txt",
        ),
    )

    def make_raw(self, root: Path):
        return write_spring(root)

    def test_frames_skymasks_and_links(self, converted) -> None:
        scene = open_scene(converted.root / next(iter(SCENES)))
        names = [f.name for f in scene.frames]
        assert names[:4] == ["frame_left_0001", "frame_right_0001", "frame_left_0002", "frame_right_0002"]
        assert scene.frame_modality_names == ["image", "depth", "skymask"]
        frame = scene.frames[1]
        assert frame.raw["skymask"] == "skymasks/frame_right_0001.png"
        assert (scene.path / "images" / "frame_right_0001.png").is_symlink()
        sky = frame.load("skymask")
        truth = converted.truth[scene.name][1]
        np.testing.assert_array_equal(sky, ~truth.valid)
        assert np.all(frame.depth[sky] == 0)


def test_test_split_has_images_only(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_spring(raw)
    result = run_cli(["convert", "spring", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    assert "3 done" in result.output
    name = next(iter(TEST))
    meta = json.loads((tmp_path / "wai" / name / "scene_meta.json").read_text())
    assert len(meta["frames"]) == 2 * TEST[name]
    assert all("transform_matrix" not in f and "depth" not in f for f in meta["frames"])
    assert list(meta["frame_modalities"]) == ["image"]
