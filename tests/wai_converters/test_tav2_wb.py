"""TartanAir V2 wide-baseline: conformance on a raw fixture in the extracted layout, and bad raw inputs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from tests.wai_converters.fixtures.tav2_wb import SCENES, write_tav2_wb
from wai import io
from wai_converters.testing import BadRaw, ConverterTest

ENV = next(iter(SCENES))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


class TestTartanAirV2WB(ConverterTest):
    converter = "tav2_wb"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw(
            "missing_camera_file",
            lambda raw: (raw / ENV / "camera_params" / "00000030_1.npy").unlink(),
            "00000030_1.npy",
        ),
        BadRaw(
            "truncated_image",
            lambda raw: _truncate(raw / ENV / "images" / "00000021_1.png"),
            "00000021_1.png",
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: io.store(
                raw / ENV / "depth" / "00000021_0.exr", np.ones((10, 12), np.float32), "depth"
            ),
            "00000021_0.exr",
        ),
        BadRaw(
            "pose_too_few_rows",
            lambda raw: np.save(raw / ENV / "poses" / "00000030_0.npy", np.eye(4)[:3]),
            "00000030_0.npy",
        ),
    )

    def make_raw(self, root: Path):
        return write_tav2_wb(root)

    def test_images_and_depth_are_links(self, converted) -> None:
        scene = converted.root / ENV
        for sub, suffix in (("images", ".png"), ("depth", ".exr")):
            link = scene / sub / f"00000021_0{suffix}"
            assert link.is_symlink() and os.path.samefile(link, converted.raw / ENV / sub / link.name)
