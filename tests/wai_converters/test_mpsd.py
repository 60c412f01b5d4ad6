"""MPSD: conformance on a raw fixture in the release layout, the too-small-reconstruction record, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.wai_converters.fixtures.mpsd import FOLDERS, RECON_SPLIT, SCENES, _key, write_mpsd
from tests.wai_converters.fixtures.nearby import DEPTH_RTOL
from wai import io
from wai_converters.testing import BadRaw, ConverterTest, run_cli

RECON = Path("reconstruction_data") / RECON_SPLIT / next(iter(FOLDERS))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_pose(raw: Path) -> None:
    path = raw / RECON / "reconstruction.json"
    recon = json.loads(path.read_text())
    recon[0]["shots"][_key(0, 2)]["rotation"] = [0.1, 0.2]
    path.write_text(json.dumps(recon))


class TestMPSD(ConverterTest):
    converter = "mpsd"
    expected_scenes = SCENES
    depth_rtol = DEPTH_RTOL
    bad_raw = (
        BadRaw("missing_camera_file", lambda raw: (raw / "val.json").unlink(), "val.json"),
        BadRaw(
            "truncated_image", lambda raw: _truncate(raw / "train" / f"{_key(0, 1)}.jpg"), f"{_key(0, 1)}.jpg"
        ),
        BadRaw(
            "depth_wrong_shape",
            lambda raw: cv2.imwrite(
                str(raw / "train" / f"{_key(0, 3)}.png"), np.ones((48, 64, 3), np.uint16)
            ),
            f"{_key(0, 3)}.png",
        ),
        BadRaw("pose_too_few_rows", _drop_pose, "reconstruction.json"),
    )

    def make_raw(self, root: Path):
        return write_mpsd(root)

    def test_frames_follow_image_list_in_natural_order(self, converted) -> None:
        meta = json.loads(
            (converted.root / f"{RECON_SPLIT}_{next(iter(FOLDERS))}" / "scene_meta.json").read_text()
        )
        assert [f["frame_name"] for f in meta["frames"]] == [_key(0, i) for i in range(4)]
        assert meta["frames"][0]["image"] == f"images/{_key(0, 0)}.jpg"
        assert meta["dataset_name"] == "mpsd" and meta["scale_type"] == "metric"


def test_reconstruction_with_one_frame_is_recorded_as_skipped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_mpsd(raw, extra_single=True)
    result = run_cli(["convert", "mpsd", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    meta = json.loads(
        (tmp_path / "wai" / "geoeven_4_2021-05-05T00_00_00.000000" / "scene_meta.json").read_text()
    )
    assert meta["frames"] == [] and meta["frame_modalities"] == {}
    assert "only 1 frame" in meta["skipped_reason"]
    again = run_cli(["convert", "mpsd", "--src", raw, "--dst", tmp_path / "wai"])
    assert "0 done, 3 skipped, 0 failed" in again.output, again.output


def test_portrait_frame_focal_is_relative_to_its_height(tmp_path: Path) -> None:
    """Mapillary has portrait images: the normalised focal scales with max(w, h), here the height; the principal
    point is the centre of the (depth-sized) image."""
    raw = tmp_path / "raw"
    write_mpsd(raw)
    key = _key(0, 2)
    focal = json.loads((raw / "train.json").read_text())[key]["focal"]
    depth_cm = np.full((64, 40), 250, np.uint16)
    depth_cm[:5] = 0
    cv2.imwrite(str(raw / "train" / f"{key}.png"), depth_cm)
    cv2.imwrite(str(raw / "train" / f"{key}.jpg"), np.full((128, 80, 3), 90, np.uint8))
    result = run_cli(["convert", "mpsd", "--src", raw, "--dst", tmp_path / "wai"])
    assert result.exit_code == 0, result.output
    scene = tmp_path / "wai" / f"{RECON_SPLIT}_{next(iter(FOLDERS))}"
    frame = next(
        f for f in json.loads((scene / "scene_meta.json").read_text())["frames"] if f["frame_name"] == key
    )
    assert (frame["w"], frame["h"]) == (40, 64)
    assert frame["fl_x"] == frame["fl_y"] == pytest.approx(focal * 64)
    assert (frame["cx"], frame["cy"]) == (pytest.approx(19.5), pytest.approx(31.5))
    assert cv2.imread(str(scene / frame["image"])).shape == (64, 40, 3)
    depth = io.load(scene / frame["depth"], "depth")
    assert depth[10, 10] == pytest.approx(2.5, rel=1e-3) and depth[0, 0] == 0
