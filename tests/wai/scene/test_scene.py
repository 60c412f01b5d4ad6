"""Reading scenes through the public API: frames, cameras, poses, modalities and the errors on bad metadata."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wai
from tests.factories import H, W, make_scene, pinhole
from wai.camera import Camera, CameraModel
from wai.scene import meta as meta_module


def test_round_trip_of_written_scene(scene_dir: Path) -> None:
    scene = wai.open_scene(scene_dir)
    assert len(scene) == 3 and scene.name == "scene_a" and scene.dataset_name == "unit"
    frame = scene.frames[1]
    assert frame.name == "000001" and scene.frame("000001").index == 1
    assert frame.image.shape == (H, W, 3) and frame.image.dtype == np.uint8
    depth = frame.depth
    expected = np.linspace(1.0, 3.0, H * W, dtype=np.float32).reshape(H, W)
    assert depth.dtype == np.float32 and depth.shape == (H, W)
    # depth is stored as half float: relative error at most 2^-11
    assert np.all(np.abs(depth - expected) <= expected * 2.0**-11)
    np.testing.assert_allclose(frame.intrinsics, pinhole().K)
    np.testing.assert_allclose(frame.cam2world[:3, 3], [0.1, 0, 0])
    assert scene.poses.shape == (3, 4, 4)
    assert scene.frames[-1].name == "000002"
    with pytest.raises(IndexError, match="out of range"):
        scene.frames[3]


def test_scene_meta_layout_matches_reference(scene_dir: Path) -> None:
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    assert meta["shared_intrinsics"] is True and meta["camera_model"] == "PINHOLE"
    assert meta["camera_convention"] == "opencv"
    assert meta["frame_modalities"] == {
        "image": {"frame_key": "image", "format": "image"},
        "depth": {"frame_key": "depth", "format": "depth"},
    }
    frame = meta["frames"][0]
    assert frame["image"] == frame["file_path"] == "images/000000.png"
    assert frame["depth"] == "depth/000000.exr"
    assert np.asarray(frame["transform_matrix"]).shape == (4, 4)
    assert "frame_names" not in meta
    assert len(meta["last_modified"]) == 19 and meta["last_modified"][10] == " "


def _reference_style_scene(root: Path) -> Path:
    """A scene as the reference's own tools write it (spec 1.8): number version, nested groups, extra keys."""
    scene_dir = root / "0a5c013435"
    writer_scene = make_scene(root / "tmp_src", n_frames=2)
    (scene_dir / "images").mkdir(parents=True)
    (scene_dir / "moge" / "v0" / "depth" / "moge2").mkdir(parents=True)
    frames = []
    for i in range(2):
        name = f"DSC{i:05d}"
        (scene_dir / "images" / f"{name}.png").write_bytes(
            (writer_scene / f"images/{i:06d}.png").read_bytes()
        )
        (scene_dir / "moge/v0/depth/moge2" / f"{name}.exr").write_bytes(
            (writer_scene / f"depth/{i:06d}.exr").read_bytes()
        )
        frames.append(
            {
                "_is_interpolated": False,
                "file_path": f"images/{name}.png",
                "frame_name": name,
                "image": f"images/{name}.png",
                "moge2_depth": f"moge/v0/depth/moge2/{name}.exr",
                "transform_matrix": list(np.eye(4).ravel()) if i else np.eye(4).tolist(),
                "is_bad": False,
            }
        )
    meta = {
        "scene_name": "0a5c013435",
        "dataset_name": "scannetppv2",
        "version": 0.1,
        "last_modified": "2025-06-01 12:00:00",
        "shared_intrinsics": True,
        "camera_model": "PINHOLE",
        "camera_convention": "opencv",
        "scale_type": "metric",
        "fl_x": 30.0,
        "fl_y": 30.0,
        "cx": 15.5,
        "cy": 11.5,
        "w": W,
        "h": H,
        "frames": frames,
        "frame_modalities": {
            "image": {"frame_key": "image", "format": "image"},
            "pred_depth": {"moge2": {"frame_key": "moge2_depth", "format": "depth"}},
        },
        "scene_modalities": {},
        "_applied_transform": np.diag([1.0, -1, -1, 1]).tolist(),
        "_applied_transforms": {"opengl2opencv": np.diag([1.0, -1, -1, 1]).tolist()},
    }
    (scene_dir / "scene_meta.json").write_text(json.dumps(meta, indent=2))
    return scene_dir


