"""MVS-Synth: conformance on a raw fixture in the release layout, and bad raw inputs named in the error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.mvs_synth import SCENES, pose_json, write_mvs_synth
from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from wai import open_scene
from wai.io.exr import write_exr
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = next(iter(SCENES))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _three_rows(path: Path) -> None:
    data = json.loads(path.read_text())
    data["extrinsic"] = data["extrinsic"][:3]
    path.write_text(json.dumps(data))


class TestMVSSynth(ConverterTest):
    converter = "mvs_synth"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file", lambda raw: (raw / SCENE / "poses" / "0002.json").unlink(), "0002.json"
        ),
        BadRaw(
            "truncated_image", lambda raw: _truncate(raw / SCENE / "images" / "0001.png"), "images/0001.png"
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: write_exr(raw / SCENE / "depths" / "0003.exr", np.ones((10, 12), np.float32)),
            "depths/0003.exr",
        ),
        BadRaw(
            "pose_too_few_rows", lambda raw: _three_rows(raw / SCENE / "poses" / "0000.json"), "0000.json"
        ),
        BadRaw(
            "missing_depth", lambda raw: (raw / SCENE / "depths" / "0001.exr").unlink(), "depths/0001.exr"
        ),
    )

    def make_raw(self, root: Path):
        return write_mvs_synth(root)

    def test_units_sky_links_and_recorded_transforms(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        assert [f.name for f in scene.frames] == ["0000", "0001", "0002", "0003"]
        assert scene.meta["dataset_name"] == "mvs_synth" and scene.meta["scale_type"] == "metric"
        assert (scene.path / "images" / "0001.png").resolve() == converted.raw / SCENE / "images" / "0001.png"
        transforms = scene.meta["_applied_transforms"]
        assert transforms["gta_world_y_flip"] == np.diag([1.0, -1.0, 1.0, 1.0]).tolist()
        assert transforms["game_units_to_metres"] == np.diag([0.1, 0.1, 0.1, 1.0]).tolist()
        truth = converted.truth[SCENE]
        for frame, view in zip(scene.frames, truth, strict=True):
            # Absolute poses are the rendered ones (the flip is undone exactly), in metres.
            np.testing.assert_allclose(frame.cam2world, view.cam2world, atol=1e-6)
            depth = frame.load("depth")
            assert np.all(depth[~view.valid] == 0)  # +inf sky -> 0
            np.testing.assert_allclose(depth[view.valid], view.depth[view.valid], rtol=1e-3)


class TestMVSSynthProperRotations(ConverterTest):
    """Raw rotations with det +1: no world flip (it would make reflections); same geometry."""

    converter = "mvs_synth"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL

    def make_raw(self, root: Path):
        return write_mvs_synth(root, left_handed=False)

    def test_no_flip_recorded(self, converted) -> None:
        transforms = open_scene(converted.root / SCENE).meta["_applied_transforms"]
        assert "gta_world_y_flip" not in transforms and "game_units_to_metres" in transforms


def test_mixed_handedness_is_an_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    truth = write_mvs_synth(raw)
    view = truth[SCENE][2]
    (raw / SCENE / "poses" / "0002.json").write_text(json.dumps(pose_json(view.K, view.cam2world, False)))
    result = run_cli(["convert", "mvs_synth", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code != 0 and "poses/0002.json" in result.output, result.output
