"""`SyntheticScene`: a list of textured primitives, a fixed light, a sky, and a camera path that stays in free space.

The scene is plain data; `wai.synthetic.render` ray-casts it and `SyntheticScene.to_mesh` exports its geometry for
fixtures that need a mesh (ScanNet++-style layouts, mesh rendering stages). World up is -Y (see
`wai.synthetic.poses`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from wai.synthetic.errors import SyntheticSceneError
from wai.synthetic.poses import orbit_poses, trajectory_poses
from wai.synthetic.primitives import Primitive

SceneKind = Literal["room", "objects", "outdoor"]


@dataclass(frozen=True)
class OrbitPath:
    """Cameras on a circle around ``center`` looking at ``target`` (see `orbit_poses`); ``arc`` radians of it."""

    center: tuple[float, float, float]
    radius: float
    height: float
    target: tuple[float, float, float]
    jitter: float = 0.0
    start_angle: float = 0.0
    arc: float = 2 * np.pi

    def poses(self, n: int, seed: int = 0) -> np.ndarray:
        """(n, 4, 4) cam2world OpenCV poses along the orbit; ``seed`` drives the jitter."""
        return orbit_poses(
            n,
            np.asarray(self.center),
            self.radius,
            self.height,
            jitter=self.jitter,
            seed=seed,
            look_at_target=np.asarray(self.target),
            start_angle=self.start_angle,
            arc=self.arc,
        )


@dataclass(frozen=True)
class WalkPath:
    """Cameras walking from ``start`` to ``end`` while turning from ``yaw_start`` to ``yaw_end`` (see
    `trajectory_poses`)."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    yaw_start: float
    yaw_end: float
    pitch: float = 0.0
    jitter: float = 0.0

    def poses(self, n: int, seed: int = 0) -> np.ndarray:
        """(n, 4, 4) cam2world OpenCV poses along the walk; ``seed`` drives the jitter."""
        return trajectory_poses(
            n,
            np.asarray(self.start),
            np.asarray(self.end),
            yaw_start=self.yaw_start,
            yaw_end=self.yaw_end,
            pitch=self.pitch,
            jitter=self.jitter,
            seed=seed,
        )


@dataclass(frozen=True, eq=False)
class SyntheticScene:
    """A procedural scene.

    name: scene name, e.g. ``room_007``; usable as a folder name.
    kind: which generator made it (``room``, ``objects``, ``outdoor``), or ``custom``.
    seed: the generator seed.
    primitives: the surfaces; primitive i (0-based) has object id i + 1 in renders and meshes.
    camera_path: where cameras can go without entering geometry; `default_poses` samples it.
    light_dir: direction (3,) towards the light (world frame); shading is two-sided Lambertian.
    ambient: fraction of light that reaches every surface regardless of its orientation, in [0, 1].
    sky_horizon, sky_zenith: RGB in [0, 1] of pixels that hit nothing, by ray elevation.
    """

    name: str
    kind: str
    seed: int
    primitives: tuple[Primitive, ...]
    camera_path: OrbitPath | WalkPath
    light_dir: tuple[float, float, float] = (0.3, -1.0, 0.45)
    ambient: float = 0.45
    sky_horizon: tuple[float, float, float] = (0.82, 0.88, 0.95)
    sky_zenith: tuple[float, float, float] = (0.35, 0.55, 0.85)
    labels: dict[int, str] = field(init=False)

    def __post_init__(self) -> None:
        if not self.primitives:
            raise SyntheticSceneError(f"synthetic scene '{self.name}' has no primitives")
        if not 0.0 <= self.ambient <= 1.0:
            raise SyntheticSceneError(
                f"synthetic scene '{self.name}': ambient must be in [0, 1], got {self.ambient}"
            )
        object.__setattr__(self, "primitives", tuple(self.primitives))
        object.__setattr__(self, "labels", {i: p.label for i, p in enumerate(self.primitives, start=1)})

    def default_poses(self, n: int, seed: int | None = None) -> np.ndarray:
        """(n, 4, 4) cam2world OpenCV poses along the scene's camera path (jitter seeded by ``seed`` or the scene's)."""
        return self.camera_path.poses(n, self.seed if seed is None else seed)

    def shade(self, albedo: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """Shaded colour (N, 3) of albedo (N, 3) with unit normals (N, 3): two-sided Lambert, view independent."""
        light = np.asarray(self.light_dir, dtype=np.float64)
        light = light / np.linalg.norm(light)
        lambert = np.abs(normals @ light)
        return albedo * (self.ambient + (1.0 - self.ambient) * lambert)[:, None]

    def sky_color(self, dirs_world: np.ndarray) -> np.ndarray:
        """Sky colour (N, 3) in [0, 1] for unit world directions (N, 3), by elevation above the horizon."""
        elevation = np.clip(-dirs_world[:, 1], 0.0, 1.0)[:, None]  # world up is -Y
        horizon = np.asarray(self.sky_horizon, dtype=np.float64)[None, :]
        zenith = np.asarray(self.sky_zenith, dtype=np.float64)[None, :]
        return horizon + (zenith - horizon) * np.sqrt(elevation)

    def to_labeled_mesh(self, subdivisions: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Like `to_mesh`, plus the object id (F,) int32 of every face (1-based primitive index)."""
        vertices, faces, colors, face_ids = [], [], [], []
        offset = 0
        for index, primitive in enumerate(self.primitives, start=1):
            v, f, uv = primitive.mesh(subdivisions)
            albedo = primitive.texture.color_at(uv)
            shaded = self.shade(albedo, primitive.normals_at(v))
            vertices.append(v)
            faces.append(f + offset)
            colors.append(np.clip(np.rint(shaded * 255.0), 0, 255).astype(np.uint8))
            face_ids.append(np.full(f.shape[0], index, dtype=np.int32))
            offset += v.shape[0]
        return (
            np.concatenate(vertices).astype(np.float32),
            np.concatenate(faces).astype(np.int32),
            np.concatenate(colors),
            np.concatenate(face_ids),
        )

    def to_mesh(self, subdivisions: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The scene as one triangle mesh: vertices (N, 3) float32 in world metres, faces (F, 3) int32 wound with
        outward normals (planes: along their normal), vertex colours (N, 3) uint8 RGB with the render's shading.

        ``subdivisions``: grid cells per side of every plane and box face, and latitude bands of every sphere.
        """
        vertices, faces, colors, _ = self.to_labeled_mesh(subdivisions)
        return vertices, faces, colors
