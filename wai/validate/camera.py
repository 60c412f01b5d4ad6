"""Camera rule: every frame resolves to a known camera model with all of its coefficients, and
`shared_intrinsics` agrees with where the coefficients actually are.

A fault in a scene-level value is reported once for the scene, not once per frame that inherits it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from wai.camera import CAMERA_PARAMS, Camera, CameraModel
from wai.camera.models import required_params
from wai.errors import WaiError
from wai.scene import CAMERA_KEYS
from wai.validate.context import FrameEntry, SceneContext
from wai.validate.problem import Problem

_KNOWN_MODELS: dict[str, CameraModel] = {m.value: m for m in CameraModel}
_SIZE_KEYS = ("w", "h")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_positive_int(value: Any) -> bool:
    """An int > 0; an integral float (``640.0``) is accepted because JSON writers differ on that."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and float(value).is_integer() and value > 0


def _camera_keys(model: CameraModel | None) -> tuple[str, ...]:
    params = CAMERA_PARAMS[model] if model is not None else ()
    return ("camera_model", *_SIZE_KEYS, *params)


class _Collector:
    """Problems keyed by (frame, field, message), so a scene-level fault seen from many frames appears once."""

    def __init__(self, ctx: SceneContext) -> None:
        self.ctx = ctx
        self.items: dict[tuple[str | None, str, str], Problem] = {}

    def add(self, frame: FrameEntry, key: str, message: str) -> None:
        own = key in frame.raw
        frame_name = frame.name if own else None
        field = key if own else f"{key} (scene level)"
        item_key = (frame_name, field, message)
        if item_key not in self.items:
            self.items[item_key] = self.ctx.issue(message, frame=frame_name, field=field)


def _check_frame(ctx: SceneContext, frame: FrameEntry, out: _Collector) -> bool:
    """Check one frame's resolved camera values; True when they are complete and well-typed."""
    ok = True
    model_name = ctx.camera_value(frame, "camera_model")
    model: CameraModel | None = None
    if model_name is None:
        out.add(
            frame,
            "camera_model",
            f"no camera_model at frame or scene level (expected one of {', '.join(_KNOWN_MODELS)})",
        )
        return False
    if not isinstance(model_name, str) or model_name not in _KNOWN_MODELS:
        out.add(
            frame,
            "camera_model",
            f"unknown camera model {model_name!r} (expected one of {', '.join(_KNOWN_MODELS)})",
        )
        ok = False
    else:
        model = _KNOWN_MODELS[model_name]
    for key in _SIZE_KEYS:
        value = ctx.camera_value(frame, key)
        if value is None:
            out.add(frame, key, f"missing '{key}' at frame and scene level (expected a positive integer)")
            ok = False
        elif not _is_positive_int(value):
            out.add(frame, key, f"expected a positive integer, got {value!r}")
            ok = False
    if model is None:
        return False
    required = required_params(model)
    for key in CAMERA_PARAMS[model]:
        value = ctx.camera_value(frame, key)
        if value is None:
            if key in required:
                out.add(frame, key, f"missing coefficient '{key}' required by camera model {model.value}")
                ok = False
        elif not _is_number(value):
            out.add(
                frame,
                key,
                f"coefficient of camera model {model.value} must be a finite number, got {value!r}",
            )
            ok = False
    return ok


def _model_of(ctx: SceneContext, frame: FrameEntry) -> CameraModel | None:
    return _KNOWN_MODELS.get(ctx.camera_value(frame, "camera_model"))  # type: ignore[arg-type]


def _check_sharing(ctx: SceneContext) -> Iterator[Problem]:
    """`shared_intrinsics` true: the scene carries the camera and frames do not override it with other values.
    False: frames carry their own values rather than silently inheriting scene-level ones."""
    meta = ctx.meta or {}
    shared = meta.get("shared_intrinsics")
    if not isinstance(shared, bool) or not ctx.frames:
        return
    if shared:
        scene_model = _KNOWN_MODELS.get(meta.get("camera_model"))  # type: ignore[arg-type]
        needed = ("camera_model", *_SIZE_KEYS, *(required_params(scene_model) if scene_model else ()))
        missing = [k for k in needed if k not in meta]
        if missing:
            yield ctx.issue(
                f"shared_intrinsics is true but the scene level lacks {missing} (expected the shared camera there)",
                field="shared_intrinsics",
            )
        for frame in ctx.frames:
            differ = [
                k
                for k in _camera_keys(_model_of(ctx, frame))
                if k in frame.raw and k in meta and frame.raw[k] != meta[k]
            ]
            if differ:
                detail = ", ".join(f"{k}={frame.raw[k]!r} vs scene {meta[k]!r}" for k in differ)
                yield ctx.issue(
                    f"shared_intrinsics is true but the frame overrides the shared camera ({detail})",
                    frame=frame.name,
                    field="shared_intrinsics",
                )
    else:
        inheriting = [
            f.name for f in ctx.frames if not any(k in f.raw for k in _camera_keys(_model_of(ctx, f))[1:])
        ]
        if inheriting and any(k in meta for k in ("fl_x", "fl_y", "cx", "cy")):
            yield ctx.issue(
                f"shared_intrinsics is false but {len(inheriting)} frame(s) carry no camera values of their own "
                f"(first: {inheriting[0]!r}); set shared_intrinsics to true or store per-frame cameras",
                field="shared_intrinsics",
            )


def check_camera(ctx: SceneContext) -> Iterator[Problem]:
    """Camera model known, its coefficients present and numeric, w/h positive integers, sharing consistent."""
    if ctx.meta is None:
        return
    out = _Collector(ctx)
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for frame in ctx.frames:
        if _check_frame(ctx, frame, out):
            values = {k: v for k in CAMERA_KEYS if (v := ctx.camera_value(frame, k)) is not None}
            key = json.dumps(values, sort_keys=True, default=repr)
            groups.setdefault(key, (values, []))[1].append(frame.name)
    yield from out.items.values()
    # Frames with identical camera values share one construction, so a bad shared camera is reported once.
    for values, names in groups.values():
        try:
            Camera.from_meta(values)
        except WaiError as exc:
            if len(names) == 1:
                yield ctx.issue(f"camera rejected: {exc}", frame=names[0], field="camera")
            else:
                yield ctx.issue(
                    f"camera of {len(names)} frames (first {names[0]!r}) rejected: {exc}", field="camera"
                )
    yield from _check_sharing(ctx)
