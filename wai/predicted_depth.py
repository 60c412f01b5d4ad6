"""Predicted depth as a stage: any `DepthPredictor` behind one small interface, written as ``pred_depth/<name>``.

The stage (process-log name = the predictor's ``stage_name``, e.g. ``mvsanywhere``) writes, as the reference's
MVSAnywhere stage does (spec 4.6)::

    <scene>/<out_path>/depth/<frame>.exr      format ``depth`` (half float), frame key ``<name>_depth``
    frame_modalities.pred_depth.<name> = {"frame_key": "<name>_depth", "format": "depth"}

Unlike the reference, every map is stored at its frame's image size (a map of another size with the same aspect
ratio is resized, nearest; another aspect ratio fails the scene naming the file), depth is finite and >= 0 (0 where
invalid) and a rerun after a crash starts from a clean output folder. Predictors: `IngestedDepth` (files made
elsewhere, `wai ingest-depth`) and `mapa_train.stages.moge2_depth.MoGe2DepthPredictor` (MoGe-2's depth; the full
MoGe-2 stage, `mapa-train predict-moge2`, also writes its masks and normals).
"""

from __future__ import annotations

import abc
import functools
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from wai.errors import WaiFormatError, where
from wai.scene import SCENE_META, Frame, Scene, open_scene
from wai.scene.modalities import forget_modality
from wai.stages import SceneResult, Stage

GROUP = "pred_depth"
HALF_MAX = float(np.finfo(np.float16).max)
ASPECT_RTOL = 0.02


class DepthPredictor(abc.ABC):
    """Gives one depth map per frame of a scene.

    `name` is the method (``pred_depth/<name>``, frame key ``<name>_depth``); `stage_name` the process-log entry;
    `out_path` the folder under the scene. Instances are pickled to worker processes and cluster jobs.
    """

    name: str
    stage_name: str
    out_path: str
    requires: tuple[str, ...] = ("conversion",)

    def check(self) -> None:  # noqa: B027  (optional hook)
        """Raise before any scene runs on settings that would fail every scene."""

    @abc.abstractmethod
    def predict(self, scene: Scene) -> Iterator[tuple[Frame, np.ndarray, str]]:
        """(frame, depth (h, w) float in metres or scene units, source named in errors) for every frame."""

    @property
    def frame_key(self) -> str:
        return f"{self.name}_depth"

    def rel_path(self, frame_name: str) -> str:
        return f"{self.out_path}/depth/{frame_name}.exr"


def fit_to_frame(depth: np.ndarray, frame: Frame, source: str, scene: str) -> np.ndarray:
    """(H, W) float32 at the frame's image size: finite, >= 0, within half-float range (0 where invalid)."""
    depth = np.asarray(depth, dtype=np.float32)
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[..., 0]
    loc = where(scene=scene, frame=frame.name, file=source)
    if depth.ndim != 2 or depth.size == 0:
        raise WaiFormatError(f"{loc}: expected a single-channel (H, W) depth map, got shape {depth.shape}")
    height, width = frame.camera.size
    if depth.shape != (height, width):
        h, w = depth.shape
        if abs((w / h) / (width / height) - 1.0) > ASPECT_RTOL:
            raise WaiFormatError(
                f"{loc}: depth map is {w}x{h} (WxH), its image {width}x{height}: another aspect ratio, so it "
                "cannot be resized to the image"
            )
        depth = cv2.resize(depth, (width, height), interpolation=cv2.INTER_NEAREST)
    ok = np.isfinite(depth) & (depth > 0) & (depth <= HALF_MAX)
    return np.where(ok, depth, np.float32(0)).astype(np.float32)


def _forget(meta: dict, predictor: DepthPredictor) -> bool:
    """Drop the predictor's frame keys and modality leaf from a scene meta; True if anything changed."""
    return forget_modality(meta, GROUP, predictor.name, predictor.frame_key)


def reset_scene(scene_dir: Path, predictor: DepthPredictor) -> None:
    """Remove an earlier run's ``<out_path>/depth`` folder and the meta entries pointing into it."""
    out = Path(scene_dir) / predictor.out_path / "depth"
    if out.exists():
        shutil.rmtree(out)
    if (Path(scene_dir) / SCENE_META).is_file():
        scene = open_scene(scene_dir)
        if _forget(scene.meta, predictor):
            scene.save_meta()


def process_scene(scene_dir: Path, predictor: DepthPredictor) -> SceneResult:
    """Write every frame's predicted depth, then save the meta once (a crash before that leaves the meta as it was)."""
    scene = open_scene(scene_dir)
    valid = 0
    count = 0
    for frame, depth, source in predictor.predict(scene):
        fitted = fit_to_frame(depth, frame, source, scene.name)
        scene.write_frame_modality(
            f"{GROUP}/{predictor.name}",
            frame.index,
            fitted,
            format="depth",
            rel_path=predictor.rel_path(frame.name),
            frame_key=predictor.frame_key,
        )
        valid += int((fitted > 0).sum())
        count += fitted.size
    scene.save_meta()
    share = valid / count if count else 0.0
    return SceneResult(
        message=f"{len(scene)} depth maps as pred_depth/{predictor.name}, {share:.0%} of pixels valid"
    )


def pred_depth_stage(predictor: DepthPredictor) -> Stage:
    """The `wai.stages.Stage` that writes `predictor`'s depth into each scene (picklable)."""
    return Stage(
        name=predictor.stage_name,
        process=functools.partial(process_scene, predictor=predictor),
        requires=predictor.requires,
        reset=functools.partial(reset_scene, predictor=predictor),
    )
