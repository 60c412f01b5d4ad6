"""Covisibility of one WAI scene: read its depth and cameras, compute the matrix, write it where the reference reads it.

Output, where the reference's loaders look: ``<scene>/<out_path>/pairwise_covisibility--<N>x<N>.npy``, a plain `np.save` float32
array with a 128-byte NPY header (the reference memory-maps it at offset 128 and parses the shape from the name),
registered as ``scene_modalities.pairwise_covisibility = {"scene_key": ..., "format": "mmap"}`` (the key is
created when missing), and ``pairwise_covisibility.json`` beside it with the parameters that made it.

Update order, so that a kill at any point leaves no half-written file a reader accepts: the new matrix is written
under a temporary name outside the version folder (the reference takes any `*.npy` there); matrices of another N
are deleted; the new one is renamed in (an atomic replace when N is unchanged); then the parameters and the
scene meta. Between the delete and the rename a reader finds no matrix and fails loudly rather than reading a
stale one.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

import wai
from metadata.covisibility.compute import Backend, covisibility_matrix
from metadata.covisibility.configs import CovisibilityConfig, resolve_config
from metadata.covisibility.frames import FrameStack
from metadata.covisibility.frustum import candidate_pairs
from wai.atomic import TMP_MARKER, atomic_write_text
from wai.errors import WaiCameraError, WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.scene import resolve_in_scene

MODALITY = "pairwise_covisibility"
STEM = "pairwise_covisibility"
PARAMS_FILE = "pairwise_covisibility.json"


def matrix_name(n: int) -> str:
    """``pairwise_covisibility--<n>x<n>.npy``."""
    return f"{STEM}--{n}x{n}.npy"


@dataclasses.dataclass(frozen=True)
class CovisibilityResult:
    """What `compute_scene_covisibility` wrote."""

    path: Path
    config: CovisibilityConfig
    depth_modality: str
    working_size: tuple[int, int]
    pairs_computed: int
    pairs_total: int


def pick_depth_modality(scene: wai.Scene, config: CovisibilityConfig, override: str | None = None) -> str:
    """The first of the config's depth modalities that the scene has (or `override`, which must exist)."""
    names = scene.frame_modality_names
    wanted = (override,) if override else config.depth_modalities
    for name in wanted:
        if name in names:
            return name
    raise WaiFileNotFoundError(
        f"{where(scene=scene.name, file=str(scene.path / scene.meta_name), field='frame_modalities')}: no depth "
        f"modality for covisibility config '{config.name}': expected one of {list(wanted)}, the scene has "
        f"{names or 'none'}"
    )


def _camera_of(scene: wai.Scene, frame: wai.Frame) -> wai.Camera:
    camera = frame.camera
    if not camera.is_pinhole:
        raise WaiCameraError(
            f"{where(scene=scene.name, frame=frame.name, field='camera_model')}: covisibility needs undistorted "
            f"pinhole cameras, got {camera.model.value} with distortion; undistort the scene first"
        )
    if not np.all(np.isfinite(frame.cam2world)):
        raise WaiFormatError(
            f"{where(scene=scene.name, frame=frame.name, field='transform_matrix')}: missing or non-finite pose"
        )
    return camera


def _depth_of(scene: wai.Scene, frame: wai.Frame, modality: str) -> np.ndarray:
    if not frame.has(modality):
        raise WaiFileNotFoundError(
            f"{where(scene=scene.name, frame=frame.name, field=scene.frame_modality(modality).value)}: the frame "
            f"has no '{modality}' file"
        )
    depth = frame.load(modality)
    if np.ndim(depth) != 2:
        raise WaiFormatError(
            f"{where(scene=scene.name, frame=frame.name, file=str(frame.path(modality)))}: expected an (H, W) "
            f"depth map, got shape {np.shape(depth)}"
        )
    return depth


def load_frames(scene: wai.Scene, modality: str, target_size: int | tuple[int, int] | None) -> FrameStack:
    """Every frame's depth (resized as it is read, so only working-size maps stay in memory), camera and pose.

    Errors name the scene, the frame and the file or field.
    """
    cameras = [_camera_of(scene, frame) for frame in scene.frames]
    depths = (_depth_of(scene, frame, modality) for frame in scene.frames)
    try:
        return FrameStack.from_arrays(depths, cameras, scene.poses, target_size)
    except WaiFormatError as exc:
        if scene.name in str(exc):
            raise
        raise WaiFormatError(f"{where(scene=scene.name)}: {exc}") from exc


