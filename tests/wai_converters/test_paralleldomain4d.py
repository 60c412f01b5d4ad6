"""Parallel Domain 4D: conformance on a raw fixture in the DGP layout, and bad raw inputs named in the error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from tests.wai_converters.fixtures.paralleldomain4d import SCENES, write_paralleldomain4d
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest

SCENE = next(iter(SCENES))
TS5 = f"{5:018d}"
TS10 = f"{10:018d}"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _scene_file(raw: Path) -> Path:
    return next((raw / SCENE).glob("scene_*.json"))


def _drop_quaternion_part(raw: Path) -> None:
    path = _scene_file(raw)
    data = json.loads(path.read_text())
    del data["data"][2]["datum"]["image"]["pose"]["rotation"]["qz"]
    path.write_text(json.dumps(data))


def _drop_depth_annotation(raw: Path) -> None:
    path = _scene_file(raw)
    data = json.loads(path.read_text())
    del data["data"][1]["datum"]["image"]["annotations"]["6"]
    path.write_text(json.dumps(data))


class TestParallelDomain4D(ConverterTest):
    converter = "paralleldomain4d"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: next((raw / SCENE / "calibration").glob("*.json")).unlink(),
            f"{SCENE}/calibration",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / SCENE / "rgb" / "yaw-60" / f"{TS5}.png"),
            f"yaw-60/{TS5}.png",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: np.savez(raw / SCENE / "depth" / "camera0" / f"{TS10}.npz", data=np.ones((10, 12))),
            f"camera0/{TS10}.npz",
        ),
        BadRaw("pose_too_few_rows", _drop_quaternion_part, "pose.rotation.qz"),
        BadRaw(
            "no_depth_annotation_left_out",
            _drop_depth_annotation,
            f"depth of rgb/camera0/{TS5}.png (no annotation '6')",
            fails=False,
        ),
        BadRaw(
            "missing_depth_left_out",
            lambda raw: (raw / SCENE / "depth" / "yaw-60" / f"{TS10}.npz").unlink(),
            f"depth/yaw-60/{TS10}.npz",
            fails=False,
        ),
    )

    def make_raw(self, root: Path):
        return write_paralleldomain4d(root)

    def test_names_links_poses_and_invalid_depth(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        assert [f.name for f in scene.frames] == [
            f"{TS5}_camera0",
            f"{TS5}_yaw-60",
            f"{TS10}_camera0",
            f"{TS10}_yaw-60",
        ]
        first = scene.meta["frames"][0]
        assert first["image"] == f"images/{TS5}_camera0.png" and first["depth"] == f"depth/{TS5}_camera0.exr"
        assert (
            scene.path / first["image"]
        ).resolve() == converted.raw / SCENE / "rgb" / "camera0" / f"{TS5}.png"
        assert scene.meta["dataset_name"] == "paralleldomain4d" and scene.meta["scale_type"] == "metric"
        assert "pd_world_lfu_to_rdf" in scene.meta["_applied_transforms"]
        for frame, view in zip(scene.frames, converted.truth[SCENE], strict=True):
            np.testing.assert_allclose(
                frame.cam2world, view.cam2world, atol=1e-6
            )  # P @ T undoes the LFU world
            assert np.all(frame.load("depth")[~view.valid] == 0)  # the 1000 m far value is invalid
