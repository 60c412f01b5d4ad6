"""AerialMegaDepth: conformance on a raw fixture in the release layout, sky masks, frame selection, and bad raw
inputs named in the error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.aerialmegadepth import (
    DENSE,
    SCENES,
    SKY_ROWS,
    image_name,
    write_aerialmegadepth,
)
from tests.wai_converters.fixtures.megadepth import write_depth_h5
from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = next(iter(SCENES))
BASE = f"{SCENE}/{DENSE}"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _cut_pose(path: Path) -> None:
    lines = path.read_text().splitlines()
    lines[4] = " ".join(lines[4].split()[:7])
    path.write_text("\n".join(lines) + "\n")


def _stem(i: int) -> str:
    return Path(image_name(SCENE, i)).stem


class TestAerialMegaDepth(ConverterTest):
    converter = "aerialmegadepth"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: (raw / BASE / "sparse-txt" / "cameras.txt").unlink(),
            "cameras.txt",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / BASE / "images" / image_name(SCENE, 1)),
            f"images/{image_name(SCENE, 1)}",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: write_depth_h5(raw / BASE / "depths" / f"{_stem(2)}.h5", np.ones((10, 12))),
            f"depths/{_stem(2)}.h5",
        ),
        BadRaw(
            "pose_too_few_rows", lambda raw: _cut_pose(raw / BASE / "sparse-txt" / "images.txt"), "images.txt"
        ),
        BadRaw(
            "missing_sky_mask",
            lambda raw: (raw / "aerialmegadepth_segmasks" / SCENE / f"{image_name(SCENE, 3)}.png").unlink(),
            f"{image_name(SCENE, 3)}.png",
        ),
        BadRaw(
            "missing_depth", lambda raw: (raw / BASE / "depths" / f"{_stem(0)}.h5").unlink(), f"{_stem(0)}.h5"
        ),
        BadRaw(
            "missing_frame_list",
            lambda raw: (raw / "aerial_megadepth_all.npz").unlink(),
            "aerial_megadepth_all.npz",
        ),
    )

    def make_raw(self, root: Path):
        return write_aerialmegadepth(root)

    def test_names_links_sky_and_pixel_centre(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        assert [f.name for f in scene.frames] == [_stem(i) for i in range(4)]
        first = scene.meta["frames"][0]
        assert (
            first["image"] == f"images/{image_name(SCENE, 0)}" and first["depth"] == f"depth/{_stem(0)}.exr"
        )
        assert (scene.path / first["image"]).resolve() == converted.raw / BASE / "images" / image_name(
            SCENE, 0
        )
        assert scene.meta["dataset_name"] == "aerialmegadepth" and scene.meta["scale_type"] == "colmap"
        assert "colmap_pixel_centre" in scene.meta["_applied_transforms"]
        assert (first["cx"], first["cy"]) == (31.5, 23.5)
        assert np.all(scene.frames[0].load("depth")[:SKY_ROWS] == 0)


def test_scene_not_in_frame_list_is_skipped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_aerialmegadepth(raw)
    (raw / "0777" / "sfm_output_localization").mkdir(parents=True)
    result = run_cli(["convert", "aerialmegadepth", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    assert "2 done, 1 skipped, 0 failed" in result.output and "0777" in result.output, result.output


def test_points3d_is_not_read(tmp_path: Path) -> None:
    """The reference never reads points3D.txt: a track naming an image the model lacks must not fail the scene."""
    raw = tmp_path / "raw"
    write_aerialmegadepth(raw)
    (raw / BASE / "sparse-txt" / "points3D.txt").write_text(
        "# 3D point list with one line of data per point:\n1 0.5 0.25 4.0 200 10 10 0.7 99 0 1 0\n"
    )
    result = run_cli(["convert", "aerialmegadepth", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    assert len(open_scene(tmp_path / "wai" / SCENE).frames) == SCENES[SCENE]
