"""Camera models: their names, their coefficients and the lens distortion of each.

A model is split in two steps. A 3D point in the camera frame (OpenCV axes: x right, y down, z forward) first becomes
2D *base coordinates*, then the model's distortion moves those coordinates, and the focal lengths and principal point
turn the result into pixels:

* perspective models (PINHOLE ... FOV): base coordinates are ``(x/z, y/z)``; only points with z > 0 project.
* fisheye models (OPENCV_FISHEYE, THIN_PRISM_FISHEYE, RAD_TAN_THIN_PRISM_FISHEYE): base coordinates are
  ``theta * (x, y) / |(x, y)|`` with theta the angle from the optical axis, so rays up to 180 degrees project.
* EQUIRECTANGULAR has no base coordinates: longitude and latitude map linearly to the full image.

Each model is one `ModelSpec` record in `MODELS`: its coefficient names, its distortion function and its traits.
The distortion functions work on arrays of base coordinates and are the single definition of every model;
projection, iterative unprojection and undistortion maps are all built on them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

import numpy as np


class CameraModel(str, Enum):
    """Camera model names, spelled as in ``scene_meta.json`` (``camera_model``) and in COLMAP."""

    PINHOLE = "PINHOLE"
    SIMPLE_PINHOLE = "SIMPLE_PINHOLE"
    SIMPLE_RADIAL = "SIMPLE_RADIAL"
    RADIAL = "RADIAL"
    OPENCV = "OPENCV"
    OPENCV_FISHEYE = "OPENCV_FISHEYE"
    FULL_OPENCV = "FULL_OPENCV"
    FOV = "FOV"
    THIN_PRISM_FISHEYE = "THIN_PRISM_FISHEYE"
    RAD_TAN_THIN_PRISM_FISHEYE = "RAD_TAN_THIN_PRISM_FISHEYE"
    EQUIRECTANGULAR = "EQUIRECTANGULAR"


_FOCAL = ("fl_x", "fl_y", "cx", "cy")


# --- distortion functions: (params, x, y) -> (xd, yd), all arrays of one shape ------------------------------------

Distortion = Callable[[Mapping[str, float], np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _identity(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x, y


def _simple_radial(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = 1.0 + p["k1"] * (x * x + y * y)
    return x * scale, y * scale


def _radial(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r2 = x * x + y * y
    scale = 1.0 + r2 * (p["k1"] + r2 * p["k2"])
    return x * scale, y * scale


def _tangential(
    x: np.ndarray, y: np.ndarray, r2: np.ndarray, px: float, py: float
) -> tuple[np.ndarray, np.ndarray]:
    """Decentring distortion written as a vector (px, py) = OpenCV's (p2, p1): d = 2 (p . q) q + r^2 p."""
    dot2 = 2.0 * (px * x + py * y)
    return dot2 * x + r2 * px, dot2 * y + r2 * py