def test_reference_written_scene_loads(tmp_path: Path) -> None:
    scene = wai.open_scene(_reference_style_scene(tmp_path))
    assert scene.frame_modality_names == ["image", "pred_depth/moge2"]
    frame = scene.frame("DSC00001")
    assert frame.load("pred_depth/moge2").shape == (H, W)
    np.testing.assert_array_equal(frame.cam2world, np.eye(4))  # flat list of 16 reshaped
    with pytest.raises(wai.WaiFormatError, match="'pred_depth' is a group; name one of"):
        frame.load("pred_depth")


def test_save_meta_keeps_unknown_keys_and_backs_up(tmp_path: Path) -> None:
    scene = wai.open_scene(_reference_style_scene(tmp_path))
    scene.meta["frames"][0]["note"] = "kept"
    scene.save_meta()
    saved = json.loads((scene.path / "scene_meta.json").read_text())
    assert saved["version"] == 0.1 and saved["frames"][0]["is_bad"] is False
    assert saved["frames"][0]["note"] == "kept" and saved["last_modified"] != "2025-06-01 12:00:00"
    backup = json.loads((scene.path / "_scene_meta_backup.json").read_text())
    assert backup["last_modified"] == "2025-06-01 12:00:00"


def test_regex_modality_matches_whole_names(tmp_path: Path) -> None:
    scene = wai.open_scene(make_scene(tmp_path / "s"))
    tree = scene.meta["frame_modalities"]
    tree_copy = {"depth_confidence": {"frame_key": "depth", "format": "depth"}, **tree}
    scene.meta["frame_modalities"] = tree_copy
    assert scene.frame_modality("depth|rendered_depth").name == "depth"
    with pytest.raises(wai.WaiFormatError, match="no modality matches the pattern 'rendered_.*'"):
        scene.frame_modality("rendered_.*")
    with pytest.raises(wai.WaiFormatError, match="unknown modality 'normals'"):
        scene.frames[0].load("normals")


@pytest.mark.parametrize("bad", ["../outside.png", "/etc/passwd", "images/../../x.png"])
def test_paths_escaping_the_scene_are_rejected(scene_dir: Path, bad: str) -> None:
    scene = wai.open_scene(scene_dir)
    scene.meta["frames"][0]["image"] = bad
    with pytest.raises(wai.WaiPathError, match="scene 'scene_a', frame '000000', field 'image'"):
        _ = scene.frames[0].image


def test_missing_file_names_scene_and_frame(scene_dir: Path) -> None:
    (scene_dir / "depth" / "000002.exr").unlink()
    with pytest.raises(wai.WaiFileNotFoundError, match="scene 'scene_a', frame '000002'"):
        _ = wai.open_scene(scene_dir).frames[2].depth


def test_malformed_and_incomplete_meta(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "scene_meta.json").write_text('{"frames": [')
    with pytest.raises(wai.WaiFormatError, match="malformed JSON"):
        wai.open_scene(bad)
    (bad / "scene_meta.json").write_text('{"scene_name": "bad"}')
    with pytest.raises(wai.WaiFormatError, match="missing required key 'frames'"):
        wai.open_scene(bad)
    (bad / "scene_meta.json").write_text('{"frames": [{"file_path": "a.png"}]}')
    with pytest.raises(wai.WaiFormatError, match=r"frames\[0\]\.frame_name': missing"):
        wai.open_scene(bad)
    with pytest.raises(wai.WaiFileNotFoundError, match="does not exist"):
        wai.open_scene(tmp_path / "nope")


def test_crash_inside_writer_leaves_no_loadable_scene(tmp_path: Path) -> None:
    scene_dir = tmp_path / "crashed"
    with pytest.raises(RuntimeError, match="boom"):
        with wai.SceneWriter(scene_dir, dataset_name="unit", camera=pinhole()) as writer:
            writer.add_frame("a", np.eye(4), image=np.zeros((H, W, 3), np.uint8))
            raise RuntimeError("boom")
    with pytest.raises(wai.WaiFileNotFoundError, match="conversion not finished"):
        wai.open_scene(scene_dir)
    assert list(wai.iter_scenes(tmp_path)) == []


