"""The camera rules: what makes a set of camera values (model, image size, coefficients) a valid camera.

One implementation for everyone: `Camera` and `Camera.from_meta` raise on the first fault, `wai validate` reports
every fault of every frame. The rules work on plain values as they appear in `scene_meta.json` (after the
frame-over-scene merge of `wai.scene.camera_values`) or as passed to `Camera(...)`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wai.camera.models import ALL_PARAM_NAMES, CameraModel, spec_of

_FOCAL = ("fl_x", "fl_y", "cx", "cy")
_SIZE_KEYS = ("w", "h")
_KNOWN = ", ".join(m.value for m in CameraModel)


@dataclass(frozen=True)
class CameraFault:
    """One fault: the camera key it concerns (``fl_x``, ``w``, ``camera_model``) and what is wrong."""

    field: str
    message: str


@dataclass
class CameraCheck:
    """The outcome of applying the rules: every fault, and the parsed values when there are none."""

    faults: list[CameraFault] = field(default_factory=list)
    model: CameraModel | None = None
    width: int | None = None
    height: int | None = None
    params: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.faults


def _number_fault(value: Any) -> str | None:
    """Why `value` is not a finite real number (bools and strings are not), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return f"expected a number, got {type(value).__name__} {value!r}"
    if not math.isfinite(float(value)):
        return f"expected a finite number, got {value!r}"
    return None


def _size_fault(value: Any) -> str | None:
    """Why `value` is not a positive integer image size (integral floats such as 1080.0 are accepted), or None."""
    why = _number_fault(value)
    if why is not None:
        return why
    if float(value) != int(value) or value <= 0:
        return f"expected a positive integer, got {value!r}"
    return None


def _is_zero(value: Any) -> bool:
    return value is None or (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and value == 0
    )


def _model(values: Mapping[str, Any], require_model: bool, out: CameraCheck) -> CameraModel | None:
    raw = values.get("camera_model")
    if raw is None:
        if require_model:
            out.faults.append(CameraFault("camera_model", f"missing (expected one of {_KNOWN})"))
            return None
        distorted = [k for k in ALL_PARAM_NAMES if k not in _FOCAL and not _is_zero(values.get(k))]
        if distorted:
            out.faults.append(
                CameraFault(
                    "camera_model",
                    f"missing, and distortion coefficients {', '.join(distorted)} are non-zero "
                    "(name the model, e.g. OPENCV)",
                )
            )
            return None
        return CameraModel.PINHOLE
    if not isinstance(raw, str):
        out.faults.append(CameraFault("camera_model", f"expected a string, got {raw!r}"))
        return None
    try:
        return CameraModel(raw)
    except ValueError:
        out.faults.append(CameraFault("camera_model", f"unknown model {raw!r} (known: {_KNOWN})"))
        return None


def check_camera_values(
    values: Mapping[str, Any], *, require_model: bool = False, strict_keys: bool = False
) -> CameraCheck:
    """Apply every camera rule to `values` and collect all faults.

    Without ``camera_model`` the camera is PINHOLE, accepted only if no distortion coefficient is non-zero (or a
    fault when `require_model`, as `wai validate` asks). Missing distortion coefficients count as 0; fl_x, fl_y,
    cx, cy are required, except that single-focal models take fl_y = fl_x. A non-zero coefficient of another model
    is a fault (dropping it would misplace pixels); zero ones are ignored, unless `strict_keys` (direct
    construction), where any key that is not the model's is a fault.
    """
    out = CameraCheck()
    model = _model(values, require_model, out)
    sizes: dict[str, int] = {}
    for key in _SIZE_KEYS:
        value = values.get(key)
        why = "missing (image size in pixels)" if value is None else _size_fault(value)
        if why is None:
            sizes[key] = int(value)
        else:
            out.faults.append(CameraFault(key, why))
    if model is None:
        return out
    spec = spec_of(model)
    accepted = spec.accepted
    expected = ", ".join(accepted) or "none"
    if strict_keys:
        for key in sorted(k for k in values if k not in accepted and k not in ("camera_model", *_SIZE_KEYS)):
            out.faults.append(CameraFault(key, f"not a coefficient of {model.value} (expected {expected})"))
    else:
        for key in ALL_PARAM_NAMES:
            if key not in accepted and not _is_zero(values.get(key)):
                out.faults.append(
                    CameraFault(
                        key,
                        f"non-zero value {values[key]!r} is not a coefficient of {model.value} "
                        f"(coefficients: {expected})",
                    )
                )
    params: dict[str, float] = {}
    for name in accepted:
        value = values.get(name)
        if value is None:
            if name in spec.required:
                out.faults.append(CameraFault(name, f"missing (required by {model.value})"))
            elif name in spec.params and not (name == "fl_y" and spec.single_focal):
                params[name] = 0.0
            continue
        why = _number_fault(value)
        if why is None:
            params[name] = float(value)
        else:
            out.faults.append(CameraFault(name, why))
    if spec.single_focal and "fl_y" not in params and values.get("fl_y") is None and "fl_x" in params:
        params["fl_y"] = params["fl_x"]
    if spec.distortion is not None:
        for name in ("fl_x", "fl_y"):
            if name in params and params[name] <= 0:
                out.faults.append(CameraFault(name, f"expected a positive focal length, got {params[name]}"))
    if spec.single_focal and "fl_x" in params and "fl_y" in params:
        if not math.isclose(params["fl_x"], params["fl_y"], rel_tol=1e-9):
            out.faults.append(
                CameraFault(
                    "fl_y",
                    f"{model.value} has one focal length, but fl_x={params['fl_x']} and fl_y={params['fl_y']} "
                    "(use PINHOLE or OPENCV for two)",
                )
            )
    if not out.faults:
        out.model, out.width, out.height = model, sizes["w"], sizes["h"]
        out.params = {name: params[name] for name in accepted if name in params}
    return out


def image_size(values: Mapping[str, Any]) -> tuple[int, int] | None:
    """(h, w) of a set of camera values when both pass the size rule, else None (the faults say why)."""
    sizes = [values.get(key) for key in ("h", "w")]
    if any(v is None or _size_fault(v) is not None for v in sizes):
        return None
    return int(sizes[0]), int(sizes[1])


def camera_faults(values: Mapping[str, Any], *, require_model: bool = False) -> list[CameraFault]:
    """Every fault of a set of merged camera meta values (see `check_camera_values`); empty when they are valid."""
    return check_camera_values(values, require_model=require_model).faults
