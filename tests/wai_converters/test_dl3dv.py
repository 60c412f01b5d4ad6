"""`wai convert dl3dv` on a fixture in DL3DV-10K's layout: distorted meta as the reference writes it, then
`wai undistort`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from tests.wai_converters.fixtures.common import render_views
from tests.wai_converters.fixtures.dl3dv import (
    APPLIED,
    HASHES,
    N_FRAMES,
    SCENES,
    opencv_camera,
    write_dl3dv,
    write_scene,
)
from wai import open_scene
from wai.camera import Camera, CameraModel
from wai.scene import SCENE_META_DISTORTED
from wai_converters.testing import BadRaw, ConverterTest, FixtureView, run_cli

FIRST = Path("1K") / HASHES["1K"]


def _edit_transforms(raw: Path, edit) -> None:
    path = raw / FIRST / "transforms.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


def _truncate(raw: Path) -> None:
    path = raw / FIRST / "images" / "frame_00002.png"
    path.write_bytes(path.read_bytes()[:60])


class TestDL3DV(ConverterTest):
    converter = "dl3dv"
    expected_scenes = {name: N_FRAMES for name in SCENES}
    post_commands = (("undistort",),)  # `wai validate --deep` then checks the finished scene
    meta_name = SCENE_META_DISTORTED  # the known-geometry checks read the distorted meta
    check_depth = False
    bad_raw = (
        BadRaw(
            "missing transforms", lambda raw: (raw / FIRST / "transforms.json").unlink(), "transforms.json"
        ),
        BadRaw("missing colmap", lambda raw: __import__("shutil").rmtree(raw / FIRST / "colmap"), "colmap"),
        BadRaw(
            "missing image",
            lambda raw: (raw / FIRST / "images" / "frame_00003.png").unlink(),
            "frame_00003.png",
        ),
        BadRaw("truncated image", _truncate, "frame_00002.png"),
        BadRaw(
            "pose with bad shape",
            lambda raw: _edit_transforms(
                raw, lambda d: d["frames"][0].update(transform_matrix=[[1, 0], [0, 1]])
            ),
            "transform_matrix",
        ),
        BadRaw("no focal length", lambda raw: _edit_transforms(raw, lambda d: d.pop("fl_x")), "fl_x"),
    )

    def make_raw(self, root: Path) -> Mapping[str, Sequence[FixtureView]]:
        return write_dl3dv(root)

    def compare_with_truth(self, scene, truth: Sequence[FixtureView]) -> None:
        """The distorted camera, the OpenCV poses and the very pixels (frames are symlinks to the raw PNGs)."""
        for frame, view in zip(scene.frames, truth, strict=True):
            camera = frame.camera
            assert camera.model is CameraModel.OPENCV and camera.size == view.depth.shape
            for key, value in view.camera.params.items():
                assert camera.params[key] == pytest.approx(value, abs=1e-9), key
            np.testing.assert_allclose(frame.cam2world, view.cam2world, atol=1e-12)
            np.testing.assert_array_equal(frame.load("image_distorted"), view.image)

    def test_distorted_meta_as_the_reference_writes_it(self, converted) -> None:
        scene_dir = converted.root / SCENES[0]
        meta = json.loads((scene_dir / SCENE_META_DISTORTED).read_text())
        assert meta["dataset_name"] == "dl3dv" and meta["scale_type"] == "colmap"
        assert meta["camera_model"] == "OPENCV" and meta["shared_intrinsics"] is True
        for key, value in opencv_camera().params.items():
            assert meta[key] == value, key  # copied verbatim
        names = [f["frame_name"] for f in meta["frames"]]
        assert names == ["frame_00001", "frame_00002", "frame_00003"]
        first = meta["frames"][0]
        assert first["image_distorted"] == first["file_path"] == "images_distorted/frame_00001.png"
        assert (scene_dir / first["file_path"]).is_symlink() and first["colmap_im_id"] == 1
        assert (scene_dir / "colmap").is_symlink() and (scene_dir / "colmap" / "sparse" / "0").is_dir()
        assert meta["scene_modalities"] == {} and meta["colmap_model"] == "colmap"
        assert meta["frame_modalities"] == {
            "image_distorted": {"frame_key": "image_distorted", "format": "image"}
        }
        np.testing.assert_allclose(meta["_applied_transform"], np.vstack([APPLIED, [0, 0, 0, 1]]))
        assert meta["_applied_transforms"] == {"opengl2opencv": np.diag([1.0, -1, -1, 1]).tolist()}

    def test_poses_are_the_opencv_poses(self, converted) -> None:
        for name, views in converted.truth.items():
            scene = open_scene(converted.root / name, SCENE_META_DISTORTED)
            np.testing.assert_allclose(scene.poses, [v.cam2world for v in views], atol=1e-12)

    def test_undistort_gives_pinhole_frames(self, converted) -> None:
        scene = open_scene(converted.root / SCENES[0])
        assert scene.camera(0).model is CameraModel.PINHOLE and len(scene) == N_FRAMES
        image = scene.frames[0].load("image")
        assert image.shape[:2] == scene.camera(0).size and image.shape[0] >= 40  # cropped to the valid area


def test_portrait_scene_is_a_data_issue(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_dl3dv(raw)
    camera = opencv_camera()
    portrait = Camera(camera.model, 48, 64, {**camera.params, "cx": 23.5, "cy": 31.5})
    write_scene(raw / "2K" / "abcd", render_views(2, seed=3, camera=portrait), portrait)
    result = run_cli(["convert", "dl3dv", "--src", raw, "--dst", tmp_path / "wai"])
    log = json.loads((tmp_path / "wai" / "2K_abcd" / "_process_log.json").read_text())
    assert log["conversion"]["state"] == "data_issue" and "portrait" in log["conversion"]["message"]
    assert not (tmp_path / "wai" / "2K_abcd" / SCENE_META_DISTORTED).exists()
    assert "2K_abcd" in result.output


@pytest.mark.parametrize("name", ["a_b"])
def test_hash_with_underscore_is_refused(tmp_path: Path, name: str) -> None:
    raw = tmp_path / "raw"
    write_dl3dv(raw)
    (raw / "1K" / name).mkdir()
    result = run_cli(["convert", "dl3dv", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code != 0 and name in result.output


def test_dl3dv_pipeline_to_depth_confidence(tmp_path: Path) -> None:
    """convert -> undistort -> ingest-depth (MVS depth made elsewhere) -> covis -> depth-consistency, as the
    reference's DL3DV launch runs it; the ingested depth is the exact depth of the undistorted frames."""
    from wai.synthetic import make_scene, render

    raw, root, mvs = tmp_path / "raw", tmp_path / "wai", tmp_path / "mvs"
    write_dl3dv(raw)
    for command in (["convert", "dl3dv", "--src", raw, "--dst", root], ["undistort", root]):
        result = run_cli(command)
        assert result.exit_code == 0, result.output
    for seed, name in enumerate(SCENES):
        scene = open_scene(root / name)
        synthetic = make_scene(20 + seed, "room")
        for frame in scene.frames:
            cam = frame.camera
            view = render(synthetic, frame.cam2world, K=cam.K, width=cam.width, height=cam.height)
            (mvs / name).mkdir(parents=True, exist_ok=True)
            np.save(mvs / name / f"{frame.name}.npy", np.where(view.valid, view.depth, 0).astype(np.float32))
    for command in (
        ["ingest-depth", root, "--from", mvs, "--name", "mvsanywhere"],
        ["covis", root],
        ["depth-consistency", root, "--target-size", "0"],
    ):
        result = run_cli(command)
        assert result.exit_code == 0 and "2 done" in result.output, (command, result.output)
    scene = open_scene(root / SCENES[0])
    assert scene.meta["scene_modalities"]["pairwise_covisibility"]["scene_key"].startswith(
        "covisibility/v0_mvsa_based/"
    )
    conf = scene.frames[1].load("depth_confidence/mvsanywhere")
    assert conf.shape == scene.camera(1).size and np.median(conf[conf > 0]) == 1.0 and (conf > 0).mean() > 0.5
