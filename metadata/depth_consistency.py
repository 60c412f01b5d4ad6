"""Depth-consistency confidence (process-log name ``depth_consistency_confidence``): how far other views agree with
each pixel of a (predicted) depth map.

For source view i and each pixel p with valid depth, every *other* view j that the covisibility pre-filter
(`metadata.covisibility.candidate_pairs`) keeps is a witness: p's world point (`wai.geometry` unprojection) is
projected into j, rounded to the nearest pixel centre; if it lands inside j at a depth z > ``min_depth`` on a pixel
where j has valid depth D, j votes ``inlier`` when ``|z - D| < abs_thres + rel_thres z`` and ``outlier`` when it is
greater (equal: neither). ``conf(p) = inliers / (inliers + outliers)``, 0 where no view votes. As the reference
(wai_format spec 4.2), with three of its faults fixed (spec 7.11):

- the source is never its own witness (the reference counted it, so a pixel seen by no other view scored 1);
- the map is written at its frame's image size, the pixels the depth describes (computed at the working size,
  long side ``target_size``, then nearest-resized), not at the working size;
- the stage runs through `wai.stages`, so each scene is locked while it is written.

Output, with the reference's names: ``<scene>/<out_path>/depth_confidence/<frame>.exr`` (format ``scalar``,
float32), frame key ``<method>_depth_confidence``, modality ``depth_confidence/<method>``; the scene meta is saved
once, at the end.
"""

from __future__ import annotations

import dataclasses
import functools
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import wai
from metadata.covisibility.compute import projection_matrices, source_points
from metadata.covisibility.configs import CovisibilityParams
from metadata.covisibility.frames import FrameStack, nearest_indices
from metadata.covisibility.frustum import candidate_pairs
from metadata.covisibility.scene import load_frames
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SCENE_META
from wai.scene.modalities import forget_modality
from wai.stages import SceneResult, Stage

STAGE_NAME = "depth_consistency_confidence"
GROUP = "depth_confidence"


@dataclasses.dataclass(frozen=True)
class ConsistencyConfig:
    """Settings (the reference's ``depth_consistency_confidence_mvsa.yaml`` by default).

    method:      the depth's method: reads ``pred_depth/<method>``, writes ``depth_confidence/<method>``.
    depth_modality: read this modality instead (e.g. ``depth`` for ground truth).
    out_path:    folder under the scene (default ``<method>/v0``).
    target_size: long side of the working size (None: the depth's own size).
    """

    method: str = "mvsanywhere"
    depth_modality: str | None = None
    out_path: str | None = None
    target_size: int | None = 360
    abs_thres: float = 0.02
    rel_thres: float = 0.02
    min_depth: float = 0.04

    @property
    def modality(self) -> str:
        return self.depth_modality or f"pred_depth/{self.method}"

    @property
    def folder(self) -> str:
        return f"{self.out_path or f'{self.method}/v0'}/depth_confidence"

    @property
    def frame_key(self) -> str:
        return f"{self.method}_depth_confidence"

    @property
    def params(self) -> CovisibilityParams:
        return CovisibilityParams(
            abs_thres=self.abs_thres, rel_thres=self.rel_thres, temp=0.0, min_depth=self.min_depth
        )

    def check(self) -> None:
        if not self.method or "/" in self.method:
            raise WaiFormatError(
                f"depth-consistency: --method {self.method!r}: expected a name such as mvsanywhere"
            )
        if self.target_size is not None and self.target_size < 8:
            raise WaiFormatError(
                f"depth-consistency: --target-size must be at least 8, got {self.target_size}"
            )
        if not (self.abs_thres >= 0 and 0 <= self.rel_thres < 1):
            raise WaiFormatError("depth-consistency: thresholds must be >= 0 (relative one below 1)")


