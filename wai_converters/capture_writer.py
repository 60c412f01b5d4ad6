"""Write a user's capture (posed image files, optional depth files) as one WAI scene: shared by `colmap` and
`nerfstudio`.

The importers parse their format into `CaptureFrame` records (already in the WAI convention: OpenCV cam2world,
integer pixel centres); `write_capture` checks every file and writes the scene. Listed images that do not exist
are left out and reported (count and names) in the conversion's message, which `wai convert` prints; every other
problem (an undecodable image, a depth map of the wrong size) fails the scene with the file named.

Cameras without distortion are written as PINHOLE to `scene_meta.json`. If any camera is distorted the scene is
written the way the reference writes DL3DV and ScanNet++: `scene_meta_distorted.json` with the distorted model,
frames under `images_distorted/` (and `depth_distorted/`), for `wai undistort` to turn into `scene_meta.json`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from wai import io
from wai.camera import Camera, CameraModel
from wai.camera.conventions import DEFAULT_ROTATION_ATOL, is_rotation, orthonormality_error
from wai.errors import WaiCameraError, WaiFileNotFoundError, WaiFormatError, where
from wai.info import NO_DEPTH_NOTE
from wai.plural import plural
from wai.scene import SCENE_META, SCENE_META_DISTORTED, STANDARD_MODALITIES, ModalitySpec, SceneWriter
from wai.stages import SceneResult, StageState

LinkMode = Literal["copy", "symlink", "hardlink"]


DISTORTED_MODALITIES: dict[str, ModalitySpec] = {
    "image_distorted": ModalitySpec("images_distorted", ".png", "image", "image_distorted"),
    "depth_distorted": ModalitySpec("depth_distorted", ".exr", "depth", "depth_distorted"),
}


@dataclasses.dataclass(frozen=True)
class CaptureFrame:
    """One posed image of a capture, in the WAI convention.

    name: frame name (a file stem, unique in the scene); image: the raw image file; cam2world: (4, 4) OpenCV;
    camera: WAI coefficients (integer pixel centres); depth: the raw depth file, or None.
    """

    name: str
    image: Path
    cam2world: np.ndarray
    camera: Camera
    depth: Path | None = None


@dataclasses.dataclass(frozen=True)
class Capture:
    """A parsed capture: its frames (in scene order), the listed images that are missing, and meta extras.

    listing: the file that lists the frames (named in messages); transforms: name -> matrix of each convention
    change the importer made, recorded under `_applied_transforms` so it can be undone; extra: other top-level meta keys (e.g. the reference's `_applied_transform`).
    """

    frames: Sequence[CaptureFrame]
    missing: Sequence[str]
    listing: Path
    transforms: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: Sequence[str] = ()


def natural_key(text: str) -> list[Any]:
    """Sort key that orders embedded numbers by value: ``img2`` before ``img10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def frame_names(rel_paths: Sequence[str]) -> list[str]:
    """A unique file-stem name per image path: the stem, or (if stems collide) the path without its suffix with
    ``/`` replaced by ``__``."""
    stems = [Path(p).stem for p in rel_paths]
    if len(set(stems)) == len(stems):
        return stems
    names = [
        str(Path(p).with_suffix("")).replace("\\", "/").strip("./").replace("/", "__") for p in rel_paths
    ]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise WaiFormatError(f"image paths give duplicate frame names: {', '.join(dup[:5])}")
    return names


def as_pinhole(camera: Camera) -> Camera:
    """The PINHOLE form of a distortion-free camera (MapAnything's loaders read only PINHOLE, OPENCV and
    OPENCV_FISHEYE); distorted cameras are returned unchanged."""
    if camera.model is CameraModel.PINHOLE or not camera.is_pinhole:
        return camera
    p = camera.params
    return Camera(
        CameraModel.PINHOLE,
        camera.width,
        camera.height,
        {"fl_x": p["fl_x"], "fl_y": p["fl_y"], "cx": p["cx"], "cy": p["cy"]},
    )


def shift_principal_point(camera: Camera, offset: float) -> Camera:
    """The same camera with cx and cy moved by `offset` pixels (-0.5 takes COLMAP's and nerfstudio's pixel
    convention, top-left centre at (0.5, 0.5), to WAI's, at (0, 0))."""
    params = dict(camera.params)
    params["cx"] += offset
    params["cy"] += offset
    return Camera(camera.model, camera.width, camera.height, params)


def check_pose(cam2world: np.ndarray, *, scene: str, frame: str, file: Path) -> np.ndarray:
    """The pose as float64 (4, 4), or WaiCameraError if it is not finite or its rotation is not one (within
    `DEFAULT_ROTATION_ATOL`: real captures are orthonormal only to about 1e-4)."""
    pose = np.asarray(cam2world, dtype=np.float64)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)) or not np.allclose(pose[3], (0, 0, 0, 1)):
        raise WaiCameraError(
            f"{where(scene=scene, frame=frame, file=str(file))}: pose is not a finite 4x4 rigid matrix"
        )
    if not is_rotation(pose):
        raise WaiCameraError(
            f"{where(scene=scene, frame=frame, file=str(file))}: rotation is not orthonormal "
            f"(max |R R^T - I| = {orthonormality_error(pose):.2g} > {DEFAULT_ROTATION_ATOL}, or a reflection)"
        )
    return pose


