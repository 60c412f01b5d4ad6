"""Analytic primitives of a synthetic scene: finite planes (rectangles), oriented boxes and spheres.

Each primitive answers the questions the ray caster and the mesh exporter ask: where does a ray first hit me, what
is my geometric normal at a surface point, which surface coordinates (u, v) in metres does a point have (for the
texture), and what triangle mesh approximates me. All math is float64 numpy, vectorised over rays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from wai.synthetic.errors import SyntheticSceneError
from wai.synthetic.texture import Texture

# Smallest ray parameter (metres) that counts as a hit, so a ray starting on a surface does not hit that surface.
T_MIN = 1e-7
# Relative slack of in-rectangle tests, so rays through the shared edge of two adjacent planes hit one of them.
_EDGE_SLACK = 1e-9


def _vec3(value: object, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise SyntheticSceneError(f"{name} must be 3 finite numbers, got {np.asarray(value).tolist()}")
    return arr


class Primitive(ABC):
    """A textured surface that rays can hit. ``label`` names what it is (``floor``, ``wall``, ``box``, ...)."""

    texture: Texture
    label: str

    @abstractmethod
    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        """Distances (N,) along unit rays ``dirs`` (N, 3) from ``origin`` (3,) to the first hit; ``inf`` on a miss."""

    @abstractmethod
    def normals_at(self, points: np.ndarray) -> np.ndarray:
        """Outward (for planes: ``u_axis x v_axis``) unit normals (N, 3) at surface points (N, 3)."""

    @abstractmethod
    def surface_uv(self, points: np.ndarray) -> np.ndarray:
        """Surface coordinates (N, 2) in metres of surface points (N, 3); they drive the texture lookup."""

    @abstractmethod
    def mesh(self, subdivisions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Triangle mesh on the surface: vertices (V, 3) float64, faces (F, 3) int64 wound so that the right-hand
        normal is the outward normal, and the surface coordinates (V, 2) of each vertex."""


def _check_subdivisions(subdivisions: int, minimum: int = 1) -> int:
    if int(subdivisions) != subdivisions or subdivisions < minimum:
        raise SyntheticSceneError(f"mesh subdivisions must be an integer >= {minimum}, got {subdivisions}")
    return int(subdivisions)


