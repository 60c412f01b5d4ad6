"""Seeded scene generators: an indoor room, objects on a ground plane, and an outdoor block with buildings and trees.

`make_scene(seed, kind)` is deterministic: the same (seed, kind) gives the same primitives, textures and camera
path, bit for bit. Every layout keeps a band of free space where its camera path runs, so no camera ever sits
inside geometry. World up is -Y and the ground is y = 0 (see `wai.synthetic.poses`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import numpy as np
from numpy.typing import ArrayLike

from wai.synthetic.errors import SyntheticSceneError
from wai.synthetic.primitives import Box, Plane, Primitive, Sphere
from wai.synthetic.scene import OrbitPath, SceneKind, SyntheticScene, WalkPath
from wai.synthetic.texture import Texture, random_texture

SCENE_KINDS: tuple[str, ...] = get_args(SceneKind)

# Draws a candidate ground position (x, z) for an object.
SampleXZ = Callable[[np.random.Generator], tuple[float, float]]

_X = np.array([1.0, 0.0, 0.0])
_Y = np.array([0.0, 1.0, 0.0])
_Z = np.array([0.0, 0.0, 1.0])


def yaw_rotation(angle: float) -> np.ndarray:
    """Rotation (3, 3) by ``angle`` radians about the vertical (Y) axis."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rect(
    center: ArrayLike, u: ArrayLike, v: ArrayLike, hu: float, hv: float, texture: Texture, label: str
) -> Plane:
    return Plane(
        center=np.asarray(center, dtype=np.float64),
        u_axis=u,
        v_axis=v,
        half_extent=(hu, hv),
        texture=texture,
        label=label,
    )


class _Footprints:
    """Discs on the ground (x, z, radius) already taken, for rejection sampling of object positions."""

    def __init__(self) -> None:
        self.discs: list[tuple[float, float, float]] = []

    def free(self, x: float, z: float, radius: float, gap: float = 0.1) -> bool:
        return all(np.hypot(x - ox, z - oz) >= radius + r + gap for ox, oz, r in self.discs)

    def add(self, x: float, z: float, radius: float) -> None:
        self.discs.append((x, z, radius))


def _place(
    rng: np.random.Generator, taken: _Footprints, radius: float, sample_xz: SampleXZ
) -> tuple[float, float] | None:
    """Draw positions from ``sample_xz(rng)`` until one is free; None after 200 tries (the object is dropped)."""
    for _ in range(200):
        x, z = sample_xz(rng)
        if taken.free(x, z, radius):
            taken.add(x, z, radius)
            return x, z
    return None


def _disc_sampler(radius: float) -> SampleXZ:
    """A sampler of ground positions (x, z) uniform over a disc of `radius` around the origin."""

    def sample(r: np.random.Generator) -> tuple[float, float]:
        dist, angle = radius * np.sqrt(r.uniform()), r.uniform(0, 2 * np.pi)
        return float(dist * np.cos(angle)), float(dist * np.sin(angle))

    return sample


def _ground_object(
    rng: np.random.Generator, taken: _Footprints, sample_xz: SampleXZ, *, max_size: float = 0.6
) -> list[Primitive]:
    """A box, a sphere, or a sphere on a box, resting on the ground at a free position."""
    choice = rng.integers(3)
    if choice == 1:
        radius = float(rng.uniform(0.2, max_size * 0.85))
        spot = _place(rng, taken, radius, sample_xz)
        if spot is None:
            return []
        return [
            Sphere(
                center=np.array([spot[0], -radius, spot[1]]),
                radius=radius,
                texture=random_texture(rng),
                label="sphere",
            )
        ]
    half = np.array([rng.uniform(0.2, max_size), rng.uniform(0.15, max_size), rng.uniform(0.2, max_size)])
    spot = _place(rng, taken, float(np.hypot(half[0], half[2])), sample_xz)
    if spot is None:
        return []
    box = Box(
        center=np.array([spot[0], -half[1], spot[1]]),
        half_size=half,
        rotation=yaw_rotation(float(rng.uniform(0, np.pi))),
        texture=random_texture(rng),
        label="box",
    )
    if choice == 0:
        return [box]
    radius = float(min(half[0], half[2]) * rng.uniform(0.6, 0.95))
    top = Sphere(
        center=np.array([spot[0], -2 * half[1] - radius, spot[1]]),
        radius=radius,
        texture=random_texture(rng),
        label="sphere",
    )
    return [box, top]