def test_writer_rejects_bad_frames(tmp_path: Path) -> None:
    writer = wai.SceneWriter(tmp_path / "w", dataset_name="unit", camera=pinhole())
    writer.add_frame("a", np.eye(4))
    with pytest.raises(wai.WaiFormatError, match="duplicate frame name"):
        writer.add_frame("a", np.eye(4))
    with pytest.raises(
        wai.WaiFormatError, match="frame .b., field .transform_matrix.: .*expected finite numbers"
    ):
        writer.add_frame("b", np.full((4, 4), np.nan))
    with pytest.raises(wai.WaiFormatError, match="unknown modality 'rgb'"):
        writer.add_frame("c", np.eye(4), rgb=np.zeros((H, W, 3), np.uint8))
    with pytest.raises(wai.WaiFormatError, match="no frames were added"):
        wai.SceneWriter(tmp_path / "empty", dataset_name="unit", camera=pinhole()).close()


def test_per_frame_cameras_and_distorted_intrinsics(tmp_path: Path) -> None:
    distorted = Camera(
        CameraModel.OPENCV,
        W,
        H,
        {"fl_x": 30.0, "fl_y": 31.0, "cx": 16.0, "cy": 12.0, "k1": -0.1, "k2": 0.01, "p1": 0.0, "p2": 0.0},
    )
    with wai.SceneWriter(tmp_path / "s", dataset_name="unit") as writer:
        writer.add_frame("a", np.eye(4), camera=pinhole(f=20.0))
        writer.add_frame("b", np.eye(4), camera=distorted)
    scene = wai.open_scene(tmp_path / "s")
    assert scene.meta["shared_intrinsics"] is False
    assert scene.frames[0].intrinsics[0, 0] == 20.0
    assert scene.frames[1].camera.model is CameraModel.OPENCV
    with pytest.raises(wai.WaiCameraError, match="frame 'b'.*undistort"):
        _ = scene.frames[1].intrinsics


def test_frame_keys_override_scene_camera_one_by_one(scene_dir: Path) -> None:
    scene = wai.open_scene(scene_dir)
    scene.meta["frames"][2]["fl_x"] = 50.0
    K = scene.frames[2].intrinsics
    assert K[0, 0] == 50.0 and K[1, 1] == 30.0
    assert scene.frames[0].intrinsics[0, 0] == 30.0


def test_large_scene_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 10_000
    frames = [
        {"frame_name": f"{i:06d}", "image": f"images/{i:06d}.png", "transform_matrix": np.eye(4).tolist()}
        for i in range(n)
    ]
    meta = {
        "frames": frames,
        "shared_intrinsics": True,
        "camera_model": "PINHOLE",
        "fl_x": 1.0,
        "fl_y": 1.0,
        "cx": 0.0,
        "cy": 0.0,
        "w": 2,
        "h": 2,
        "frame_modalities": {"image": {"frame_key": "image", "format": "image"}},
    }
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "scene_meta.json").write_text(json.dumps(meta))
    calls = []
    real_loads = meta_module.json.loads
    monkeypatch.setattr(meta_module.json, "loads", lambda text: calls.append(1) or real_loads(text))
    scene = wai.open_scene(tmp_path / "big")
    for i in range(0, n, 7):
        frame = scene.frames[i]
        assert frame.cam2world.shape == (4, 4) and frame.intrinsics.shape == (3, 3)
        assert frame.path("image").name == f"{i:06d}.png"
    assert scene.frame("009999").index == 9999
    assert len(calls) == 1


def test_covisibility_lookup(scene_dir: Path) -> None:
    scene = wai.open_scene(scene_dir)
    with pytest.raises(wai.WaiFileNotFoundError, match="no covisibility matrix"):
        scene.covisibility()
    written = wai.store(
        scene_dir / "covisibility/v0/pairwise_covisibility.npy", np.eye(3, dtype=np.float32), "mmap"
    )
    assert Path(written).name == "pairwise_covisibility--3x3.npy"
    np.testing.assert_array_equal(scene.covisibility(), np.eye(3))
    wai.store(scene_dir / "covisibility/v0/other.npy", np.eye(2, dtype=np.float32), "mmap")
    with pytest.raises(wai.WaiFormatError, match="several matrices"):
        scene.covisibility()