def _grid_faces(rows: int, cols: int) -> np.ndarray:
    """Two triangles per cell of a (rows+1) x (cols+1) vertex grid indexed ``i * (cols + 1) + j``.

    Winding follows (+i direction) x (+j direction).
    """
    i, j = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    v00 = (i * (cols + 1) + j).ravel()
    v10 = v00 + (cols + 1)
    v01 = v00 + 1
    v11 = v10 + 1
    return np.concatenate([np.stack([v00, v10, v11], 1), np.stack([v00, v11, v01], 1)]).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Plane(Primitive):
    """A rectangle centred at ``center`` spanning ``+-half_extent[0]`` along ``u_axis`` and ``+-half_extent[1]``
    along ``v_axis`` (unit, orthogonal). Its normal is ``u_axis x v_axis``; it is visible from both sides."""

    center: np.ndarray
    u_axis: np.ndarray
    v_axis: np.ndarray
    half_extent: tuple[float, float]
    texture: Texture = field(default_factory=Texture)
    label: str = "plane"

    def __post_init__(self) -> None:
        u = _vec3(self.u_axis, "plane u_axis")
        v = _vec3(self.v_axis, "plane v_axis")
        nu, nv = np.linalg.norm(u), np.linalg.norm(v)
        if nu == 0 or nv == 0 or abs(np.dot(u, v)) > 1e-9 * nu * nv:
            raise SyntheticSceneError(
                f"plane axes must be non-zero and orthogonal, got {u.tolist()}, {v.tolist()}"
            )
        hu, hv = (float(x) for x in self.half_extent)
        if not (0 < hu < np.inf and 0 < hv < np.inf):
            raise SyntheticSceneError(
                f"plane half_extent must be two finite positive sizes, got {self.half_extent}"
            )
        object.__setattr__(self, "center", _vec3(self.center, "plane center"))
        object.__setattr__(self, "u_axis", u / nu)
        object.__setattr__(self, "v_axis", v / nv)
        object.__setattr__(self, "half_extent", (hu, hv))

    @property
    def normal(self) -> np.ndarray:
        """Unit normal (3,) = ``u_axis x v_axis``."""
        return np.cross(self.u_axis, self.v_axis)

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        n = self.normal
        denom = dirs @ n
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.dot(self.center - origin, n) / denom
        t = np.where((np.abs(denom) > 1e-12) & (t > T_MIN), t, np.inf)
        hit = np.isfinite(t)
        rel = origin[None, :] + np.where(hit, t, 0.0)[:, None] * dirs - self.center[None, :]
        hu, hv = self.half_extent
        inside = (np.abs(rel @ self.u_axis) <= hu * (1 + _EDGE_SLACK)) & (
            np.abs(rel @ self.v_axis) <= hv * (1 + _EDGE_SLACK)
        )
        return np.where(hit & inside, t, np.inf)

    def normals_at(self, points: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.normal, points.shape).copy()

    def surface_uv(self, points: np.ndarray) -> np.ndarray:
        rel = points - self.center[None, :]
        return np.stack([rel @ self.u_axis, rel @ self.v_axis], axis=1)

    def mesh(self, subdivisions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = _check_subdivisions(subdivisions)
        hu, hv = self.half_extent
        a, b = np.meshgrid(np.linspace(-hu, hu, n + 1), np.linspace(-hv, hv, n + 1), indexing="ij")
        uv = np.stack([a.ravel(), b.ravel()], axis=1)
        vertices = self.center[None, :] + uv[:, :1] * self.u_axis[None, :] + uv[:, 1:] * self.v_axis[None, :]
        return vertices, _grid_faces(n, n), uv


# For box face k (local axis), the two in-face axes (a, b) with e_a x e_b = +e_k.
_BOX_FACE_AXES = ((1, 2), (2, 0), (0, 1))


@dataclass(frozen=True, eq=False)
class Box(Primitive):
    """A box centred at ``center`` with half sizes ``half_size`` (3,) along the columns of ``rotation`` (3, 3),
    the local-to-world rotation. Hit from outside; a ray starting inside hits the wall in front of it."""

    center: np.ndarray
    half_size: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    texture: Texture = field(default_factory=Texture)
    label: str = "box"

    def __post_init__(self) -> None:
        half = _vec3(self.half_size, "box half_size")
        if not np.all(half > 0):
            raise SyntheticSceneError(f"box half_size must be positive, got {half.tolist()}")
        rot = np.asarray(self.rotation, dtype=np.float64)
        if (
            rot.shape != (3, 3)
            or not np.allclose(rot.T @ rot, np.eye(3), atol=1e-9)
            or np.linalg.det(rot) < 0
        ):
            raise SyntheticSceneError(
                "box rotation must be a proper 3x3 rotation matrix (orthonormal, det +1)"
            )
        object.__setattr__(self, "center", _vec3(self.center, "box center"))
        object.__setattr__(self, "half_size", half)
        object.__setattr__(self, "rotation", rot)

    def _to_local(self, points: np.ndarray) -> np.ndarray:
        return (points - self.center[None, :]) @ self.rotation

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        o = (origin - self.center) @ self.rotation
        d = dirs @ self.rotation
        d = np.where(
            d == 0.0, 1e-300, d
        )  # a ray parallel to a slab: its slab distances go to +-inf, never NaN
        with np.errstate(over="ignore", divide="ignore"):
            t1 = (-self.half_size[None, :] - o[None, :]) / d
            t2 = (self.half_size[None, :] - o[None, :]) / d
        t_near = np.minimum(t1, t2).max(axis=1)
        t_far = np.maximum(t1, t2).min(axis=1)
        t = np.where(t_near > T_MIN, t_near, t_far)
        return np.where((t_far >= t_near) & (t > T_MIN), t, np.inf)

    def _faces_of(self, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face axis (N,) and sign (N,) of local surface points: the axis where the point is furthest out."""
        ratio = np.abs(local) / self.half_size[None, :]
        axis = np.argmax(ratio, axis=1)
        sign = np.sign(local[np.arange(local.shape[0]), axis])
        return axis, np.where(sign == 0, 1.0, sign)

    def normals_at(self, points: np.ndarray) -> np.ndarray:
        axis, sign = self._faces_of(self._to_local(points))
        return self.rotation[:, axis].T * sign[:, None]

    def _face_uv(self, local: np.ndarray, axis: np.ndarray, sign: np.ndarray) -> np.ndarray:
        a_idx = np.array([fa[0] for fa in _BOX_FACE_AXES])[axis]
        b_idx = np.array([fa[1] for fa in _BOX_FACE_AXES])[axis]
        rows = np.arange(local.shape[0])
        # Each face gets its own patch of texture space, so opposite faces do not look identical.
        offset = (axis * 2 + (sign > 0)) * 7.31
        return np.stack([local[rows, a_idx] + offset, local[rows, b_idx] - offset], axis=1)

    def surface_uv(self, points: np.ndarray) -> np.ndarray:
        local = self._to_local(points)
        axis, sign = self._faces_of(local)
        return self._face_uv(local, axis, sign)

    def mesh(self, subdivisions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = _check_subdivisions(subdivisions)
        vertices, faces, uvs = [], [], []
        count = 0
        for k, (ia, ib) in enumerate(_BOX_FACE_AXES):
            for s in (-1.0, 1.0):
                # Swap the in-face axes on the negative face so the winding stays outward.
                first, second = (ia, ib) if s > 0 else (ib, ia)
                a, b = np.meshgrid(
                    np.linspace(-self.half_size[first], self.half_size[first], n + 1),
                    np.linspace(-self.half_size[second], self.half_size[second], n + 1),
                    indexing="ij",
                )
                local = np.zeros((a.size, 3))
                local[:, k] = s * self.half_size[k]
                local[:, first] = a.ravel()
                local[:, second] = b.ravel()
                axis = np.full(a.size, k)
                uvs.append(self._face_uv(local, axis, np.full(a.size, s)))
                vertices.append(self.center[None, :] + local @ self.rotation.T)
                faces.append(_grid_faces(n, n) + count)
                count += a.size
        return np.concatenate(vertices), np.concatenate(faces), np.concatenate(uvs)


@dataclass(frozen=True, eq=False)
class Sphere(Primitive):
    """A sphere of ``radius`` metres centred at ``center``; surface (u, v) are longitude and latitude arc lengths."""

    center: np.ndarray
    radius: float
    texture: Texture = field(default_factory=Texture)
    label: str = "sphere"

    def __post_init__(self) -> None:
        if not (0 < float(self.radius) < np.inf):
            raise SyntheticSceneError(f"sphere radius must be a finite positive size, got {self.radius}")
        object.__setattr__(self, "center", _vec3(self.center, "sphere center"))
        object.__setattr__(self, "radius", float(self.radius))

    def intersect(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        oc = origin - self.center
        b = dirs @ oc
        disc = b * b - (oc @ oc - self.radius**2)
        root = np.sqrt(np.maximum(disc, 0.0))
        t_near, t_far = -b - root, -b + root
        t = np.where(t_near > T_MIN, t_near, t_far)
        return np.where((disc >= 0) & (t > T_MIN), t, np.inf)

    def normals_at(self, points: np.ndarray) -> np.ndarray:
        rel = points - self.center[None, :]
        return rel / np.linalg.norm(rel, axis=1, keepdims=True)

    def surface_uv(self, points: np.ndarray) -> np.ndarray:
        q = self.normals_at(points)
        longitude = np.arctan2(q[:, 2], q[:, 0])
        latitude = np.arcsin(np.clip(-q[:, 1], -1.0, 1.0))  # world up is -y
        return np.stack([longitude, latitude], axis=1) * self.radius

    def mesh(self, subdivisions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_lat = _check_subdivisions(subdivisions, minimum=2)
        n_lon = 2 * n_lat
        lat, lon = np.meshgrid(
            np.linspace(-np.pi / 2, np.pi / 2, n_lat + 1),
            np.linspace(-np.pi, np.pi, n_lon + 1),
            indexing="ij",
        )
        q = np.stack([np.cos(lat) * np.cos(lon), -np.sin(lat), np.cos(lat) * np.sin(lon)], axis=-1).reshape(
            -1, 3
        )
        vertices = self.center[None, :] + self.radius * q
        uv = np.stack([lon.ravel(), lat.ravel()], axis=1) * self.radius
        grid = _grid_faces(n_lat, n_lon)
        half = grid.shape[0] // 2
        row = np.tile(np.repeat(np.arange(n_lat), n_lon), 2)
        # Drop the triangles that collapse onto a pole, then flip the winding so normals point outward.
        keep = np.ones(grid.shape[0], dtype=bool)
        keep[half:] &= row[half:] != 0
        keep[:half] &= row[:half] != n_lat - 1
        faces = grid[keep][:, ::-1].copy()
        return vertices, faces, uv