def _votes(
    points: np.ndarray, proj: np.ndarray, depth: np.ndarray, params: CovisibilityParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per point (n,): does one target (projection (3, 4), depth (H, W)) vote inlier, outlier."""
    h, w = depth.shape
    cam = proj[:, :3] @ points + proj[:, 3:]
    z = cam[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        col = np.rint(cam[0] / z)
        row = np.rint(cam[1] / z)
    inside = (z > params.min_depth) & (col >= 0) & (col < w) & (row >= 0) & (row < h)
    idx = np.where(inside, row * w + col, 0).astype(np.int64)
    target = depth.ravel()[idx]
    landed = inside & (target > 0)
    err = np.abs(z - target)
    thr = params.abs_thres + params.rel_thres * z
    return landed & (err < thr), landed & (err > thr)


def consistency_maps(frames: FrameStack, params: CovisibilityParams) -> Iterator[np.ndarray]:
    """(H, W) float32 confidence of each frame of `frames`, in order (see the module doc)."""
    n = len(frames)
    h, w = frames.size
    candidates = candidate_pairs(frames, params)
    np.fill_diagonal(candidates, False)  # the source is not its own witness
    proj = projection_matrices(frames)
    for i in range(n):
        valid = frames.depths[i] > 0
        conf = np.zeros((h, w), np.float32)
        targets = np.flatnonzero(candidates[i])
        if targets.size and valid.any():
            points = source_points(frames, i)
            inliers = np.zeros(points.shape[1], np.int32)
            outliers = np.zeros(points.shape[1], np.int32)
            for j in targets:
                good, bad = _votes(points, proj[j], frames.depths[j], params)
                inliers += good
                outliers += bad
            votes = inliers + outliers
            share = np.where(votes > 0, inliers / np.maximum(votes, 1), 0.0)
            conf[valid] = share.astype(np.float32)
        yield conf


def _back_to(conf: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-resize a working-size map to the depth's (H, W)."""
    if conf.shape == size:
        return conf
    rows = nearest_indices(conf.shape[0], size[0])
    cols = nearest_indices(conf.shape[1], size[1])
    return np.ascontiguousarray(conf[rows[:, None], cols[None, :]])


def forget_outputs(meta: dict, config: ConsistencyConfig) -> bool:
    """Drop the stage's frame keys and modality leaf from a scene meta; True if anything changed."""
    return forget_modality(meta, GROUP, config.method, config.frame_key)


@dataclasses.dataclass(frozen=True)
class ConsistencyTask:
    """The per-scene function (picklable for process pools and SLURM jobs)."""

    config: ConsistencyConfig

    def __call__(self, scene_dir: Path) -> SceneResult:
        cfg = self.config
        scene = wai.open_scene(scene_dir)
        if cfg.modality not in scene.frame_modality_names:
            raise WaiFileNotFoundError(
                f"{where(scene=scene.name, file=str(scene.path / scene.meta_name), field='frame_modalities')}: no "
                f"'{cfg.modality}' depth (the scene has {scene.frame_modality_names or 'none'}); run "
                "`wai ingest-depth` or a depth stage first"
            )
        frames = load_frames(scene, cfg.modality, cfg.target_size)
        kept = []
        for frame, conf in zip(scene.frames, consistency_maps(frames, cfg.params), strict=True):
            data = _back_to(conf, frame.camera.size)
            scene.write_frame_modality(
                f"{GROUP}/{cfg.method}",
                frame.index,
                data,
                format="scalar",
                rel_path=f"{cfg.folder}/{frame.name}.exr",
                frame_key=cfg.frame_key,
            )
            kept.append(float((data > 0.5).sum()) / max(1, int((data >= 0).size)))
        scene.save_meta()
        mean = float(np.mean(kept)) if kept else 0.0
        return SceneResult(
            message=f"{len(kept)} maps in {cfg.folder} from {cfg.modality} at {frames.size[1]}x{frames.size[0]}; "
            f"{mean:.0%} of pixels above 0.5"
        )


def reset_scene(scene_dir: Path, config: ConsistencyConfig) -> None:
    """Remove an earlier run's confidence folder and the meta entries pointing into it."""
    out = Path(scene_dir) / config.folder
    if out.exists():
        shutil.rmtree(out)
    if (Path(scene_dir) / SCENE_META).is_file():
        scene = wai.open_scene(scene_dir)
        if forget_outputs(scene.meta, config):
            scene.save_meta()


def depth_consistency_stage(config: ConsistencyConfig) -> Stage:
    """The `wai.stages.Stage` (needs ``conversion``; a scene without the depth modality fails naming it)."""
    config.check()
    return Stage(
        STAGE_NAME,
        ConsistencyTask(config),
        requires=("conversion",),
        reset=functools.partial(reset_scene, config=config),
    )
