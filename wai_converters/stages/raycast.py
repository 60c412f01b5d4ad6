"""`MeshRaycaster`: first hits of many rays on a triangle mesh, on the CPU, with Intel Embree (through `embreex`).

Why Embree through `embreex`: on this project's 2-core shared machine, with a 1.57M-triangle room mesh (the size
of a ScanNet++ ``mesh_aligned_0.05.ply``) and 128k rays a frame (benchmarks/bench_render.py), `embreex` cast
0.9-2.6M rays/s (3.5x the numpy caster of `wai.synthetic` on analytic shapes) and Open3D's `RaycastingScene`
about 1.5x more in the same run. `embreex` installs in 46 MB with numpy as its only dependency; Open3D's CPU wheel
takes 313 MB and `import open3d` also needs plotly, dash, nbformat and more. Both run Intel Embree's kernels, and
a frame takes well under a second with either, so the small install wins.

`embreex` is an optional dependency (``pip install 'wai-toolkit[render]'``), imported when a caster is built.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wai.errors import WaiStageError

INSTALL_HINT = "the render stage needs embreex: pip install 'wai-toolkit[render]' (or pip install embreex)"


def _embree():
    try:
        from embreex import rtcore_scene
        from embreex.mesh_construction import TriangleMesh
    except ImportError as exc:
        raise WaiStageError(f"{INSTALL_HINT} ({exc})") from None
    return rtcore_scene, TriangleMesh


@dataclasses.dataclass(frozen=True)
class Hits:
    """First hits of N rays. ``t``: (N,) float32 ray parameter (hit = origin + t * direction), inf for a miss;
    ``face``: (N,) int32 triangle index, -1 for a miss; ``u``, ``v``: (N,) barycentric weights of the triangle's
    second and third vertices."""

    t: np.ndarray
    face: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def hit(self) -> np.ndarray:
        return self.face >= 0


class MeshRaycaster:
    """A triangle mesh, ready for ray casting. ``vertices`` (V, 3) float, ``faces`` (F, 3) integer indices."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        vertices = np.asarray(vertices, dtype=np.float32)
        faces = np.asarray(faces)
        if vertices.ndim != 2 or vertices.shape[1] != 3 or faces.ndim != 2 or faces.shape[1] != 3:
            raise WaiStageError(
                f"MeshRaycaster: expected (V, 3) vertices and (F, 3) faces, got {vertices.shape}, {faces.shape}"
            )
        if len(faces) == 0:
            raise WaiStageError("MeshRaycaster: the mesh has no triangles")
        rtcore_scene, triangle_mesh = _embree()
        self.n_faces = len(faces)
        self._scene = rtcore_scene.EmbreeScene()
        triangle_mesh(
            self._scene, np.ascontiguousarray(vertices), np.ascontiguousarray(faces, dtype=np.int32)
        )

    def cast(self, origins: np.ndarray, directions: np.ndarray, chunk: int = 1 << 18) -> Hits:
        """First hits of rays (N, 3) + (N, 3) (directions need not be unit: `t` is in their length)."""
        origins = np.asarray(origins, dtype=np.float32).reshape(-1, 3)
        directions = np.asarray(directions, dtype=np.float32).reshape(-1, 3)
        if origins.shape != directions.shape:
            origins = np.broadcast_to(origins, directions.shape)
        n = len(directions)
        t = np.full(n, np.inf, np.float32)
        face = np.full(n, -1, np.int32)
        u = np.zeros(n, np.float32)
        v = np.zeros(n, np.float32)
        usable = np.all(np.isfinite(directions), axis=1) & np.any(directions != 0, axis=1)
        rows = np.flatnonzero(usable)
        for start in range(0, len(rows), chunk):
            sel = rows[start : start + chunk]
            out = self._scene.run(
                np.ascontiguousarray(origins[sel]), np.ascontiguousarray(directions[sel]), output=1
            )
            hit = out["geomID"] >= 0
            idx = sel[hit]
            t[idx] = out["tfar"][hit]
            face[idx] = out["primID"][hit]
            u[idx] = out["u"][hit]
            v[idx] = out["v"][hit]
        return Hits(t, face, u, v)