def _opencv(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r2 = x * x + y * y
    scale = 1.0 + r2 * (p["k1"] + r2 * (p["k2"] + r2 * p.get("k3", 0.0)))
    tx, ty = _tangential(x, y, r2, p["p2"], p["p1"])
    return x * scale + tx, y * scale + ty


def _full_opencv(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r2 = x * x + y * y
    num = 1.0 + r2 * (p["k1"] + r2 * (p["k2"] + r2 * p["k3"]))
    den = 1.0 + r2 * (p["k4"] + r2 * (p["k5"] + r2 * p["k6"]))
    scale = num / den
    tx, ty = _tangential(x, y, r2, p["p2"], p["p1"])
    return x * scale + tx, y * scale + ty


def _fov(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # COLMAP's FOV model: r_d = atan(2 r tan(omega / 2)) / omega, with its series forms near omega = 0 and r = 0.
    omega = p["omega"]
    r2 = x * x + y * y
    if omega * omega < 1e-4:
        factor = (omega * omega * r2) / 3.0 - omega * omega / 12.0 + 1.0
    else:
        t = np.tan(omega / 2.0)
        r = np.sqrt(r2)
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = np.arctan(2.0 * r * t) / (np.where(r > 0, r, 1.0) * omega)
        series = (-2.0 * t * (4.0 * r2 * t * t - 3.0)) / (3.0 * omega)
        factor = np.where(r2 < 1e-4, series, exact)
    return x * factor, y * factor


def _opencv_fisheye(p: Mapping[str, float], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t2 = x * x + y * y
    scale = 1.0 + t2 * (p["k1"] + t2 * (p["k2"] + t2 * (p["k3"] + t2 * p["k4"])))
    return x * scale, y * scale


def _thin_prism_fisheye(
    p: Mapping[str, float], x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # COLMAP's THIN_PRISM_FISHEYE: radial, decentring and thin-prism terms all added on the angle coordinates.
    t2 = x * x + y * y
    radial = t2 * (p["k1"] + t2 * (p["k2"] + t2 * (p["k3"] + t2 * p["k4"])))
    tx, ty = _tangential(x, y, t2, p["p2"], p["p1"])
    return x + x * radial + tx + p["sx1"] * t2, y + y * radial + ty + p["sy1"] * t2


def _rad_tan_thin_prism_fisheye(
    p: Mapping[str, float], x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Project Aria's FisheyeRadTanThinPrism: a radial polynomial in theta up to theta^12, then decentring and thin
    # prism on the radially distorted coordinates.
    t2 = x * x + y * y
    poly = 0.0
    for i in range(5, -1, -1):
        poly = (poly + p[f"k{i}"]) * t2
    xr, yr = x * (1.0 + poly), y * (1.0 + poly)
    r2 = xr * xr + yr * yr
    tx, ty = _tangential(xr, yr, r2, p["p0"], p["p1"])
    return (
        xr + tx + r2 * (p["s0"] + r2 * p["s1"]),
        yr + ty + r2 * (p["s2"] + r2 * p["s3"]),
    )


@dataclass(frozen=True)
class ModelSpec:
    """Everything `wai` knows about one camera model, in one record.

    params: coefficient names in the reference's order (``w`` and ``h`` are not coefficients).
    distortion: the forward distortion on base coordinates (None for EQUIRECTANGULAR, which has none).
    optional: coefficients the model accepts but does not require.
    single_focal: COLMAP's one-focal models; they also carry ``fl_y``, which must equal ``fl_x``.
    fisheye: base coordinates are angle-scaled, so rays beyond 90 degrees project.
    rotating_pairs: the (x, y) components of each vector-valued term (decentring, thin prism), which turn with the
        image under a 90 degree rotation.
    """

    model: CameraModel
    params: tuple[str, ...]
    distortion: Distortion | None
    optional: tuple[str, ...] = ()
    single_focal: bool = False
    fisheye: bool = False
    rotating_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every coefficient the model takes: its parameters, then the optional ones."""
        return (*self.params, *self.optional)

    @property
    def undistorted(self) -> bool:
        """True for models without any distortion coefficient (PINHOLE, SIMPLE_PINHOLE)."""
        return self.distortion is _identity

    @property
    def required(self) -> tuple[str, ...]:
        """Coefficients a scene meta must give: the focal terms (fl_y may be left out for single-focal models).
        Distortion terms that are left out count as 0, as in the reference's undistortion."""
        return tuple(n for n in self.params if n in _FOCAL and not (n == "fl_y" and self.single_focal))

    @property
    def distortion_names(self) -> tuple[str, ...]:
        """The distortion coefficients (everything but fl_x, fl_y, cx, cy), optional ones included."""
        return tuple(n for n in self.accepted if n not in _FOCAL)


_TANGENTIAL = ("p2", "p1")

#: One record per camera model.
MODELS: dict[CameraModel, ModelSpec] = {
    spec.model: spec
    for spec in (
        ModelSpec(CameraModel.PINHOLE, _FOCAL, _identity),
        ModelSpec(CameraModel.SIMPLE_PINHOLE, _FOCAL, _identity, single_focal=True),
        ModelSpec(CameraModel.SIMPLE_RADIAL, (*_FOCAL, "k1"), _simple_radial, single_focal=True),
        ModelSpec(CameraModel.RADIAL, (*_FOCAL, "k1", "k2"), _radial, single_focal=True),
        # The reference's undistort stage reads an optional k3 for OPENCV (OpenCV's five-coefficient form).
        ModelSpec(
            CameraModel.OPENCV,
            (*_FOCAL, "k1", "k2", "p1", "p2"),
            _opencv,
            optional=("k3",),
            rotating_pairs=(_TANGENTIAL,),
        ),
        ModelSpec(
            CameraModel.OPENCV_FISHEYE, (*_FOCAL, "k1", "k2", "k3", "k4"), _opencv_fisheye, fisheye=True
        ),
        ModelSpec(
            CameraModel.FULL_OPENCV,
            (*_FOCAL, "k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6"),
            _full_opencv,
            rotating_pairs=(_TANGENTIAL,),
        ),
        ModelSpec(CameraModel.FOV, (*_FOCAL, "omega"), _fov),
        ModelSpec(
            CameraModel.THIN_PRISM_FISHEYE,
            (*_FOCAL, "k1", "k2", "p1", "p2", "k3", "k4", "sx1", "sy1"),
            _thin_prism_fisheye,
            fisheye=True,
            rotating_pairs=(_TANGENTIAL, ("sx1", "sy1")),
        ),
        ModelSpec(
            CameraModel.RAD_TAN_THIN_PRISM_FISHEYE,
            (*_FOCAL, *(f"k{i}" for i in range(6)), "p0", "p1", *(f"s{i}" for i in range(4))),
            _rad_tan_thin_prism_fisheye,
            fisheye=True,
            rotating_pairs=(("p0", "p1"), ("s0", "s2"), ("s1", "s3")),
        ),
        ModelSpec(CameraModel.EQUIRECTANGULAR, (), None),
    )
}


def spec_of(model: CameraModel) -> ModelSpec:
    """The record of `model`."""
    return MODELS[CameraModel(model)]


#: Read-only views of the records, kept for callers that index by model.
CAMERA_PARAMS: dict[CameraModel, tuple[str, ...]] = {m: spec.params for m, spec in MODELS.items()}
OPTIONAL_PARAMS: dict[CameraModel, tuple[str, ...]] = {
    m: spec.optional for m, spec in MODELS.items() if spec.optional
}

#: Every coefficient name of any model (focal terms first): the keys a camera may contribute to a meta dict.
ALL_PARAM_NAMES: tuple[str, ...] = tuple(dict.fromkeys(n for spec in MODELS.values() for n in spec.accepted))


def required_params(model: CameraModel) -> tuple[str, ...]:
    """Coefficients a scene meta must give for `model` (see `ModelSpec.required`)."""
    return spec_of(model).required


def distortion_names(model: CameraModel) -> tuple[str, ...]:
    """The distortion coefficients of `model` (see `ModelSpec.distortion_names`)."""
    return spec_of(model).distortion_names


def fold_radius(model: CameraModel, params: Mapping[str, float]) -> float:
    """Largest base-coordinate radius up to which the distortion keeps growing outwards (inf if it always does).

    Past this radius a strongly distorted lens model folds back, and far-away rays would land on pixels that belong
    to rays near the centre; projection marks such points invalid instead of returning those wrong pixels.
    """
    spec = spec_of(model)
    if spec.distortion is None or spec.undistorted:
        return float("inf")
    if spec.fisheye:
        radius = np.linspace(0.0, np.pi, 8001)[1:]
    else:
        radius = np.tan(np.linspace(0.0, np.radians(89.9), 8001)[1:])
    distort = spec.distortion
    limit = float("inf")
    for phi in np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False):
        c, s = np.cos(phi), np.sin(phi)
        xd, yd = distort(params, radius * c, radius * s)
        outward = xd * c + yd * s
        folded = np.flatnonzero(np.diff(outward) <= 0.0)
        if folded.size:
            limit = min(limit, float(radius[folded[0]]))
    return limit
