"""SAIL-VOS 3D: conformance on a raw fixture in the release layout, NDC depth decoding, and bad raw inputs named
in the error."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import yaml

from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from tests.wai_converters.fixtures.sailvos3d import SCENES, frame_id, write_sailvos3d
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = next(iter(SCENES))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _two_rows(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    data["Rt"] = data["Rt"][:2]
    path.write_text(yaml.safe_dump(data))


class TestSailVos3D(ConverterTest):
    converter = "sailvos3d"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_matrices",
            lambda raw: (raw / SCENE / "rage_matrices" / f"{frame_id(1)}.npz").unlink(),
            f"rage_matrices/{frame_id(1)}.npz",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / SCENE / "images" / f"{frame_id(2)}.bmp"),
            f"{frame_id(2)}.bmp",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: np.save(raw / SCENE / "depth" / f"{frame_id(3)}.npy", np.ones((10, 12), np.float32)),
            f"depth/{frame_id(3)}.npy",
        ),
        BadRaw(
            "pose_too_few_rows", lambda raw: _two_rows(raw / SCENE / "camera" / f"{frame_id(0)}.yaml"), "yaml"
        ),
        BadRaw(
            "missing_camera_file_left_out",
            lambda raw: (raw / SCENE / "camera" / f"{frame_id(1)}.yaml").unlink(),
            f"images/{frame_id(1)}.bmp (no camera file)",
            fails=False,
        ),
        BadRaw("missing_images_folder", lambda raw: shutil.rmtree(raw / SCENE / "images"), f"{SCENE}/images"),
    )

    def make_raw(self, root: Path):
        return write_sailvos3d(root)

    def test_frames_png_depth_and_transform(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        assert [f.name for f in scene.frames] == [
            frame_id(i) for i in range(4)
        ]  # the image-less camera is left out
        assert f"camera/{999:018d}.yaml (no image)" in converted.output
        assert scene.meta["dataset_name"] == "sailvos3d" and scene.meta["scale_type"] == "metric"
        assert "opengl2opencv" in scene.meta["_applied_transforms"]
        assert not (scene.path / "_bmp_to_png").exists()
        for frame, view in zip(scene.frames, converted.truth[SCENE], strict=True):
            np.testing.assert_allclose(frame.cam2world, view.cam2world, atol=1e-6)
            depth = frame.load("depth")
            assert np.all(depth[~view.valid] == 0)  # sky
            np.testing.assert_allclose(depth[view.valid], view.depth[view.valid], rtol=1e-3)
        # BGRA BMPs become PNGs that keep their alpha channel (OpenCV IMREAD_UNCHANGED, as the reference).
        other = open_scene(converted.root / "fam_6_mcs_1")
        png = cv2.imread(str(other.path / other.meta["frames"][0]["image"]), cv2.IMREAD_UNCHANGED)
        assert png.shape == (48, 64, 4)


def test_no_common_id_fails(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_sailvos3d(raw)
    for path in (raw / SCENE / "images").glob("*.bmp"):
        path.rename(path.with_name("x" + path.name))
    result = run_cli(["convert", "sailvos3d", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code != 0 and "no id has both" in result.output, result.output


def test_opencv_filestorage_camera_file(tmp_path: Path) -> None:
    """A camera file written by OpenCV (``!!opencv-matrix`` nodes) reads the same."""
    raw = tmp_path / "raw"
    truth = write_sailvos3d(raw)
    path = raw / SCENE / "camera" / f"{frame_id(1)}.yaml"
    data = yaml.safe_load(path.read_text())
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    storage.write("K", np.array(data["K"]))
    storage.write("Rt", np.array(data["Rt"]))
    storage.release()
    assert "!!opencv-matrix" in path.read_text()
    result = run_cli(["convert", "sailvos3d", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    frame = open_scene(tmp_path / "wai" / SCENE).frames[1]
    np.testing.assert_allclose(frame.cam2world, truth[SCENE][1].cam2world, atol=1e-6)