def _frames_digest(scene: wai.Scene) -> str:
    names = "\n".join(frame.name for frame in scene.frames)
    return hashlib.sha1(names.encode("utf-8")).hexdigest()


def write_matrix(scene: wai.Scene, matrix: np.ndarray, out_path: str, record: dict[str, Any]) -> Path:
    """Put the matrix, its parameters and the `scene_modalities` entry in place (see the module docstring)."""
    folder = resolve_in_scene(scene.path, out_path, scene=scene.name, field="out_path")
    folder.mkdir(parents=True, exist_ok=True)
    n = matrix.shape[0]
    target = folder / matrix_name(n)
    tmp = folder.parent / f"{TMP_MARKER}{uuid.uuid4().hex[:12]}-{target.name}"
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(matrix, dtype=np.float32), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        for old in folder.glob("*.npy"):
            if old.name != target.name:
                old.unlink()
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    atomic_write_text(folder / PARAMS_FILE, json.dumps(record, indent=2) + "\n")
    tree = scene.meta.get("scene_modalities")
    if not isinstance(tree, dict):
        tree = {}
        scene.meta["scene_modalities"] = tree
    tree[MODALITY] = {"scene_key": target.relative_to(scene.path).as_posix(), "format": "mmap"}
    scene.save_meta()
    return target


def scene_covisibility_matrix(
    scene: wai.Scene,
    config: str | CovisibilityConfig = "auto",
    *,
    depth_modality: str | None = None,
    backend: Backend = "numpy",
    device: str | None = None,
    frustum_check: bool = True,
) -> tuple[np.ndarray, dict[str, Any]]:
    """One scene's (N, N) float32 matrix and the record of how it was made, without writing anything.

    config: a name from `CONFIGS`, ``auto`` (by the scene's `dataset_name`), or a `CovisibilityConfig`.
    """
    cfg = config if isinstance(config, CovisibilityConfig) else resolve_config(config, scene.dataset_name)
    modality = pick_depth_modality(scene, cfg, depth_modality)
    frames = load_frames(scene, modality, cfg.target_size)
    n = len(frames)
    candidates = candidate_pairs(frames, cfg.params) if frustum_check else np.ones((n, n), dtype=bool)
    matrix = covisibility_matrix(frames, cfg.params, candidates=candidates, backend=backend, device=device)
    record = {
        "config": cfg.to_dict(),
        "depth_modality": modality,
        "working_size": list(frames.size),
        "frame_count": n,
        "frame_names_sha1": _frames_digest(scene),
        "frustum_check": frustum_check,
        "pairs_computed": int(np.count_nonzero(candidates)),
        "backend": backend,
        "diagonal": "always computed; M[i, i] = share of pixels with valid depth above min_depth",
        "target_validity": "checked",
        "pixel": "nearest pixel centre; inside when it is in the image",
        "written_by": f"wai-toolkit {wai.__version__}",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    return matrix, record


def compute_scene_covisibility(
    scene_dir: str | Path,
    config: str | CovisibilityConfig = "auto",
    *,
    depth_modality: str | None = None,
    backend: Backend = "numpy",
    device: str | None = None,
    frustum_check: bool = True,
) -> CovisibilityResult:
    """Compute and write one scene's covisibility matrix; returns where it went and how it was made.

    config: a name from `CONFIGS`, ``auto`` (by the scene's `dataset_name`), or a `CovisibilityConfig`.
    """
    scene = wai.open_scene(scene_dir)
    cfg = config if isinstance(config, CovisibilityConfig) else resolve_config(config, scene.dataset_name)
    matrix, record = scene_covisibility_matrix(
        scene, cfg, depth_modality=depth_modality, backend=backend, device=device, frustum_check=frustum_check
    )
    path = write_matrix(scene, matrix, cfg.out_path, record)
    n = int(matrix.shape[0])
    return CovisibilityResult(
        path, cfg, record["depth_modality"], tuple(record["working_size"]), record["pairs_computed"], n * n
    )


def load_covisibility(scene_dir: str | Path, version: str = "v0") -> np.ndarray:
    """The scene's (N, N) matrix in `covisibility/<version>/`, memory-mapped, checked against the frame count.

    Errors (no matrix, several, a corrupt or truncated file, a size that disagrees with the frames) name the
    scene and the file.
    """
    scene = wai.open_scene(scene_dir)
    try:
        return scene.covisibility(version)
    except WaiError as exc:
        if f"scene '{scene.name}'" in str(exc):
            raise
        raise type(exc)(f"{where(scene=scene.name)}: {exc}") from exc
