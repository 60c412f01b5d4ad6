"""BlendedMVS: conformance on a raw fixture in the release layout, and bad raw inputs named in the error."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.blendedmvs import SCENES, write_blendedmvs
from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from wai_converters.pfm import read_pfm
from wai_converters.testing import BadRaw, ConverterTest

SCENE = next(iter(SCENES))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_rows(path: Path) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:3] + lines[5:]) + "\n")  # 'extrinsic' keeps 2 of its 4 rows


def _wrong_shape(path: Path) -> None:
    from tests.wai_converters.fixtures.blendedmvs import write_pfm

    write_pfm(path, np.ones((20, 30), dtype=np.float32))


class TestBlendedMVS(ConverterTest):
    converter = "blendedmvs"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: (raw / SCENE / "cams" / "00000001_cam.txt").unlink(),
            "00000001_cam.txt",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / SCENE / "blended_images" / "00000002.jpg"),
            "00000002.jpg",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: _wrong_shape(raw / SCENE / "rendered_depth_maps" / "00000001.pfm"),
            "00000001.pfm",
        ),
        BadRaw(
            "pose_too_few_rows",
            lambda raw: _drop_rows(raw / SCENE / "cams" / "00000003_cam.txt"),
            "00000003_cam.txt",
        ),
    )

    def make_raw(self, root: Path):
        return write_blendedmvs(root)


def test_pfm_big_endian_and_bottom_up(tmp_path: Path) -> None:
    """A positive scale means big-endian; rows are stored bottom-up; the scale's magnitude is ignored."""
    depth = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = tmp_path / "d.pfm"
    path.write_bytes(b"Pf\n4 3\n2.5\n" + np.flipud(depth).astype(">f4").tobytes())
    np.testing.assert_array_equal(read_pfm(path), depth)