def _room(seed: int, rng: np.random.Generator) -> SyntheticScene:
    width, depth, height = (float(x) for x in (rng.uniform(5, 8), rng.uniform(5, 8), rng.uniform(2.6, 3.2)))
    hw, hd, hh = width / 2, depth / 2, height / 2
    wall = random_texture(rng)
    prims: list[Primitive] = [
        _rect((0, 0, 0), _X, _Z, hw, hd, random_texture(rng, kinds=("checker", "noise")), "floor"),
        _rect((0, -height, 0), _Z, _X, hd, hw, random_texture(rng), "ceiling"),
        _rect((0, -hh, hd), _Y, _X, hh, hw, wall, "wall"),
        _rect((0, -hh, -hd), _X, _Y, hw, hh, random_texture(rng), "wall"),
        _rect((hw, -hh, 0), _Z, _Y, hd, hh, random_texture(rng), "wall"),
        _rect((-hw, -hh, 0), _Y, _Z, hh, hd, random_texture(rng), "wall"),
    ]
    # Posters hang 1 cm in front of the far wall (z = +depth/2), which the walking camera faces.
    for _ in range(int(rng.integers(1, 3))):
        pw, ph = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.25, 0.5))
        px = float(rng.uniform(-hw + pw + 0.2, hw - pw - 0.2))
        prims.append(_rect((px, -1.5, hd - 0.01), _Y, _X, ph, pw, random_texture(rng), "poster"))
    # Objects stay out of the camera band near the z = -depth/2 wall and 0.4 m away from the other walls.
    taken = _Footprints()

    def sample_xz(r: np.random.Generator) -> tuple[float, float]:
        return float(r.uniform(-hw + 1.0, hw - 1.0)), float(r.uniform(-hd + 2.4, hd - 1.0))

    for _ in range(int(rng.integers(3, 6))):
        prims.extend(_ground_object(rng, taken, sample_xz))
    path = WalkPath(
        start=(-hw + 1.0, -1.5, -hd + 0.9),
        end=(hw - 1.0, -1.4, -hd + 1.1),
        yaw_start=0.55,
        yaw_end=-0.55,
        pitch=-0.2,
        jitter=0.01,
    )
    return SyntheticScene(
        name=f"room_{seed:03d}", kind="room", seed=seed, primitives=tuple(prims), camera_path=path
    )


def _objects(seed: int, rng: np.random.Generator) -> SyntheticScene:
    prims: list[Primitive] = [
        _rect((0, 0, 0), _X, _Z, 30.0, 30.0, random_texture(rng, kinds=("checker", "noise")), "ground")
    ]
    # One or two backdrops far away, facing the centre, do not cover the whole horizon: the rest is sky.
    for _ in range(int(rng.integers(1, 3))):
        angle = float(rng.uniform(0, 2 * np.pi))
        distance = float(rng.uniform(12, 16))
        normal = -np.array([np.cos(angle), 0.0, np.sin(angle)])
        center = -normal * distance + np.array([0.0, -3.0, 0.0])
        prims.append(
            _rect(
                center,
                _Y,
                np.cross(_Y, normal),
                3.0,
                float(rng.uniform(6, 10)),
                random_texture(rng, scale_range=(0.5, 1.2)),
                "backdrop",
            )
        )
    taken = _Footprints()

    for _ in range(int(rng.integers(4, 8))):
        prims.extend(_ground_object(rng, taken, _disc_sampler(2.2), max_size=0.5))
    path = OrbitPath(
        center=(0.0, 0.0, 0.0),
        radius=float(rng.uniform(4.5, 5.5)),
        height=1.6,
        target=(0.0, -0.5, 0.0),
        jitter=0.03,
        start_angle=float(rng.uniform(0, 2 * np.pi)),
        arc=float(rng.uniform(np.pi, 2 * np.pi)),
    )
    return SyntheticScene(
        name=f"objects_{seed:03d}", kind="objects", seed=seed, primitives=tuple(prims), camera_path=path
    )


