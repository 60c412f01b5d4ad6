"""UnrealStereo4K: conformance on a raw fixture in the release layout, and bad raw inputs named in the error."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from tests.wai_converters.fixtures.unrealstereo4k import SCENES, write_unrealstereo4k
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = next(iter(SCENES))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_line(path: Path) -> None:
    path.write_text(path.read_text().splitlines()[0] + "\n")


class TestUnrealStereo4K(ConverterTest):
    converter = "unrealstereo4k"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: (raw / SCENE / "Extrinsics1" / "00007.txt").unlink(),
            "00007.txt",
        ),
        BadRaw(
            "truncated_image", lambda raw: _truncate(raw / SCENE / "Image1" / "00000.png"), "Image1/00000.png"
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: np.save(raw / SCENE / "Disp0" / "00007.npy", np.ones((10, 12), np.float32)),
            "Disp0/00007.npy",
        ),
        BadRaw(
            "pose_too_few_rows",
            lambda raw: _drop_line(raw / SCENE / "Extrinsics0" / "00000.txt"),
            "00000.txt",
        ),
        BadRaw(
            "no_left_images",
            lambda raw: [p.unlink() for p in (raw / SCENE / "Image0").glob("*.png")],
            "Image0': no .png images",
        ),
        BadRaw(
            "no_left_image_folder",
            lambda raw: shutil.rmtree(raw / SCENE / "Image0"),
            "missing left image folder",
        ),
    )

    def make_raw(self, root: Path):
        return write_unrealstereo4k(root)

    def test_frame_names_links_and_recorded_flip(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        assert [f.name for f in scene.frames] == ["00000_cam0", "00000_cam1", "00007_cam0", "00007_cam1"]
        assert (scene.path / "images" / "00000_cam1.png").resolve() == (
            converted.raw / SCENE / "Image1" / "00000.png"
        )
        assert (
            scene.meta["_applied_transforms"]["unreal_world_y_flip"]
            == np.diag([1.0, -1.0, 1.0, 1.0]).tolist()
        )
        # The two cameras of a pair are one baseline apart along the left camera's x axis.
        left, right = scene.frames[0].cam2world, scene.frames[1].cam2world
        np.testing.assert_allclose(np.linalg.inv(left) @ right[:, 3], [0.4, 0, 0, 1], atol=1e-6)


class TestUnrealStereo4KProperRotations(ConverterTest):
    """Raw rotations with det +1: the world is not flipped (the flip would make reflections); same geometry."""

    converter = "unrealstereo4k"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL

    def make_raw(self, root: Path):
        return write_unrealstereo4k(root, left_handed=False)

    def test_no_flip_recorded(self, converted) -> None:
        assert "_applied_transforms" not in open_scene(converted.root / SCENE).meta


def test_mixed_handedness_is_an_error(tmp_path: Path) -> None:
    from tests.wai_converters.fixtures.unrealstereo4k import write_extrinsics

    raw = tmp_path / "raw"
    truth = write_unrealstereo4k(raw)
    view = truth[SCENE][3]
    write_extrinsics(raw / SCENE / "Extrinsics1" / "00007.txt", view.K, view.cam2world, left_handed=False)
    result = run_cli(["convert", "unrealstereo4k", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code != 0 and "Extrinsics1/00007.txt" in result.output, result.output
