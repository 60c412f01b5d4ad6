"""Camera rule: every frame's merged camera values pass the camera rules (`wai.camera.rules`), and
`shared_intrinsics` agrees with where the coefficients actually are.

The values are merged frame over scene by `wai.scene.camera_values`, as the reader merges them, and checked by the
same rules `Camera.from_meta` applies, except that a missing `camera_model` is a fault here (the reader takes it as
PINHOLE). Every fault is reported, not only the first; a fault in a scene-level value is reported once for the
scene, not once per frame that inherits it.
"""

from __future__ import annotations

from collections.abc import Iterator

from wai.camera import CameraModel, camera_faults
from wai.camera.models import spec_of
from wai.plural import plural
from wai.scene.cameras import camera_source
from wai.validate.context import FrameEntry, SceneContext
from wai.validate.problem import Problem

_KNOWN_MODELS: dict[str, CameraModel] = {m.value: m for m in CameraModel}
_SIZE_KEYS = ("w", "h")


def _camera_keys(model: CameraModel | None) -> tuple[str, ...]:
    return ("camera_model", *_SIZE_KEYS, *(spec_of(model).accepted if model is not None else ()))


def _model_of(ctx: SceneContext, frame: FrameEntry) -> CameraModel | None:
    return _KNOWN_MODELS.get(ctx.camera_value(frame, "camera_model"))  # type: ignore[arg-type]


def _frame_faults(ctx: SceneContext) -> Iterator[Problem]:
    """The camera rules on every frame; a fault of a scene-level value appears once, with a '(scene level)' field."""
    seen: set[tuple[str | None, str, str]] = set()
    meta = ctx.meta or {}
    for frame in ctx.frames:
        for fault in camera_faults(ctx.camera_values(frame), require_model=True):
            own = camera_source(meta, frame.raw, fault.field) == "frame"
            frame_name = frame.name if own else None
            field = fault.field if own else f"{fault.field} (scene level)"
            key = (frame_name, field, fault.message)
            if key not in seen:
                seen.add(key)
                yield ctx.issue(fault.message, frame=frame_name, field=field)


def _check_sharing(ctx: SceneContext) -> Iterator[Problem]:
    """`shared_intrinsics` true: the scene carries the camera and frames do not override it with other values.
    False: frames carry their own values rather than silently inheriting scene-level ones."""
    meta = ctx.meta or {}
    shared = meta.get("shared_intrinsics")
    if not isinstance(shared, bool) or not ctx.frames:
        return
    if shared:
        scene_model = _KNOWN_MODELS.get(meta.get("camera_model"))  # type: ignore[arg-type]
        needed = ("camera_model", *_SIZE_KEYS, *(spec_of(scene_model).required if scene_model else ()))
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
                f"shared_intrinsics is false but {plural(len(inheriting), 'frame')} "
                f"{'carries' if len(inheriting) == 1 else 'carry'} no camera values of their own "
                f"(first: {inheriting[0]!r}); set shared_intrinsics to true or store per-frame cameras",
                field="shared_intrinsics",
            )


def check_camera(ctx: SceneContext) -> Iterator[Problem]:
    """Every frame's camera passes the camera rules (model, coefficients, w/h); sharing is consistent."""
    if ctx.meta is None:
        return
    yield from _frame_faults(ctx)
    yield from _check_sharing(ctx)
