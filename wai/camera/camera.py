"""`Camera`: one camera model with its image size and coefficients, and the maths to project and unproject.

Pixel convention (used everywhere in `wai`, as in the reference): integer pixel coordinates (u, v) are pixel
*centres*; u runs along columns (to the right), v along rows (down). The image covers the continuous range
[-0.5, w - 0.5] x [-0.5, h - 0.5], so a perfectly centred principal point is ((w - 1) / 2, (h - 1) / 2).
Camera frame: OpenCV axes, x right, y down, z forward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np

from wai.camera.inverse import undistort_base
from wai.camera.models import CameraModel, ModelSpec, fold_radius, spec_of
from wai.camera.rules import CameraCheck, check_camera_values
from wai.errors import WaiCameraError


def _loc(where: str) -> str:
    return f"{where}: " if where else ""


def _raise_first(check: CameraCheck, where: str) -> None:
    if check.faults:
        fault = check.faults[0]
        raise WaiCameraError(f"{_loc(where)}field '{fault.field}': {fault.message}")


@dataclass(frozen=True)
class Camera:
    """A camera: model, image size in pixels and coefficients keyed by WAI names (fl_x, fl_y, cx, cy, k1, ...).

    Missing distortion coefficients default to 0 (the reference reads them that way); fl_x, fl_y, cx, cy are required,
    except that the single-focal models (SIMPLE_PINHOLE, SIMPLE_RADIAL, RADIAL) take fl_y = fl_x when it is absent.
    """

    model: CameraModel
    width: int
    height: int
    params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._validate("")

    def _validate(self, where: str) -> None:
        values = {**dict(self.params), "camera_model": self.model, "w": self.width, "h": self.height}
        check = check_camera_values(values, strict_keys=True)
        _raise_first(check, where)
        self._set(check)

    def _set(self, check: CameraCheck) -> None:
        object.__setattr__(self, "model", check.model)
        object.__setattr__(self, "width", check.width)
        object.__setattr__(self, "height", check.height)
        object.__setattr__(self, "params", MappingProxyType(check.params))

    def __hash__(self) -> int:
        return hash((self.model, self.width, self.height, tuple(sorted(self.params.items()))))

    def __reduce__(self) -> tuple[Any, ...]:
        # The read-only params mapping cannot be pickled itself; cameras travel to worker processes.
        return (Camera, (self.model, self.width, self.height, dict(self.params)))

    def __repr__(self) -> str:
        coeffs = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"Camera({self.model.value}, {self.width}x{self.height}, {coeffs})"

    # --- metadata ----------------------------------------------------------------------------------------------

    @classmethod
    def from_meta(cls, values: Mapping[str, Any], *, where: str = "") -> Camera:
        """Build a camera from merged frame-over-scene meta values (camera_model, fl_x, fl_y, cx, cy, w, h, k1, ...).

        The rules are `wai.camera.rules.check_camera_values`; the first fault raises WaiCameraError naming the field
        and `where`. Without ``camera_model`` the camera is PINHOLE, which is only accepted if no distortion key is
        non-zero. A non-zero coefficient that does not belong to the model (a PINHOLE frame with k1 = -0.2) is an
        error: silently dropping it would misplace pixels.
        """
        check = check_camera_values(values)
        _raise_first(check, where)
        camera = cls.__new__(cls)
        camera._set(check)
        return camera

    @classmethod
    def pinhole(cls, K: np.ndarray, width: int, height: int) -> Camera:  # noqa: N803 - the usual name of K
        """A PINHOLE camera of `width` x `height` pixels from a (3, 3) intrinsics matrix without skew.

        Raises WaiCameraError for another shape, a skew term or a last row other than (0, 0, 1)."""
        K = np.asarray(K, dtype=np.float64)
        if K.shape != (3, 3):
            raise WaiCameraError(f"expected a (3, 3) intrinsics matrix K, got shape {K.shape}")
        if K[0, 1] != 0 or K[1, 0] != 0 or np.any(K[2] != (0.0, 0.0, 1.0)):
            raise WaiCameraError(
                f"K must be [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (no skew), got {K.tolist()}"
            )
        params = {"fl_x": float(K[0, 0]), "fl_y": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2])}
        return cls(CameraModel.PINHOLE, width, height, params)

    def to_meta(self) -> dict[str, Any]:
        """The inverse of `from_meta`: ``camera_model``, the coefficients, ``w`` and ``h``, ready for JSON."""
        out: dict[str, Any] = {"camera_model": self.model.value}
        out.update((k, float(v)) for k, v in self.params.items())
        out["w"] = self.width
        out["h"] = self.height
        return out

    # --- properties --------------------------------------------------------------------------------------------

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the usual name of the intrinsics matrix
        """(3, 3) float64 intrinsics [[fl_x, 0, cx], [0, fl_y, cy], [0, 0, 1]] (of the distortion-free part)."""
        if self.model is CameraModel.EQUIRECTANGULAR:
            raise WaiCameraError("EQUIRECTANGULAR cameras have no intrinsics matrix")
        p = self.params
        return np.array([[p["fl_x"], 0.0, p["cx"]], [0.0, p["fl_y"], p["cy"]], [0.0, 0.0, 1.0]])

    @property
    def is_pinhole(self) -> bool:
        """True if the camera is an ideal perspective camera: a pinhole model or a perspective model with all
        distortion terms zero. Fisheye models are never pinhole, even with zero coefficients (they are then
        equidistant fisheyes, r = f * theta), and neither is EQUIRECTANGULAR."""
        spec = self.spec
        if spec.undistorted:
            return True
        if spec.fisheye or spec.distortion is None:
            return False
        return all(self.params[k] == 0.0 for k in spec.distortion_names if k in self.params)

    @property
    def is_fisheye(self) -> bool:
        """True for the angle-based models, whose `unproject` returns unit rays and may see past 90 degrees."""
        return self.spec.fisheye

    @property
    def spec(self) -> ModelSpec:
        """The record of this camera's model (coefficients, distortion, traits)."""
        return spec_of(self.model)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width), the shape of this camera's images."""
        return self.height, self.width

    @cached_property
    def fold_radius(self) -> float:
        """Base-coordinate radius past which the distortion folds back (inf if never); see `models.fold_radius`."""
        return fold_radius(self.model, self.params)

    # --- projection --------------------------------------------------------------------------------------------

    def project(self, points_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project camera-frame points (..., 3) to pixels: returns uv (..., 2) float64 and valid (...,) bool.

        Valid means the model defines the projection: z > 0 for perspective models, angle from the axis below 180
        degrees for fisheyes, and in both cases inside the radius where the distortion is still one-to-one. Invalid
        points get NaN pixels. Valid pixels may still fall outside the image; see `in_image`.
        """
        pts = np.asarray(points_cam, dtype=np.float64)
        if pts.shape[-1] != 3:
            raise WaiCameraError(f"project: expected points of shape (..., 3), got {pts.shape}")
        x, y, z = pts[..., 0], pts[..., 1], pts[..., 2]
        if self.model is CameraModel.EQUIRECTANGULAR:
            lon = np.arctan2(x, z)
            lat = np.arctan2(y, np.hypot(x, z))
            u = (lon / (2 * np.pi) + 0.5) * self.width - 0.5
            v = (lat / np.pi + 0.5) * self.height - 0.5
            valid = (x != 0) | (y != 0) | (z != 0)
            valid &= np.isfinite(u) & np.isfinite(v)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                if self.spec.fisheye:
                    rho = np.hypot(x, y)
                    theta = np.arctan2(rho, z)
                    scale = np.where(
                        rho > 0, theta / np.where(rho > 0, rho, 1.0), 1.0 / np.where(z > 0, z, 1.0)
                    )
                    bx, by = x * scale, y * scale
                    valid = (theta < np.pi) & ((rho > 0) | (z > 0))
                else:
                    valid = z > 0
                    bx, by = x / z, y / z
                radius = np.hypot(bx, by)
                valid &= np.isfinite(radius) & (radius <= self.fold_radius)
                bx = np.where(valid, bx, 0.0)
                by = np.where(valid, by, 0.0)
                xd, yd = self.spec.distortion(self.params, bx, by)  # type: ignore[misc]
            p = self.params
            u = p["fl_x"] * xd + p["cx"]
            v = p["fl_y"] * yd + p["cy"]
        uv = np.stack([u, v], axis=-1)
        uv[~valid] = np.nan
        return uv, valid

    def unproject(self, uv: np.ndarray, *, normalize: bool | None = None) -> np.ndarray:
        """Pixels (..., 2) -> camera-frame ray directions (..., 3) float64, one per pixel.

        By default perspective models return rays with z = 1 (so a z-depth d gives the point d * ray), and fisheye
        and EQUIRECTANGULAR cameras return unit rays (their field of view can exceed 180 degrees, where z = 1 cannot
        be reached). `normalize=True` asks for unit rays from any model; `normalize=False` for z = 1 rays from any
        model (NaN where the ray points sideways or backwards). Distorted models are inverted iteratively (to
        ~1e-9 px); pixels the model cannot reach come back as NaN rays.
        """
        pix = np.asarray(uv, dtype=np.float64)
        if pix.shape[-1] != 2:
            raise WaiCameraError(f"unproject: expected pixels of shape (..., 2), got {pix.shape}")
        u, v = pix[..., 0], pix[..., 1]
        if self.model is CameraModel.EQUIRECTANGULAR:
            lon = ((u + 0.5) / self.width - 0.5) * 2 * np.pi
            lat = ((v + 0.5) / self.height - 0.5) * np.pi
            rays = np.stack([np.cos(lat) * np.sin(lon), np.sin(lat), np.cos(lat) * np.cos(lon)], axis=-1)
            unit_by_default = True
        else:
            p = self.params
            xd = (u - p["cx"]) / p["fl_x"]
            yd = (v - p["cy"]) / p["fl_y"]
            bx, by = undistort_base(self.model, p, xd, yd, self.fold_radius)
            if self.spec.fisheye:
                theta = np.hypot(bx, by)
                with np.errstate(divide="ignore", invalid="ignore"):
                    s = np.where(theta > 0, np.sin(theta) / np.where(theta > 0, theta, 1.0), 1.0)
                rays = np.stack([bx * s, by * s, np.cos(theta)], axis=-1)
                unit_by_default = True
            else:
                rays = np.stack([bx, by, np.where(np.isnan(bx), np.nan, 1.0)], axis=-1)
                unit_by_default = False
        want_unit = unit_by_default if normalize is None else normalize
        if want_unit and not unit_by_default:
            rays = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
        elif not want_unit and unit_by_default:
            z = rays[..., 2:3]
            with np.errstate(divide="ignore", invalid="ignore"):
                rays = np.where(z > 1e-12, rays / z, np.nan)
        return rays

    def in_image(self, uv: np.ndarray) -> np.ndarray:
        """(...,) bool: pixel coordinates (..., 2) inside the image area [-0.5, w - 0.5) x [-0.5, h - 0.5)."""
        pix = np.asarray(uv, dtype=np.float64)
        u, v = pix[..., 0], pix[..., 1]
        return (u >= -0.5) & (u < self.width - 0.5) & (v >= -0.5) & (v < self.height - 0.5)

    def pixel_grid(self) -> np.ndarray:
        """(H, W, 2) float64 pixel-centre coordinates (u, v) of every pixel."""
        v, u = np.mgrid[0 : self.height, 0 : self.width].astype(np.float64)
        return np.stack([u, v], axis=-1)

    # --- intrinsics bookkeeping ---------------------------------------------------------------------------------

    def _with(self, model: CameraModel, width: int, height: int, params: Mapping[str, float]) -> Camera:
        return Camera(model, width, height, dict(params))

    def scaled(self, sx: float, sy: float | None = None) -> Camera:
        """The camera of this image resized by factors (sx, sy); the new size is the rounded scaled size.

        With pixel centres at integers, the image edge -0.5 stays at -0.5: c' = s * (c + 0.5) - 0.5, f' = s * f.
        Distortion coefficients act on base coordinates and do not change. A single-focal model scaled unevenly
        becomes its two-focal counterpart (SIMPLE_PINHOLE -> PINHOLE, SIMPLE_RADIAL and RADIAL -> OPENCV).
        Pass the exact factors of the resize, new_w / w and new_h / h (or use `resized`).
        """
        sy = sx if sy is None else sy
        if not (sx > 0 and sy > 0):
            raise WaiCameraError(f"scaled: factors must be positive, got ({sx}, {sy})")
        width, height = round(self.width * sx), round(self.height * sy)
        if self.model is CameraModel.EQUIRECTANGULAR:
            return self._with(self.model, width, height, {})
        p = dict(self.params)
        p["fl_x"] *= sx
        p["fl_y"] *= sy
        p["cx"] = sx * (p["cx"] + 0.5) - 0.5
        p["cy"] = sy * (p["cy"] + 0.5) - 0.5
        model = self.model
        if self.spec.single_focal and not math.isclose(sx, sy, rel_tol=1e-12):
            if model is CameraModel.SIMPLE_PINHOLE:
                model = CameraModel.PINHOLE
            else:
                model = CameraModel.OPENCV
                p = {**{k: 0.0 for k in spec_of(model).params}, **p}
        return self._with(model, width, height, p)

    def resized(self, width: int, height: int) -> Camera:
        """The camera of this image resized to exactly (width, height) pixels."""
        cam = self.scaled(width / self.width, height / self.height)
        return cam._with(cam.model, width, height, cam.params)

    def cropped(self, x0: int, y0: int, width: int, height: int) -> Camera:
        """The camera of the crop ``image[y0:y0 + height, x0:x0 + width]``: the principal point moves by -(x0, y0).

        The crop must lie inside the image. EQUIRECTANGULAR cameras cannot be cropped (the result is not one).
        """
        if self.model is CameraModel.EQUIRECTANGULAR:
            raise WaiCameraError(
                "cropped: a crop of an EQUIRECTANGULAR image is not an EQUIRECTANGULAR image"
            )
        if not (0 <= x0 and 0 <= y0 and width > 0 and height > 0):
            raise WaiCameraError(f"cropped: bad crop window x0={x0}, y0={y0}, width={width}, height={height}")
        if x0 + width > self.width or y0 + height > self.height:
            raise WaiCameraError(
                f"cropped: window x0={x0}, y0={y0}, {width}x{height} leaves the {self.width}x{self.height} image"
            )
        p = dict(self.params)
        p["cx"] -= x0
        p["cy"] -= y0
        return self._with(self.model, width, height, p)

    def rotated_90(self, k: int = 1) -> Camera:
        """The camera of ``np.rot90(image, k)`` (k quarter turns counter-clockwise, as numpy counts).

        One turn maps pixel (u, v) to (v, w - 1 - u): fl_x and fl_y swap, c' = (cy, w - 1 - cx), and the vector-valued
        distortion terms (decentring, thin prism) turn with the image. The camera frame turns too: pair this with
        `conventions.rotate_cam2world_90` for the pose.
        """
        if self.model is CameraModel.EQUIRECTANGULAR:
            raise WaiCameraError(
                "rotated_90: a rotated EQUIRECTANGULAR image is not an EQUIRECTANGULAR image"
            )
        cam = self
        for _ in range(k % 4):
            p = dict(cam.params)
            p["fl_x"], p["fl_y"] = cam.params["fl_y"], cam.params["fl_x"]
            p["cx"], p["cy"] = cam.params["cy"], cam.width - 1 - cam.params["cx"]
            # New base coordinates are (y, -x); a vector term (ax, ay) becomes (ay, -ax).
            for name_x, name_y in cam.spec.rotating_pairs:
                p[name_x], p[name_y] = cam.params[name_y], -cam.params[name_x]
            cam = cam._with(cam.model, cam.height, cam.width, p)
        return cam
