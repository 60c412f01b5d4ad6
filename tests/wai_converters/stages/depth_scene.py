"""A small converted scene with known depth, for the predicted-depth and depth-consistency stage tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wai.camera import Camera, CameraModel
from wai.scene import SceneWriter
from wai.stages import ProcessLog, StageState
from wai.synthetic import make_scene, render

W, H = 40, 30
CAMERA = Camera(CameraModel.PINHOLE, W, H, {"fl_x": 30.0, "fl_y": 30.0, "cx": 19.5, "cy": 14.5})


def write_scene(scene_dir: Path, n: int = 3, seed: int = 5) -> list:
    """A PINHOLE scene of `n` close views of a synthetic room (images only, no depth); returns the rendered views."""
    synthetic = make_scene(seed, "room")
    poses = synthetic.default_poses(max(n, 8), seed=seed)[:n]
    views = [render(synthetic, p, K=CAMERA.K, width=W, height=H) for p in poses]
    with SceneWriter(scene_dir, dataset_name="unit", camera=CAMERA) as writer:
        for i, view in enumerate(views):
            writer.add_frame(f"f{i}", view.cam2world, image=view.image)
    ProcessLog(scene_dir).set("conversion", StageState.FINISHED)
    return views


def true_depth(view) -> np.ndarray:
    return np.where(view.valid, view.depth, 0.0).astype(np.float32)


def write_pfm(path: Path, depth: np.ndarray) -> None:
    h, w = depth.shape
    path.write_bytes(f"Pf\n{w} {h}\n-1.0\n".encode() + np.flipud(depth).astype("<f4").tobytes())
