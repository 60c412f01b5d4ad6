"""Procedural surface textures for the synthetic renderer.

A texture maps surface coordinates (u, v) in metres to an RGB colour. Because the colour depends only on where a
point lies on its surface, a point has the same colour from every view: rendered frames are photo-consistent,
which is what multi-view tests and covisibility need. Every kind can carry a fine value-noise "detail" layer so
that even flat colour regions have texture for feature matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from wai.synthetic.errors import SyntheticSceneError

TextureKind = Literal["checker", "stripes", "noise", "gradient"]
TEXTURE_KINDS: tuple[TextureKind, ...] = ("checker", "stripes", "noise", "gradient")

_MASK64 = 0xFFFFFFFFFFFFFFFF


def _hash_unit(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer lattice point (ix, iy); shapes broadcast."""
    x = ix.astype(np.int64).astype(np.uint64)
    y = iy.astype(np.int64).astype(np.uint64)
    h = x * np.uint64(0x9E3779B97F4A7C15) ^ y * np.uint64(0xC2B2AE3D27D4EB4F)
    h = h ^ np.uint64(((seed & 0xFFFFFFFF) * 0x165667B19E3779F9) & _MASK64)
    # A splitmix64-style finaliser spreads neighbouring lattice points across the whole range (array products
    # wrap modulo 2**64, which is the intent).
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    h = h ^ (h >> np.uint64(31))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def value_noise(uv: np.ndarray, cell: float, seed: int, octaves: int = 3) -> np.ndarray:
    """Smooth fractal value noise in [0, 1] at surface coordinates ``uv`` (N, 2); ``cell`` is the lattice size (m).

    Returns (N,) float64. Deterministic in ``seed``.
    """
    total = np.zeros(uv.shape[0], dtype=np.float64)
    weight_sum = 0.0
    weight = 1.0
    size = cell
    for octave in range(octaves):
        p = uv / size
        base = np.floor(p)
        f = p - base
        s = f * f * (3.0 - 2.0 * f)  # smoothstep: continuous first derivative across cells
        ix, iy = base[:, 0], base[:, 1]
        octave_seed = seed * 131 + octave
        v00 = _hash_unit(ix, iy, octave_seed)
        v10 = _hash_unit(ix + 1, iy, octave_seed)
        v01 = _hash_unit(ix, iy + 1, octave_seed)
        v11 = _hash_unit(ix + 1, iy + 1, octave_seed)
        top = v00 + (v10 - v00) * s[:, 0]
        bottom = v01 + (v11 - v01) * s[:, 0]
        total += weight * (top + (bottom - top) * s[:, 1])
        weight_sum += weight
        weight *= 0.5
        size *= 0.5
    return total / weight_sum


@dataclass(frozen=True)
class Texture:
    """A procedural texture, evaluated on surface coordinates in metres.

    kind: ``checker`` (squares of ``scale`` metres), ``stripes`` (bands ``scale`` metres wide), ``noise`` (value
        noise with cells of ``scale`` metres) or ``gradient`` (smooth colour waves with period ~6 * ``scale``).
    color_a, color_b: the two RGB colours in [0, 1] that the pattern mixes.
    scale: pattern size in metres.
    angle: rotation of the pattern within the surface, radians.
    detail: amplitude of a fine value-noise layer (cells of ``scale / 4``) multiplied over every kind; 0 = none.
    seed: seed of the noise layers.
    """

    kind: TextureKind = "checker"
    color_a: tuple[float, float, float] = (0.9, 0.9, 0.9)
    color_b: tuple[float, float, float] = (0.2, 0.2, 0.2)
    scale: float = 0.25
    angle: float = 0.0
    detail: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in TEXTURE_KINDS:
            raise SyntheticSceneError(
                f"texture kind {self.kind!r} is unknown; expected one of {TEXTURE_KINDS}"
            )
        if not self.scale > 0:
            raise SyntheticSceneError(f"texture scale must be > 0 metres, got {self.scale}")
        for name in ("color_a", "color_b"):
            color = np.asarray(getattr(self, name), dtype=np.float64)
            if color.shape != (3,) or not np.all((color >= 0) & (color <= 1)):
                raise SyntheticSceneError(
                    f"texture {name} must be 3 RGB values in [0, 1], got {color.tolist()}"
                )

    def color_at(self, uv: np.ndarray) -> np.ndarray:
        """RGB colours (N, 3) float64 in [0, 1] at surface coordinates ``uv`` (N, 2) in metres."""
        uv = np.asarray(uv, dtype=np.float64).reshape(-1, 2)
        c, s = np.cos(self.angle), np.sin(self.angle)
        pu = c * uv[:, 0] - s * uv[:, 1]
        pv = s * uv[:, 0] + c * uv[:, 1]
        if self.kind == "checker":
            mix = ((np.floor(pu / self.scale) + np.floor(pv / self.scale)) % 2).astype(np.float64)
        elif self.kind == "stripes":
            mix = (np.floor(pu / self.scale) % 2).astype(np.float64)
        elif self.kind == "noise":
            mix = value_noise(np.stack([pu, pv], axis=1), self.scale, self.seed)
        else:
            period = 6.0 * self.scale
            mix = 0.5 + 0.25 * (np.sin(2 * np.pi * pu / period) + np.cos(2 * np.pi * pv / (1.7 * period)))
        a = np.asarray(self.color_a, dtype=np.float64)
        b = np.asarray(self.color_b, dtype=np.float64)
        color = a[None, :] + (b - a)[None, :] * mix[:, None]
        if self.detail > 0:
            fine = value_noise(uv, self.scale / 4.0, self.seed + 7919, octaves=2)
            color = color * (1.0 - self.detail + 2.0 * self.detail * fine)[:, None]
        return np.clip(color, 0.0, 1.0)


def random_texture(
    rng: np.random.Generator,
    *,
    kinds: tuple[TextureKind, ...] = TEXTURE_KINDS,
    scale_range: tuple[float, float] = (0.12, 0.45),
) -> Texture:
    """Draw a texture with random kind (from ``kinds``), colours, scale (metres, from ``scale_range``) and angle
    from ``rng``; deterministic for a seeded rng. Far or large surfaces want a larger scale to limit aliasing."""
    kind = kinds[int(rng.integers(len(kinds)))]
    a0, a1, a2 = (float(x) for x in rng.uniform(0.35, 0.95, size=3))
    b0, b1, b2 = (float(x) for x in rng.uniform(0.05, 0.55, size=3))
    return Texture(
        kind=kind,
        color_a=(a0, a1, a2),
        color_b=(b0, b1, b2),
        scale=float(rng.uniform(*scale_range)),
        angle=float(rng.uniform(0.0, np.pi)),
        detail=float(rng.uniform(0.1, 0.3)),
        seed=int(rng.integers(0, 2**31 - 1)),
    )
