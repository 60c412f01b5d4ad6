"""`wai.info`: scene and dataset summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.factories import H, W, make_scene
from wai.errors import WaiFileNotFoundError
from wai.info import DEPTH_SAMPLE_FRAMES, dataset_info, human_bytes, sample_indices, scene_info


def test_scene_info(scene_dir: Path) -> None:
    info = scene_info(scene_dir)
    assert (info.name, info.dataset_name, info.scale_type, info.frames) == ("scene_a", "unit", "metric", 3)
    assert info.resolutions == {f"{W}x{H}": 3}
    assert info.camera_models == {"PINHOLE": 3}
    assert info.frame_modalities == ["image", "depth"]
    assert info.scene_modalities == []
    assert info.depth_modality == "depth"
    assert info.depth_min == pytest.approx(1.0) and info.depth_max == pytest.approx(3.0, rel=1e-3)
    assert info.depth_frames_sampled == ["000000", "000001", "000002"]
    on_disk = sum(p.stat().st_size for p in scene_dir.rglob("*") if p.is_file())
    assert info.disk_bytes == on_disk
    text = info.describe()
    assert "frames           3" in text
    assert "(valid pixels of 3 of 3 frames, evenly spaced; modality 'depth')" in text
    assert json.loads(json.dumps(info.to_dict()))["frames"] == 3


def test_depth_range_ignores_invalid_pixels_and_samples_evenly(tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "long", n_frames=12)
    info = scene_info(scene)
    assert len(info.depth_frames_sampled) == DEPTH_SAMPLE_FRAMES
    assert info.depth_frames_sampled[0] == "000000" and info.depth_frames_sampled[-1] == "000011"


def test_sample_indices() -> None:
    assert sample_indices(0) == []
    assert sample_indices(3) == [0, 1, 2]
    assert sample_indices(100, 5) == [0, 25, 50, 74, 99]


def test_scene_without_depth(scene_dir: Path) -> None:
    meta_path = scene_dir / "scene_meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["frame_modalities"]["depth"]
    meta_path.write_text(json.dumps(meta))
    info = scene_info(scene_dir)
    assert info.depth_modality is None and info.depth_min is None
    assert (
        info.depth_text() == "no depth: pose and ray training work; covisibility and depth losses need depth"
    )


def test_missing_depth_file_is_a_warning(scene_dir: Path) -> None:
    (scene_dir / "depth" / "000001.exr").unlink()
    info = scene_info(scene_dir)
    assert info.depth_frames_sampled == ["000000", "000002"]
    assert len(info.warnings) == 1 and "000001" in info.warnings[0]


def test_dataset_info(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "s1", n_frames=2)
    make_scene(root / "s2", n_frames=3)
    (root / "s3").mkdir()
    info = dataset_info(root)
    assert [s.name for s in info.scenes] == ["s1", "s2"]
    assert info.unreadable == {"s3": "no scene_meta.json (conversion not finished)"}
    assert info.total_frames == 5
    assert info.total_disk_bytes == sum(s.disk_bytes for s in info.scenes)
    data = info.to_dict()
    assert data["total"]["frames"] == 5 and data["total"]["scenes"] == 2
    assert data["total"]["depth_min"] == pytest.approx(1.0)
    lines = info.table().splitlines()
    assert lines[0].split()[:3] == ["scene", "dataset", "frames"]
    assert lines[1].startswith("s1") and lines[2].startswith("s2")
    assert lines[4].startswith("total (2)") and " 5 " in lines[4]
    assert "unreadable scene 's3'" in lines[-1]


def test_missing_scene_raises(tmp_path: Path) -> None:
    with pytest.raises(WaiFileNotFoundError):
        scene_info(tmp_path / "nope")


def test_human_bytes() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(int(np.float64(3 * 1024**3))) == "3.0 GiB"


def test_root_without_scene_folders_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "root" / "_submitit").mkdir(parents=True)
    summary = dataset_info(tmp_path / "root")
    assert not summary.ok and summary.to_dict()["errors"] == [
        {"scene": None, "error": f"no scenes under '{tmp_path / 'root'}'"}
    ]
