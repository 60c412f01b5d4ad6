"""Scenes for the packed-store tests: a tiny `wai convert synthetic` dataset and a scene with per-frame cameras."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from wai.camera import Camera, CameraModel

SYNTHETIC = ["--num-scenes", "2", "--min-frames", "3", "--max-frames", "4", "--width", "64", "--height", "48"]


def convert_synthetic(root: Path) -> Path:
    result = CliRunner().invoke(main, ["convert", "synthetic", "--dst", str(root), *SYNTHETIC])
    assert result.exit_code == 0, result.output
    return root


def camera(width: int, height: int, f: float) -> Camera:
    params = {"fl_x": f, "fl_y": f * 1.01, "cx": (width - 1) / 2 + 0.3, "cy": (height - 1) / 2 - 0.2}
    return Camera(CameraModel.PINHOLE, width, height, params)


def make_mixed_scene(scene_dir: Path) -> Path:
    """Per-frame cameras of two sizes, a float32 depth, pred_depth/moge2, normals, confidence and a covisibility."""
    rng = np.random.default_rng(7)
    sizes = [(40, 30), (36, 28), (40, 30)]
    with wai.SceneWriter(scene_dir, dataset_name="unit") as writer:
        for i, (w, h) in enumerate(sizes):
            pose = np.eye(4)
            pose[:3, 3] = [0.1 * i, -0.05 * i, 0.02 * i]
            depth = rng.uniform(0.5, 4.0, (h, w)).astype(np.float32)
            depth[0, :3] = 0.0
            writer.add_frame(
                f"{i:06d}",
                pose,
                camera=camera(w, h, 30.0 + i),
                image=rng.integers(0, 256, (h, w, 3), dtype=np.uint8),
                depth=depth,
                mask=rng.random((h, w)) > 0.3,
            )
    scene = wai.open_scene(scene_dir)
    for frame in scene.frames:
        h, w = frame.camera.height, frame.camera.width
        exact = rng.uniform(1.0, 2.0, (h, w)).astype(np.float32)  # not half-float exact: must stay float32
        scene.write_frame_modality(
            "pred_depth/moge2", frame.index, exact, format="depth", precision="float32"
        )
        normals = rng.normal(size=(h, w, 3)).astype(np.float32)
        normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
        scene.write_frame_modality("normals", frame.index, normals, format="normals")
        confidence = rng.random((h, w, 2)).astype(np.float32)
        scene.write_frame_modality("depth_confidence", frame.index, confidence, format="scalar")
        if frame.index != 1:  # a modality some frames lack; png16 keeps its file bytes in a store
            sensor = rng.uniform(0.5, 4.0, (h, w)).astype(np.float32)
            scene.write_frame_modality("sensor_depth", frame.index, sensor, format="png16")
    scene.meta.setdefault("scene_modalities", {})["points"] = {
        "scene_key": "extra/points.npy",
        "format": "numpy",
    }
    wai.store(scene_dir / "extra" / "points.npy", rng.normal(size=(5, 3)).astype(np.float64), "numpy")
    scene.save_meta()
    covis = rng.random((3, 3)).astype(np.float32)
    wai.store(scene_dir / "covisibility" / "v0" / "matrix.npy", covis, "mmap")
    return scene_dir


def assert_same_scene(folder: wai.Scene, packed: wai.Scene) -> None:
    """Every frame modality, camera, pose, scene modality and covisibility matrix identical (dtype and values)."""
    assert packed.name == folder.name and len(packed) == len(folder)
    assert packed.frame_modality_names == folder.frame_modality_names
    assert packed.scene_modality_names == folder.scene_modality_names
    assert packed.meta == folder.meta
    np.testing.assert_array_equal(packed.poses, folder.poses)
    for a, b in zip(folder.frames, packed.frames, strict=True):
        assert a.name == b.name and a.camera == b.camera
        np.testing.assert_array_equal(a.intrinsics, b.intrinsics)
        np.testing.assert_array_equal(a.cam2world, b.cam2world)
        for name in folder.frame_modality_names:
            assert a.has(name) == b.has(name)
            if not a.has(name):
                continue
            x, y = a.load(name), b.load(name)
            assert x.dtype == y.dtype and x.shape == y.shape, (name, x.dtype, y.dtype, x.shape, y.shape)
            assert y.flags.writeable and y.flags.c_contiguous, name
            np.testing.assert_array_equal(x, y, err_msg=f"{a}: {name}")
    for name in folder.scene_modality_names:
        np.testing.assert_array_equal(folder.load_scene_modality(name), packed.load_scene_modality(name))
    if (folder.path / "covisibility" / "v0").is_dir():
        covis = packed.covisibility()
        assert isinstance(covis, np.ndarray) and covis.dtype == np.float32
        np.testing.assert_array_equal(folder.covisibility(), covis)
