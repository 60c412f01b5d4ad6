"""A small distorted scene (fisheye or OPENCV) rendered from `wai.synthetic`, laid out as converters leave it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wai.camera import Camera, CameraModel
from wai.scene import SCENE_META, SCENE_META_DISTORTED, ModalitySpec, SceneWriter
from wai.stages import ProcessLog, StageState
from wai.synthetic import make_scene, render

W, H = 48, 36

CAMERAS = {
    "OPENCV_FISHEYE": Camera(
        CameraModel.OPENCV_FISHEYE,
        W,
        H,
        {"fl_x": 30.0, "fl_y": 30.5, "cx": 24.2, "cy": 17.1, "k1": 0.05, "k2": -0.01, "k3": 0.002, "k4": 0.0},
    ),
    "OPENCV": Camera(
        CameraModel.OPENCV,
        W,
        H,
        {
            "fl_x": 40.0,
            "fl_y": 40.0,
            "cx": 23.0,
            "cy": 18.5,
            "k1": -0.2,
            "k2": 0.05,
            "p1": 0.002,
            "p2": -0.001,
        },
    ),
    "FULL_OPENCV": Camera(
        CameraModel.FULL_OPENCV,
        W,
        H,
        {
            "fl_x": 38.0,
            "fl_y": 38.5,
            "cx": 24.0,
            "cy": 17.0,
            "k1": -0.15,
            "k2": 0.03,
            "p1": 0.001,
            "k3": 0.01,
            "k4": 0.02,
        },
    ),
    "THIN_PRISM_FISHEYE": Camera(
        CameraModel.THIN_PRISM_FISHEYE,
        W,
        H,
        {"fl_x": 30.0, "fl_y": 30.0, "cx": 23.5, "cy": 17.5, "k1": 0.03, "p1": 0.001, "sx1": 0.002},
    ),
}

MODALITIES = {
    "image_distorted": ModalitySpec("images_distorted", ".png", "image", "image_distorted"),
    "depth_distorted": ModalitySpec("depth_distorted", ".exr", "depth", "depth_distorted"),
    "mask_distorted": ModalitySpec("masks_distorted", ".png", "binary", "mask_distorted"),
    # Not distorted-named, but in the distorted pixels: undistorted under undistorted/, same key.
    "depth_confidence": ModalitySpec("depth_confidence", ".exr", "scalar", "depth_confidence"),
}


def mask_threshold(depth: np.ndarray) -> float:
    """The mask marks surfaces closer than the median valid depth of the distorted frame."""
    return float(np.median(depth[depth > 0]))


def scene_and_poses(n_frames: int = 2):
    synthetic = make_scene(5, "room")
    return synthetic, synthetic.default_poses(n_frames, seed=5)


def write_distorted_scene(scene_dir: Path, model: str = "OPENCV_FISHEYE", n_frames: int = 2) -> Camera:
    """Write `scene_meta_distorted.json` plus `*_distorted` files and a finished conversion log entry."""
    camera = CAMERAS[model]
    synthetic, poses = scene_and_poses(n_frames)
    rays = camera.unproject(camera.pixel_grid(), normalize=True)
    with SceneWriter(scene_dir, dataset_name="unit", camera=camera, modalities=MODALITIES) as writer:
        for i, pose in enumerate(poses):
            view = render(synthetic, pose, rays_cam=rays)
            depth = np.where(view.valid, view.depth, 0).astype(np.float32)
            writer.add_frame(
                f"f{i}",
                pose,
                image_distorted=view.image,
                depth_distorted=depth,
                mask_distorted=(depth > 0) & (depth < mask_threshold(depth)),
                depth_confidence=np.ones((H, W), np.float32),
            )
    (scene_dir / SCENE_META).rename(scene_dir / SCENE_META_DISTORTED)
    ProcessLog(scene_dir).set("conversion", StageState.FINISHED)
    return camera
