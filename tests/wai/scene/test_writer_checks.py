"""Writers check what they are given before writing anything, and never store NaN depth."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import wai
from tests.factories import H, W, make_scene, pinhole
from wai.atomic import TMP_MARKER


def _rgb(h: int = H, w: int = W) -> np.ndarray:
    return np.full((h, w, 3), 128, np.uint8)


def _files(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()
    )


def _rotation_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_image_size_must_match_the_camera(tmp_path: Path) -> None:
    writer = wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole())
    with pytest.raises(
        wai.WaiFormatError,
        match=r"scene 's', frame 'a', field 'image': .* is 20x16 \(WxH\) but the camera is 32x24",
    ):
        writer.add_frame("a", np.eye(4), image=_rgb(16, 20))
    with pytest.raises(wai.WaiFormatError, match="field 'depth'.*is 31x24"):
        writer.add_frame("a", np.eye(4), depth=np.ones((H, W - 1), np.float32))
    # a per-frame camera is the one that counts
    writer.add_frame(
        "b", np.eye(4), camera=pinhole(20, 16), image=_rgb(16, 20), depth=np.ones((1, 16, 20), np.float32)
    )
    assert _files(tmp_path / "s") == ["depth/b.exr", "images/b.png"]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.diag([1.01, 1.0, 1.0, 1.0]), "rotation part is not a rotation: max |R R^T - I| = 0.0201"),
        (np.diag([1.0, 1.0, -1.0, 1.0]), r"a reflection \(det < 0\)"),
        (np.vstack([np.eye(4)[:3], [0.0, 0.0, 1.0, 1.0]]), r"last row is \[0.0, 0.0, 1.0, 1.0\]"),
        (np.eye(3), r"expected a 4x4 matrix, got shape \(3, 3\)"),
        (np.where(np.eye(4) == 1, np.inf, 0.0), "expected finite numbers"),
    ],
)
def test_pose_must_be_rigid(tmp_path: Path, matrix: np.ndarray, message: str) -> None:
    writer = wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole())
    with pytest.raises(
        wai.WaiFormatError, match=r"scene 's', frame 'a', field 'transform_matrix': not a rigid"
    ) as info:
        writer.add_frame("a", matrix, image=_rgb())
    assert info.match(message)
    assert _files(tmp_path / "s") == []


def test_nearly_orthonormal_real_poses_are_accepted(tmp_path: Path) -> None:
    """Real captures are orthonormal to ~4e-4 (7-Scenes); the writer uses the validator's 1e-3 tolerance."""
    pose = np.eye(4)
    pose[:3, :3] = _rotation_z(0.3) * (1 + 2e-4)  # max |R R^T - I| = 4e-4
    with wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole()) as writer:
        writer.add_frame("a", pose)
    np.testing.assert_allclose(wai.open_scene(tmp_path / "s").frames[0].cam2world, pose)


def test_nan_depth_is_written_as_zero_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    depth = np.full((H, W), 2.0, np.float32)
    depth[0, :3] = np.nan
    depth[1, 0] = np.inf
    with wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole()) as writer:
        writer.add_frame("a", np.eye(4), depth=depth)
        writer.add_frame("b", np.eye(4), depth=np.ones((H, W), np.float32))
        summary = writer.summary
    assert summary.nonfinite_depth == {"a": 4} and summary.nonfinite_depth_pixels == 4 and summary.frames == 2
    assert (
        str(summary) == "scene 's': 2 frame(s); 4 NaN/inf depth pixel(s) in 1 frame(s) written as 0 (invalid)"
    )
    assert [r.getMessage() for r in caplog.records if r.name == "wai.scene.writer"] == [str(summary)]
    assert np.isnan(depth[0, 0])  # the caller's array is untouched
    stored = wai.open_scene(tmp_path / "s").frames[0].depth
    assert np.isfinite(stored).all()
    np.testing.assert_array_equal(stored[0, :3], 0.0)
    assert stored[1, 0] == 0.0 and stored[1, 1] == 2.0
    assert wai.validate.validate(tmp_path / "s", deep=True).ok


