"""MegaDepth: conformance on a raw fixture in the release layout, the pair-list frame selection, and bad raw
inputs named in the error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.megadepth import SCENES, image_name, write_megadepth
from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest, run_cli

SCENE = next(iter(SCENES))
DENSE = "0000/dense0"
MODEL = "0000/sparse/manhattan/0"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _wrong_shape(path: Path) -> None:
    from tests.wai_converters.fixtures.megadepth import write_depth_h5

    write_depth_h5(path, np.ones((10, 12), np.float32))


def _cut_pose(path: Path) -> None:
    lines = path.read_text().splitlines()
    lines[4] = " ".join(lines[4].split()[:6])  # the first image line loses TY TZ CAMERA_ID NAME
    path.write_text("\n".join(lines) + "\n")


def _stem(i: int) -> str:
    return Path(image_name(0, i)).stem


class TestMegaDepth(ConverterTest):
    converter = "megadepth"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw("missing_camera_file", lambda raw: (raw / MODEL / "cameras.txt").unlink(), "cameras.txt"),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / DENSE / "imgs" / image_name(0, 1)),
            f"imgs/{image_name(0, 1)}",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: _wrong_shape(raw / DENSE / "depths" / f"{_stem(2)}.h5"),
            f"depths/{_stem(2)}.h5",
        ),
        BadRaw("pose_too_few_rows", lambda raw: _cut_pose(raw / MODEL / "images.txt"), "images.txt"),
        BadRaw(
            "truncated_depth",
            lambda raw: _truncate(raw / DENSE / "depths" / f"{_stem(0)}.h5"),
            f"{_stem(0)}.h5",
        ),
        BadRaw(
            "missing_pair_list", lambda raw: (raw / "megadepth_pairs.npz").unlink(), "megadepth_pairs.npz"
        ),
        BadRaw(
            "missing_depth_left_out",
            lambda raw: (raw / DENSE / "depths" / f"{_stem(3)}.h5").unlink(),
            f"dense0/depths/{_stem(3)}.h5",
            fails=False,
        ),
    )

    def make_raw(self, root: Path):
        return write_megadepth(root)

    def test_frames_links_and_meta(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        assert [f.name for f in scene.frames] == [
            _stem(i) for i in range(4)
        ]  # the unpaired image is left out
        assert scene.meta["dataset_name"] == "megadepth" and scene.meta["scale_type"] == "colmap"
        link = scene.path / "images" / image_name(0, 0)
        assert link.is_symlink() and link.resolve() == converted.raw / DENSE / "imgs" / image_name(0, 0)
        assert scene.meta["frames"][0]["depth"] == f"depth/{_stem(0)}.exr"
        camera = scene.frames[0].camera
        assert (camera.params["cx"], camera.params["cy"]) == (31.5, 23.5)  # OpenCV's centre, WAI's convention


def test_subscene_without_pairs_is_skipped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_megadepth(raw)
    (raw / "0000" / "dense2" / "imgs").mkdir(parents=True)
    result = run_cli(["convert", "megadepth", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    assert "2 done, 1 skipped, 0 failed" in result.output and "0000 2" in result.output, result.output


def test_selected_image_without_pose_fails(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_megadepth(raw)
    path = raw / MODEL / "images.txt"
    lines = path.read_text().splitlines()
    keep = [i for i in range(4, len(lines), 2) if not lines[i].endswith(image_name(0, 2))]
    path.write_text("\n".join(lines[:4] + [ln for i in keep for ln in lines[i : i + 2]]) + "\n")
    result = run_cli(["convert", "megadepth", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code != 0 and image_name(0, 2) in result.output and "images.txt" in result.output


def test_points3d_is_not_read(tmp_path: Path) -> None:
    """The reference reads only cameras.txt and images.txt: a points3D.txt whose track names an image the model
    lacks must not fail the subscene."""
    raw = tmp_path / "raw"
    write_megadepth(raw)
    (raw / MODEL / "points3D.txt").write_text(
        "# 3D point list with one line of data per point:\n1 0.5 0.25 4.0 200 10 10 0.7 99 0 1 0\n"
    )
    result = run_cli(["convert", "megadepth", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0 and "2 done, 0 skipped, 0 failed" in result.output, result.output