def write_capture(
    out_dir: Path,
    capture: Capture,
    *,
    dataset_name: str,
    scale_type: Literal["metric", "colmap", "relative"],
    read_depth: Callable[[Path], np.ndarray],
    link_mode: LinkMode = "copy",
) -> SceneResult:
    """Check and write every frame of `capture` into `out_dir`; returns the result with the notes to report."""
    scene = out_dir.name
    total = len(capture.frames) + len(capture.missing)
    if not capture.frames:
        raise WaiFileNotFoundError(
            f"{where(scene=scene, file=str(capture.listing))}: none of the {total} listed images exist"
        )
    cameras = [as_pinhole(f.camera) for f in capture.frames]
    distorted = any(not c.is_pinhole for c in cameras)
    has_depth = [f.depth is not None for f in capture.frames]
    if any(has_depth) and not all(has_depth):
        lacking = [f.name for f in capture.frames if f.depth is None]
        raise WaiFileNotFoundError(
            f"{where(scene=scene, file=str(capture.listing))}: {plural(len(lacking), 'frame')} "
            f"{'has' if len(lacking) == 1 else 'have'} no depth while the "
            f"others do: {', '.join(lacking[:10])}"
        )
    shared = cameras[0] if all(c == cameras[0] for c in cameras) else None
    image_key, depth_key = ("image_distorted", "depth_distorted") if distorted else ("image", "depth")
    modalities = {**STANDARD_MODALITIES, **DISTORTED_MODALITIES}
    with SceneWriter(
        out_dir,
        dataset_name=dataset_name,
        scale_type=scale_type,
        camera=shared,
        modalities=modalities,
        link_mode=link_mode,
        meta_name=SCENE_META_DISTORTED if distorted else SCENE_META,
    ) as writer:
        if capture.transforms:
            # Not `record_transform`: it would also set `_applied_transform`, which readers take as a pose transform.
            writer.set(
                "_applied_transforms",
                {k: np.asarray(m, float).tolist() for k, m in capture.transforms.items()},
            )
        for key, value in capture.extra.items():
            writer.set(key, value)
        for frame, camera in zip(capture.frames, cameras, strict=True):
            data: dict[str, Any] = {image_key: _checked_image(frame, camera, scene)}
            if frame.depth is not None:
                data[depth_key] = _checked_depth(frame, camera, scene, read_depth)
            writer.add_frame(frame.name, frame.cam2world, camera=None if shared else camera, **data)
    notes = list(capture.notes)
    if capture.missing:
        notes.append(
            f"{len(capture.missing)} of {total} images listed in {capture.listing.name} are missing "
            f"(converted the other {len(capture.frames)}): {', '.join(capture.missing)}"
        )
    if not any(has_depth):
        notes.append(NO_DEPTH_NOTE)
    if distorted:
        notes.append("distorted cameras: wrote scene_meta_distorted.json; run `wai undistort` next")
    return SceneResult(StageState.FINISHED, "; ".join(notes))


def _checked_image(frame: CaptureFrame, camera: Camera, scene: str) -> Path:
    """The image path, after decoding it once: a truncated or wrongly sized image fails here, naming the file."""
    loc = where(scene=scene, frame=frame.name, file=str(frame.image))
    image = io.load(frame.image, "image")
    if image.shape[:2] != (camera.height, camera.width):
        raise WaiFormatError(
            f"{loc}: image is {image.shape[1]}x{image.shape[0]} (WxH) but its camera says "
            f"{camera.width}x{camera.height}"
        )
    return frame.image


def _checked_depth(
    frame: CaptureFrame, camera: Camera, scene: str, read_depth: Callable[[Path], np.ndarray]
) -> np.ndarray:
    """The depth map as float32 z-depth with 0 where invalid (non-finite or <= 0)."""
    assert frame.depth is not None
    loc = where(scene=scene, frame=frame.name, file=str(frame.depth))
    if not frame.depth.is_file():
        raise WaiFileNotFoundError(f"{loc}: depth map does not exist")
    try:
        depth = np.asarray(read_depth(frame.depth), dtype=np.float32)
    except WaiFormatError as exc:
        raise WaiFormatError(f"{loc}: {exc}") from exc
    if depth.shape != (camera.height, camera.width):
        raise WaiFormatError(
            f"{loc}: depth map has shape {depth.shape} (HxW) but the image is {camera.height}x{camera.width}"
        )
    return np.where(np.isfinite(depth) & (depth > 0), depth, 0.0).astype(np.float32)
