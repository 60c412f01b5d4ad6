"""Reading a ``transforms.json`` (nerfstudio and instant-ngp variants) into typed records, conventions unchanged.

What the format allows and this reader accepts:

* camera keys at the top level, each overridable per frame: ``camera_model``, ``fl_x``, ``fl_y``, ``cx``, ``cy``,
  ``w``, ``h`` (integral floats such as 1080.0 too), distortion ``k1``-``k4``, ``p1``, ``p2``;
* instant-ngp's ``camera_angle_x`` / ``camera_angle_y`` when a focal length is missing, and ``is_fisheye``;
* ``transform_matrix``: camera-to-world, OpenGL camera axes (x right, y up, looking along -z); 4x4 or 3x4;
* ``applied_transform`` (3x4 or 4x4): the world change the exporter applied to the original (COLMAP) poses;
* ``depth_file_path`` per frame and ``depth_unit_scale_factor`` (metres per stored unit) at the top level.

Other keys (``aabb_scale``, ``sharpness``, instant-ngp's ``scale``/``offset``) are NeRF training settings and
are ignored: they change no pose on disk.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from wai.errors import WaiFileNotFoundError, WaiFormatError, where

#: Camera keys that a frame may override.
CAMERA_KEYS = ("camera_model", "fl_x", "fl_y", "cx", "cy", "w", "h", "k1", "k2", "k3", "k4", "p1", "p2")
_ANGLE_KEYS = ("camera_angle_x", "camera_angle_y", "is_fisheye")


@dataclasses.dataclass(frozen=True)
class TransformsFrame:
    """One listed frame: paths as written (relative to the file's folder), the OpenGL cam2world and the merged
    camera values (frame over top level)."""

    index: int
    file_path: str
    transform_matrix: np.ndarray
    camera: dict[str, Any]
    depth_file_path: str | None


@dataclasses.dataclass(frozen=True)
class Transforms:
    """A parsed transforms.json."""

    path: Path
    frames: list[TransformsFrame]
    applied_transform: np.ndarray | None
    depth_unit_scale_factor: float | None


def _matrix(value: Any, loc: str, rows: tuple[int, ...] = (3, 4)) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise WaiFormatError(f"{loc}: expected a matrix of numbers") from None
    if arr.ndim == 1 and arr.size in (12, 16):
        arr = arr.reshape(-1, 4)
    if arr.ndim != 2 or arr.shape[1] != 4 or arr.shape[0] not in rows or not np.all(np.isfinite(arr)):
        raise WaiFormatError(f"{loc}: expected a finite 4x4 (or 3x4) matrix, got shape {arr.shape}")
    if arr.shape[0] == 3:
        arr = np.vstack([arr, [0.0, 0.0, 0.0, 1.0]])
    return arr


def read_transforms(path: Path) -> Transforms:
    """Parse `path`; bad JSON, missing keys and malformed matrices raise `WaiFormatError` naming file and field."""
    path = Path(path)
    if not path.is_file():
        raise WaiFileNotFoundError(f"{where(file=str(path))}: transforms file does not exist")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WaiFormatError(f"{where(file=str(path))}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("frames"), list) or not meta["frames"]:
        raise WaiFormatError(f"{where(file=str(path), field='frames')}: expected a non-empty list of frames")
    top = {k: meta[k] for k in (*CAMERA_KEYS, *_ANGLE_KEYS) if k in meta}
    applied = None
    if "applied_transform" in meta:
        applied = _matrix(meta["applied_transform"], where(file=str(path), field="applied_transform"))
    scale = meta.get("depth_unit_scale_factor")
    if scale is not None and (
        isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0
    ):
        raise WaiFormatError(
            f"{where(file=str(path), field='depth_unit_scale_factor')}: expected a positive number, got {scale!r}"
        )
    frames = []
    for i, raw in enumerate(meta["frames"]):
        loc = where(file=str(path), field=f"frames[{i}]")

        def at(key: str, i: int = i) -> str:
            return where(file=str(path), field=f"frames[{i}].{key}")

        if not isinstance(raw, dict):
            raise WaiFormatError(f"{loc}: expected an object")
        file_path = raw.get("file_path")
        if not isinstance(file_path, str) or not file_path:
            raise WaiFormatError(f"{at('file_path')}: expected a relative path")
        if "transform_matrix" not in raw:
            raise WaiFormatError(f"{at('transform_matrix')}: missing")
        matrix = _matrix(raw["transform_matrix"], at("transform_matrix"))
        depth = raw.get("depth_file_path")
        if depth is not None and (not isinstance(depth, str) or not depth):
            raise WaiFormatError(f"{at('depth_file_path')}: expected a relative path")
        camera = {**top, **{k: raw[k] for k in (*CAMERA_KEYS, *_ANGLE_KEYS) if k in raw}}
        frames.append(TransformsFrame(i, file_path, matrix, camera, depth))
    return Transforms(path, frames, applied, float(scale) if scale is not None else None)


def camera_values(values: dict[str, Any], loc: str) -> dict[str, Any]:
    """WAI meta camera values (camera_model, fl_x, ..., w, h) from a frame's merged transforms.json values, in the
    file's pixel convention. Needs ``w`` and ``h`` (add them from the image when the file leaves them out)."""
    out = {k: v for k, v in values.items() if k in CAMERA_KEYS}
    for key in ("w", "h"):
        if key not in out:
            raise WaiFormatError(f"{loc}: field '{key}' missing (image size)")
    w, h = out["w"], out["h"]
    for focal, angle, size in (("fl_x", "camera_angle_x", w), ("fl_y", "camera_angle_y", h)):
        if focal not in out and isinstance(values.get(angle), (int, float)) and 0 < values[angle] < math.pi:
            out[focal] = 0.5 * size / math.tan(0.5 * values[angle])
    if "fl_x" not in out:
        raise WaiFormatError(f"{loc}: field 'fl_x' missing (and no camera_angle_x)")
    out.setdefault("fl_y", out["fl_x"])
    out.setdefault("cx", w / 2.0)
    out.setdefault("cy", h / 2.0)
    if "camera_model" not in out:
        distorted = any(out.get(k) not in (None, 0, 0.0) for k in ("k1", "k2", "k3", "k4", "p1", "p2"))
        out["camera_model"] = (
            "OPENCV_FISHEYE" if values.get("is_fisheye") else ("OPENCV" if distorted else "PINHOLE")
        )
    return out
