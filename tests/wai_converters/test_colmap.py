"""`wai convert colmap` on COLMAP captures rendered from known geometry: text and binary models, dense depth maps,
distorted cameras, and damaged inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wai
from tests.wai_converters.fixtures.colmap import write_colmap_capture
from tests.wai_converters.fixtures.common import pinhole_camera, render_views
from wai.camera import Camera, CameraModel
from wai.scene import SCENE_META_DISTORTED
from wai_converters.colmap_model import read_depth_map, write_depth_map
from wai_converters.testing import BadRaw, ConverterTest, run_cli


def _simple_pinhole() -> Camera:
    p = pinhole_camera().params
    return Camera(CameraModel.SIMPLE_PINHOLE, 64, 48, {"fl_x": p["fl_x"], "cx": 31.2, "cy": 23.7})


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_depth_shape(root: Path) -> None:
    path = root / "garden" / "stereo" / "depth_maps" / "IMG_0002.png.geometric.bin"
    write_depth_map(path, np.ones((24, 32), np.float32))


def _cut_images_txt(root: Path) -> None:
    path = root / "garden" / "sparse" / "0" / "images.txt"
    lines = path.read_text().splitlines()
    lines[6] = " ".join(lines[6].split()[:7])  # a pose line that lost its last fields
    path.write_text("\n".join(lines) + "\n")


class TestColmapDense(ConverterTest):
    """A folder of two captures: a text model with geometric depth maps, a binary one with photometric maps."""

    converter = "colmap"
    expected_scenes = {"garden": 4, "hall": 5}
    bad_raw = (
        BadRaw(
            "missing_cameras_file", lambda r: (r / "garden/sparse/0/cameras.txt").unlink(), "cameras.txt/.bin"
        ),
        BadRaw("truncated_image", lambda r: _truncate(r / "garden/images/IMG_0003.png"), "IMG_0003.png"),
        BadRaw("depth_wrong_shape", _wrong_depth_shape, "IMG_0002.png.geometric.bin"),
        BadRaw("pose_line_too_short", _cut_images_txt, "images.txt', line 7: 7 fields"),
        BadRaw(
            "missing_image",
            lambda r: (r / "garden/images/IMG_0004.png").unlink(),
            "1 of 4 images listed in images.txt are missing (converted the other 3): IMG_0004.png",
            fails=False,
        ),
    )

    def make_raw(self, root: Path) -> dict:
        garden = render_views(4, seed=1, kind="room", camera=_simple_pinhole())
        hall = render_views(5, seed=2, kind="outdoor")
        write_colmap_capture(root / "garden", garden, depth="geometric")
        names = [f"DSC{i:05d}.jpg" for i in (7, 8, 9, 10, 11)]  # natural order: 7 < 10
        write_colmap_capture(root / "hall", hall, binary=True, depth="photometric", names=names)
        return {"garden": garden, "hall": hall}


class TestColmapSparseOnly(ConverterTest):
    """--src is the capture itself; no depth maps: the scene converts and says what works without depth."""

    converter = "colmap"
    expected_scenes = {"raw": 3}
    check_depth = False

    def make_raw(self, root: Path) -> dict:
        views = render_views(3, seed=4, kind="objects")
        write_colmap_capture(root, views)
        return {"raw": views}

    def test_reports_no_depth(self, converted) -> None:
        assert (
            "raw: no depth: pose and ray training work; covisibility and depth losses need depth"
            in converted.output
        )
        info = run_cli(["info", converted.root / "raw"])
        assert "no depth: pose and ray training work" in info.output


def _opencv() -> Camera:
    p = pinhole_camera().params
    return Camera(CameraModel.OPENCV, 64, 48, {**p, "k1": -0.12, "k2": 0.03, "p1": 0.001, "p2": -0.002})


class TestColmapDistorted(ConverterTest):
    """An OPENCV camera: written to scene_meta_distorted.json with its model, then `wai undistort`."""

    converter = "colmap"
    expected_scenes = {"lens": 4}
    post_commands = (("undistort",),)
    options = {"depth": "geometric"}

    def make_raw(self, root: Path) -> None:
        write_colmap_capture(
            root / "lens", render_views(4, seed=3, kind="room", camera=_opencv()), depth="geometric"
        )
        return None

    def test_distorted_meta_keeps_the_model(self, converted) -> None:
        scene = wai.open_scene(converted.root / "lens", SCENE_META_DISTORTED)
        views = render_views(4, seed=3, kind="room", camera=_opencv())
        assert scene.frame_modality_names == ["image_distorted", "depth_distorted"]
        for frame, view in zip(scene.frames, views, strict=True):
            assert frame.camera.model is CameraModel.OPENCV
            for key, value in view.camera.params.items():
                assert frame.camera.params[key] == pytest.approx(value, abs=1e-9), key
            np.testing.assert_allclose(frame.cam2world, view.cam2world, atol=1e-9)
            depth = frame.load("depth_distorted")
            np.testing.assert_allclose(depth[view.valid], view.depth[view.valid], rtol=1e-3)
        assert "run `wai undistort` next" in converted.output
        assert wai.open_scene(converted.root / "lens").camera(0).model is CameraModel.PINHOLE


def test_depth_map_round_trip_and_truncation(tmp_path: Path) -> None:
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_depth_map(tmp_path / "d.bin", depth)
    assert (tmp_path / "d.bin").read_bytes().startswith(b"4&3&1&")
    np.testing.assert_array_equal(read_depth_map(tmp_path / "d.bin"), depth)
    _truncate(tmp_path / "d.bin")
    with pytest.raises(wai.WaiFormatError, match="d.bin.*expected 48 for 4x3 float32"):
        read_depth_map(tmp_path / "d.bin")


def test_source_without_a_model_names_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run_cli(["convert", "colmap", "--src", tmp_path / "empty", "--dst", tmp_path / "out"])
    assert result.exit_code != 0
    assert "no COLMAP model in capture" in result.output and "sparse/0" in result.output