def _outdoor(seed: int, rng: np.random.Generator) -> SyntheticScene:
    prims: list[Primitive] = [
        _rect(
            (0, 0, 0),
            _X,
            _Z,
            60.0,
            60.0,
            random_texture(rng, kinds=("noise", "checker"), scale_range=(0.3, 0.8)),
            "ground",
        )
    ]
    taken = _Footprints()
    taken.add(0.0, 0.0, 6.0)  # the camera ring (radius 4.5) and the centre objects live inside this disc

    def ring(r: np.random.Generator) -> tuple[float, float]:
        radius, angle = r.uniform(7.0, 20.0), r.uniform(0, 2 * np.pi)
        return float(radius * np.cos(angle)), float(radius * np.sin(angle))

    for _ in range(int(rng.integers(8, 13))):
        half = np.array([rng.uniform(1.0, 3.0), rng.uniform(1.5, 5.0), rng.uniform(1.0, 3.0)])
        spot = _place(rng, taken, float(np.hypot(half[0], half[2])), ring)
        if spot is not None:
            prims.append(
                Box(
                    center=np.array([spot[0], -half[1], spot[1]]),
                    half_size=half,
                    rotation=yaw_rotation(float(rng.uniform(0, np.pi))),
                    texture=random_texture(rng, scale_range=(0.4, 1.0)),
                    label="building",
                )
            )
    for _ in range(int(rng.integers(4, 9))):
        trunk, canopy = float(rng.uniform(1.5, 3.0)), float(rng.uniform(0.8, 1.5))
        spot = _place(rng, taken, canopy, ring)
        if spot is not None:
            prims.append(
                Box(
                    center=np.array([spot[0], -trunk / 2, spot[1]]),
                    half_size=np.array([0.12, trunk / 2, 0.12]),
                    texture=random_texture(rng, kinds=("stripes", "noise")),
                    label="trunk",
                )
            )
            prims.append(
                Sphere(
                    center=np.array([spot[0], -trunk - 0.6 * canopy, spot[1]]),
                    radius=canopy,
                    texture=random_texture(rng, kinds=("noise",)),
                    label="canopy",
                )
            )
    centre = _Footprints()

    for _ in range(int(rng.integers(2, 4))):
        prims.extend(_ground_object(rng, centre, _disc_sampler(2.0), max_size=0.6))
    path = OrbitPath(
        center=(0.0, 0.0, 0.0),
        radius=4.5,
        height=1.7,
        target=(0.0, -1.0, 0.0),
        jitter=0.08,
        start_angle=float(rng.uniform(0, 2 * np.pi)),
        arc=float(rng.uniform(np.pi, 2 * np.pi)),
    )
    return SyntheticScene(
        name=f"outdoor_{seed:03d}", kind="outdoor", seed=seed, primitives=tuple(prims), camera_path=path
    )


_GENERATORS = {"room": _room, "objects": _objects, "outdoor": _outdoor}


def make_scene(seed: int, kind: SceneKind = "room") -> SyntheticScene:
    """A procedural scene of the given ``kind``, fully determined by ``seed`` (an integer >= 0).

    room: a closed box room (floor, walls, ceiling, posters) with boxes and spheres; cameras walk along one wall.
    objects: boxes and spheres on a ground plane with one or two far backdrops; the rest of the view is sky
        (depth 0, invalid). Cameras orbit the objects.
    outdoor: a wide ground with buildings and trees around a free plaza with a few objects; cameras orbit the plaza.
    """
    if kind not in _GENERATORS:
        raise SyntheticSceneError(f"synthetic scene kind {kind!r} is unknown; expected one of {SCENE_KINDS}")
    if int(seed) != seed or seed < 0:
        raise SyntheticSceneError(f"synthetic scene seed must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng([int(seed), SCENE_KINDS.index(kind)])
    return _GENERATORS[kind](int(seed), rng)