def test_all_nan_and_negative_depth_are_errors(tmp_path: Path) -> None:
    writer = wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole())
    with pytest.raises(
        wai.WaiFormatError, match=f"frame 'a', field 'depth': depth has no finite pixel \\({H * W} NaN"
    ):
        writer.add_frame("a", np.eye(4), image=_rgb(), depth=np.full((H, W), np.nan, np.float32))
    negative = np.ones((H, W), np.float32)
    negative[2, 3] = -1.0
    with pytest.raises(wai.WaiFormatError, match="negative depth"):
        writer.add_frame("a", np.eye(4), depth=negative)
    assert _files(tmp_path / "s") == []
    assert writer.summary.frames == 0


def test_nothing_is_written_before_every_modality_is_checked(tmp_path: Path) -> None:
    writer = wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole())
    with pytest.raises(wai.WaiFormatError, match="unknown modality 'rgb'"):
        writer.add_frame("a", np.eye(4), image=_rgb(), rgb=_rgb())
    with pytest.raises(wai.WaiFileNotFoundError, match="field 'depth': source file .* does not exist"):
        writer.add_frame("a", np.eye(4), image=_rgb(), depth=tmp_path / "missing.exr")
    with pytest.raises(wai.WaiFormatError, match="field 'transform_matrix': extra keys may not replace"):
        writer.add_frame("a", np.eye(4), image=_rgb(), extra={"transform_matrix": 1})
    assert _files(tmp_path / "s") == []


def test_write_frame_modality_checks_before_writing(scene_dir: Path) -> None:
    scene = wai.open_scene(scene_dir)
    before = _files(scene_dir)
    for bad in ("a/b/c", "a/", "/a"):
        with pytest.raises(wai.WaiFormatError, match=f"modality '{bad}': expected 'name' or 'group/name'"):
            scene.write_frame_modality(bad, 0, np.ones((H, W), np.float32), format="depth")
    with pytest.raises(
        wai.WaiFormatError, match="field 'normals': .* is 16x8 \\(WxH\\) but the camera is 32x24"
    ):
        scene.write_frame_modality("normals", 0, np.zeros((8, 16, 3), np.float32), format="normals")
    with pytest.raises(wai.WaiFormatError, match="NaN or infinite"):
        scene.write_frame_modality("pred_depth/x", 0, np.full((H, W), np.nan, np.float32), format="depth")
    with pytest.raises(wai.WaiFormatError, match="expects a file ending in .exr"):
        scene.write_frame_modality("d", 0, np.ones((H, W), np.float32), format="depth", rel_path="d/0.png")
    assert _files(scene_dir) == before
    assert "a" not in scene.meta["frame_modalities"] and "normals" not in scene.meta["frame_modalities"]


@pytest.mark.parametrize("mode", ["copy", "symlink", "hardlink"])
def test_linked_files_replace_atomically(tmp_path: Path, mode: str) -> None:
    source = make_scene(tmp_path / "src", n_frames=2)
    images = [source / "images/000000.png", source / "images/000001.png"]
    out = tmp_path / "out"
    out.mkdir()
    (out / "images").mkdir()
    (out / "images/a.png").write_bytes(b"stale")  # left by an earlier, interrupted run
    with wai.SceneWriter(out, dataset_name="unit", camera=pinhole(), link_mode=mode) as writer:
        writer.add_frame("a", np.eye(4), image=images[0])
        writer.add_frame("b", np.eye(4), image=images[1])
    scene = wai.open_scene(out)
    for frame, src in zip(scene.frames, images, strict=True):
        target = out / frame.raw["image"]
        assert target.read_bytes() == src.read_bytes()
        np.testing.assert_array_equal(frame.image, wai.load(src, "image"))
        assert target.is_symlink() == (mode == "symlink")
        assert (os.stat(target).st_ino == os.stat(src).st_ino) == (mode != "copy")
    assert not [p for p in out.rglob(f"{TMP_MARKER}*")]


def test_a_crash_during_a_copy_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = make_scene(tmp_path / "src", n_frames=1) / "images/000000.png"
    out = tmp_path / "out"
    writer = wai.SceneWriter(out, dataset_name="unit", camera=pinhole())
    writer.add_frame("a", np.eye(4), image=source)
    good = (out / "images/a.png").read_bytes()

    def half_copy(src: Path, dst: Path) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:10])
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfile", half_copy)
    with pytest.raises(OSError, match="disk full"):
        writer.add_frame("b", np.eye(4), image=source)
    assert not (out / "images/b.png").exists()
    assert (out / "images/a.png").read_bytes() == good
    assert _files(out) == ["images/a.png"]