def test_dataset_listing_skips_hidden_and_unfinished(tmp_path: Path) -> None:
    make_scene(tmp_path / "b")
    make_scene(tmp_path / "a")
    (tmp_path / "c_unfinished").mkdir()
    (tmp_path / ".wai-tmp-x").mkdir()
    (tmp_path / "_trash").mkdir()
    (tmp_path / "file.txt").write_text("x")
    assert wai.list_scenes(tmp_path) == ["a", "b", "c_unfinished"]
    assert [s.name for s in wai.iter_scenes(tmp_path)] == ["a", "b"]
    assert wai.is_scene(tmp_path / "a") and not wai.is_scene(tmp_path / "c_unfinished")


def test_write_frame_modality_nests_and_persists(scene_dir: Path) -> None:
    scene = wai.open_scene(scene_dir)
    # an older flat entry of the group, as earlier reference versions wrote it
    scene.meta["frame_modalities"]["pred_depth"] = {"frame_key": "metric3dv2_depth", "format": "depth"}
    for frame in scene.frames:
        scene.write_frame_modality("pred_depth/moge2", frame.name, frame.depth * 2, format="depth")
        scene.write_frame_modality("pred_mask/moge2", frame.index, frame.depth > 2, format="binary")
    scene.save_meta()
    reopened = wai.open_scene(scene_dir)
    tree = reopened.meta["frame_modalities"]
    assert tree["pred_depth"] == {
        "metric3dv2": {"frame_key": "metric3dv2_depth", "format": "depth"},
        "moge2": {"frame_key": "moge2_depth", "format": "depth"},
    }
    frame = reopened.frames[1]
    assert frame.raw["moge2_depth"] == "pred_depth/moge2/000001.exr"
    np.testing.assert_allclose(frame.load("pred_depth/moge2"), frame.depth * 2, rtol=2.0**-10)
    np.testing.assert_array_equal(frame.load("pred_mask/moge2"), frame.depth > 2)
    with pytest.raises(wai.WaiPathError, match="escapes the scene folder"):
        reopened.write_frame_modality(
            "normals", 0, np.zeros((H, W, 3)), format="normals", rel_path="../n.exr"
        )


def test_applied_transforms_are_recorded_as_the_reference_does(tmp_path: Path) -> None:
    """A converter starting from OpenGL poses converts them and records the matrix (ScanNet++/DL3DV style)."""
    from wai.camera import conventions

    gl_pose = np.eye(4)
    gl_pose[:3, 3] = [1.0, 2.0, 3.0]
    cv_pose, (name, matrix) = conventions.apply_transform(gl_pose, "opengl2opencv")
    with wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole()) as writer:
        writer.record_transform(name, matrix)
        writer.add_frame("a", cv_pose)
    meta = json.loads((tmp_path / "s" / "scene_meta.json").read_text())
    gl2cv = np.diag([1.0, -1.0, -1.0, 1.0]).tolist()
    assert meta["_applied_transforms"] == {"opengl2opencv": gl2cv}
    assert meta["_applied_transform"] == gl2cv
    stored = wai.open_scene(tmp_path / "s").frames[0].cam2world
    np.testing.assert_array_equal(stored[:3, :3], np.diag([1.0, -1.0, -1.0]))
    np.testing.assert_array_equal(stored[:3, 3], [1.0, 2.0, 3.0])
    # undoing the recorded transform gives the source poses back
    np.testing.assert_array_equal(stored @ np.asarray(meta["_applied_transform"]), gl_pose)


def test_scene_modalities_are_written_and_loaded_by_name(tmp_path: Path) -> None:
    vertices = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 1]], dtype=np.float32)
    with wai.SceneWriter(tmp_path / "s", dataset_name="unit", camera=pinhole()) as writer:
        writer.add_frame("a", np.eye(4))
        writer.add_scene_modality(
            "mesh", "mesh.ply", "mesh", {"vertices": vertices, "faces": np.array([[0, 1, 2]])}
        )
        writer.add_scene_modality("semantic_classes", "mappings/classes.json", "readable", {"1": "wall"})
    scene = wai.open_scene(tmp_path / "s")
    assert scene.scene_modality_names == ["mesh", "semantic_classes"]
    assert scene.meta["scene_modalities"]["mesh"] == {"scene_key": "mesh.ply", "format": "mesh"}
    np.testing.assert_array_equal(scene.load_scene_modality("mesh")["vertices"], vertices)
    assert scene.load_scene_modality("semantic_classes") == {"1": "wall"}
    with pytest.raises(wai.WaiPathError, match="escapes the scene folder"):
        wai.SceneWriter(tmp_path / "t", dataset_name="unit").add_scene_modality("x", "../x.json", "readable")
