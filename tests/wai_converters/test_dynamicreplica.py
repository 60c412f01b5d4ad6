"""`wai convert dynamicreplica` on a fixture in Dynamic Replica's layout (PyTorch3D cameras, float16-bit depth)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from tests.wai_converters.fixtures.dynamicreplica import SCENES, SEQUENCES, write_dynamicreplica
from wai import open_scene
from wai_converters.testing import BadRaw, ConverterTest, FixtureView

LEFT = f"{SEQUENCES[0]}_source_left"


def _drop_annotation(raw: Path) -> None:
    path = raw / "frame_annotations_train.jgz"
    with gzip.open(path, "rt") as handle:
        records = json.load(handle)
    with gzip.open(path, "wt") as handle:
        json.dump(records[1:], handle)


def _depth_8bit(raw: Path) -> None:
    import cv2

    path = raw / LEFT / "depths" / f"{LEFT}_0001.geometric.png"
    cv2.imwrite(str(path), np.zeros((48, 64), np.uint8))


class TestDynamicReplica(ConverterTest):
    converter = "dynamicreplica"
    expected_scenes = {name: 4 for name in SCENES}
    bad_raw = (
        BadRaw(
            "missing annotation file",
            lambda raw: (raw / "frame_annotations_test.jgz").unlink(),
            "frame_annotations_test.jgz",
        ),
        BadRaw(
            "annotation not gzip",
            lambda raw: (raw / "frame_annotations_valid.jgz").write_text("[]"),
            "frame_annotations_valid.jgz",
        ),
        BadRaw("frame without annotation", _drop_annotation, f"{LEFT}-0000.png"),
        BadRaw(
            "missing depth",
            lambda raw: (raw / LEFT / "depths" / f"{LEFT}_0000.geometric.png").unlink(),
            f"{LEFT}_0000.geometric.png",
        ),
        BadRaw("8-bit depth", _depth_8bit, f"{LEFT}_0001.geometric.png"),
        BadRaw(
            "truncated image",
            lambda raw: (raw / LEFT / "images" / f"{LEFT}-0001.png").write_bytes(b"\x89PNG\r\n"),
            f"{LEFT}-0001.png",
        ),
    )

    def make_raw(self, root: Path) -> Mapping[str, Sequence[FixtureView]]:
        return write_dynamicreplica(root)

    def test_frames_and_meta_as_the_reference_writes_them(self, converted) -> None:
        scene_dir = converted.root / SCENES[0]
        meta = json.loads((scene_dir / "scene_meta.json").read_text())
        names = [f["frame_name"] for f in meta["frames"]]
        seq = SEQUENCES[0]
        assert names == [f"{seq}_source_{s}-{i}" for i in ("0000", "0001") for s in ("left", "right")]
        assert meta["shared_intrinsics"] is False and meta["camera_model"] == "PINHOLE"
        assert meta["scale_type"] == "metric" and meta["scene_modalities"] == {}
        first = meta["frames"][0]
        assert first["image"] == first["file_path"] == f"images/{names[0]}.png"
        assert (scene_dir / first["image"]).is_symlink()
        assert Path((scene_dir / first["image"]).readlink()).is_absolute()
        assert first["depth"] == f"depth/{names[0]}.exr"
        assert first["h"] == 48 and first["w"] == 64
        assert set(meta["frame_modalities"]) == {"image", "depth"}

    def test_poses_are_the_rendered_opencv_poses(self, converted) -> None:
        for name, views in converted.truth.items():
            scene = open_scene(converted.root / name)
            np.testing.assert_allclose(scene.poses, [v.cam2world for v in views], atol=1e-9)
