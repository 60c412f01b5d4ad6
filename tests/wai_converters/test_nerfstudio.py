"""`wai convert nerfstudio` on transforms.json captures rendered from known geometry: nerfstudio with 16-bit depth
and applied_transform, instant-ngp with fields of view, per-frame cameras and missing images, OPENCV distortion,
and damaged inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wai
from tests.wai_converters.fixtures.common import pinhole_camera, render_views
from tests.wai_converters.fixtures.nerfstudio import write_transforms_capture
from wai.camera import Camera, CameraModel
from wai.scene import SCENE_META_DISTORTED
from wai_converters.testing import BadRaw, ConverterTest

#: A rigid world change, as nerfstudio's COLMAP export records it in applied_transform.
APPLIED = np.array([[0.0, 1.0, 0.0, 0.2], [1.0, 0.0, 0.0, -0.1], [0.0, 0.0, -1.0, 0.3], [0.0, 0.0, 0.0, 1.0]])


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit_json(path: Path, edit) -> None:
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))


def _small_depth(root: Path) -> None:
    from wai import io

    io.store(root / "kitchen" / "depth" / "frame_00002.png", np.ones((24, 32), np.uint16), "png16", scale=1.0)


def _short_matrix(meta: dict) -> None:
    meta["frames"][1]["transform_matrix"] = meta["frames"][1]["transform_matrix"][:2]


class TestNerfstudioDepth(ConverterTest):
    """nerfstudio layout with millimetre depth PNGs and an applied_transform, two captures under --src."""

    converter = "nerfstudio"
    expected_scenes = {"kitchen": 4, "yard": 3}
    options = {"scale_type": "metric"}
    bad_raw = (
        BadRaw(
            "missing_transforms", lambda r: (r / "kitchen" / "transforms.json").unlink(), "transforms.json"
        ),
        BadRaw(
            "truncated_image", lambda r: _truncate(r / "kitchen/images/frame_00003.png"), "frame_00003.png"
        ),
        BadRaw("depth_wrong_shape", _small_depth, "depth/frame_00002.png"),
        BadRaw(
            "pose_too_few_rows",
            lambda r: _edit_json(r / "kitchen" / "transforms.json", _short_matrix),
            "frames[1].transform_matrix",
        ),
    )

    def make_raw(self, root: Path) -> dict:
        kitchen = render_views(4, seed=6, kind="room")
        yard = render_views(3, seed=7, kind="outdoor")
        write_transforms_capture(root / "kitchen", kitchen, depth=True, applied_transform=APPLIED)
        write_transforms_capture(root / "yard", yard, depth=True)
        return {"kitchen": kitchen, "yard": yard}

    def test_records_every_convention_change(self, converted) -> None:
        meta = json.loads((converted.root / "kitchen" / "scene_meta.json").read_text())
        assert meta["_applied_transforms"] == {
            "opengl2opencv": np.diag([1.0, -1, -1, 1]).tolist(),
            "pixel_centre": [[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]],
            "depth_unit_scale_factor": [[0.001]],
        }
        assert meta["_applied_transform"] == APPLIED.tolist()  # as the reference's DL3DV converter keeps it
        assert meta["scale_type"] == "metric" and meta["camera_model"] == "PINHOLE"

    def test_poses_are_the_rendered_opencv_poses(self, converted) -> None:
        views = render_views(4, seed=6, kind="room")
        scene = wai.open_scene(converted.root / "kitchen")
        np.testing.assert_allclose(scene.poses, [v.cam2world for v in views], atol=1e-12)


def _two_cameras(n: int) -> list:
    wide = render_views(n, seed=8, kind="objects")
    narrow_cam = pinhole_camera(fov_x=50.0)
    narrow = render_views(n, seed=8, kind="objects", camera=narrow_cam)
    return [wide[i] if i % 2 == 0 else narrow[i] for i in range(n)]


class TestInstantNgp(ConverterTest):
    """instant-ngp: camera_angle_x/y instead of focals, float w and h, per-frame cameras, paths without a suffix,
    and two listed frames whose images are missing (reported by name; the rest converts)."""

    converter = "nerfstudio"
    expected_scenes = {"raw": 4}
    check_depth = False

    def make_raw(self, root: Path) -> dict:
        views = _two_cameras(6)
        write_transforms_capture(root, views, variant="instant-ngp", per_frame_cameras=True, missing=(1, 4))
        return {"raw": [views[i] for i in (0, 2, 3, 5)]}

    def test_missing_images_are_reported(self, converted) -> None:
        assert (
            "2 of 6 images listed in transforms.json are missing (converted the other 4): ./images/r_1, ./images/r_4"
            in converted.output
        )
        scene = wai.open_scene(converted.root / "raw")
        assert [f.name for f in scene.frames] == ["r_0", "r_2", "r_3", "r_5"]
        assert not scene.meta["shared_intrinsics"]


def _opencv() -> Camera:
    p = pinhole_camera().params
    return Camera(CameraModel.OPENCV, 64, 48, {**p, "k1": 0.08, "k2": -0.02, "p1": -0.001, "p2": 0.0015})


class TestNerfstudioDistorted(ConverterTest):
    """OPENCV distortion with depth: scene_meta_distorted.json with the model, then `wai undistort`."""

    converter = "nerfstudio"
    expected_scenes = {"raw": 4}
    post_commands = (("undistort",),)

    def make_raw(self, root: Path) -> None:
        write_transforms_capture(root, render_views(4, seed=9, kind="room", camera=_opencv()), depth=True)
        return None

    def test_distorted_meta_keeps_the_model(self, converted) -> None:
        views = render_views(4, seed=9, kind="room", camera=_opencv())
        scene = wai.open_scene(converted.root / "raw", SCENE_META_DISTORTED)
        assert scene.frame_modality_names == ["image_distorted", "depth_distorted"]
        camera = scene.camera(0)
        assert camera.model is CameraModel.OPENCV
        for key, value in _opencv().params.items():
            assert camera.params[key] == pytest.approx(value, abs=1e-9), key
        for frame, view in zip(scene.frames, views, strict=True):
            depth = frame.load("depth_distorted")
            # millimetre PNG (0.5 mm), then half-float EXR (relative 4.9e-4)
            np.testing.assert_allclose(depth[view.valid], view.depth[view.valid], rtol=6e-4, atol=6e-4)


def _fisheye() -> Camera:
    p = pinhole_camera(fov_x=90.0).params
    return Camera(CameraModel.OPENCV_FISHEYE, 64, 48, {**p, "k1": 0.05, "k2": -0.01, "k3": 0.002, "k4": 0.0})


class TestInstantNgpFisheye(ConverterTest):
    """instant-ngp's is_fisheye flag with k1-k4: an OPENCV_FISHEYE scene, then `wai undistort`."""

    converter = "nerfstudio"
    expected_scenes = {"raw": 4}
    post_commands = (("undistort",),)
    check_depth = False

    def make_raw(self, root: Path) -> None:
        write_transforms_capture(
            root, render_views(4, seed=10, kind="room", camera=_fisheye()), variant="instant-ngp"
        )
        return None

    def test_fisheye_model_and_poses(self, converted) -> None:
        views = render_views(4, seed=10, kind="room", camera=_fisheye())
        scene = wai.open_scene(converted.root / "raw", SCENE_META_DISTORTED)
        camera = scene.camera(0)
        assert camera.model is CameraModel.OPENCV_FISHEYE
        for key, value in _fisheye().params.items():
            assert camera.params[key] == pytest.approx(value, abs=1e-9), key
        np.testing.assert_allclose(scene.poses, [v.cam2world for v in views], atol=1e-12)
