"""Ray-casting throughput of `wai render` (Embree through embreex) against baselines in the same run.

    python benchmarks/bench_render.py [--subdivisions 150] [--width 438] [--height 292] [--repeats 3]

Builds a synthetic room as one triangle mesh (subdivisions 150: about 1.6M triangles, the size of a ScanNet++
``mesh_aligned_0.05.ply``), casts one frame's rays and prints rays/s for:

- ``MeshRaycaster`` (the render stage's caster),
- ``wai.synthetic.render``, the numpy ray caster on the room's analytic primitives (a dozen shapes, not a mesh),
- Open3D's ``RaycastingScene`` on the same mesh, if open3d is importable (it is not a dependency),

and each one's ratio to the numpy baseline. Scene build time is reported separately.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from wai.camera import Camera, CameraModel
from wai.geometry import pixel_rays
from wai.synthetic import make_scene, render
from wai_converters.stages.raycast import MeshRaycaster


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subdivisions", type=int, default=150)
    parser.add_argument("--width", type=int, default=438)
    parser.add_argument("--height", type=int, default=292)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    room = make_scene(2, "room")
    vertices, faces, _ = room.to_mesh(args.subdivisions)
    pose = room.default_poses(4, seed=2)[1]
    w, h = args.width, args.height
    camera = Camera(
        CameraModel.PINHOLE, w, h, {"fl_x": 0.7 * w, "fl_y": 0.7 * w, "cx": (w - 1) / 2, "cy": (h - 1) / 2}
    )
    rays = pixel_rays(camera).reshape(-1, 3) @ pose[:3, :3].T
    n = len(rays)
    print(f"mesh: {len(faces):,} triangles; {n:,} rays per frame ({w}x{h})")

    start = time.perf_counter()
    caster = MeshRaycaster(vertices, faces)
    build = time.perf_counter() - start
    embree = n / _best(lambda: caster.cast(pose[:3, 3], rays), args.repeats)
    numpy_rate = n / _best(
        lambda: render(room, pose, K=camera.K, width=w, height=h), max(1, args.repeats - 1)
    )
    print(f"numpy ray caster (wai.synthetic, analytic primitives): {numpy_rate:12,.0f} rays/s   1.00x")
    print(
        f"embreex (MeshRaycaster), build {build:.2f} s:            {embree:12,.0f} rays/s   {embree / numpy_rate:.2f}x"
    )
    try:
        import open3d as o3d
    except Exception as exc:  # open3d is optional here and its import can fail on missing extras
        print(f"open3d RaycastingScene: not measured ({type(exc).__name__}: {exc})")
        return
    start = time.perf_counter()
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor(vertices.astype(np.float32)), o3d.core.Tensor(faces.astype(np.uint32))
    )
    packed = o3d.core.Tensor(
        np.concatenate([np.broadcast_to(pose[:3, 3], rays.shape), rays], 1).astype(np.float32)
    )
    scene.cast_rays(packed)
    build = time.perf_counter() - start
    rate = n / _best(lambda: scene.cast_rays(packed), args.repeats)
    print(
        f"open3d RaycastingScene, build {build:.2f} s:             {rate:12,.0f} rays/s   {rate / numpy_rate:.2f}x"
    )


if __name__ == "__main__":
    main()
