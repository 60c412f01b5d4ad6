"""The rendering stage (process-log name ``rendering``): depth, colour and face ids ray-cast from the scene mesh.

Writes, with the paths, frame keys and formats of the reference's rendering stage, for every frame of ``scene_meta.json``:

- ``rendered_depth/<frame>.exr``       format ``depth`` (half-float z-depth in metres, 0 where no face is hit)
- ``rendered_image/<frame>.png``       format ``image`` (vertex colours, barycentric; only if the mesh has colours)
- ``rendered_mesh_faces/<frame>.npz``  format ``numpy`` (``arr_0`` int32 face index, -1 = none)
- ``rendered_normals/<frame>.exr``     format ``normals`` (unit face normals in the camera frame, OpenCV axes,
  facing the camera; 0 where nothing is hit), only with ``normals=True``; the reference has no such output.

The mesh is the scene modality ``labeled_mesh`` (world frame of the poses, as the ScanNet++ converter writes it).
Unlike the reference: rays come from each frame's own camera through `wai.geometry.pixel_rays`, so the principal
point is honoured, per-frame intrinsics work, and any camera model renders (fisheye rays past 90 degrees are 0);
the mesh is read as the labeled mesh it is; the texture is never flipped in place; ``--overwrite`` removes old
output. Ray casting is CPU Embree (see `wai_converters.stages.raycast`).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np

from wai.errors import WaiFormatError, where
from wai.geometry import pixel_rays
from wai.scene import SCENE_META, open_scene
from wai.stages import Stage
from wai_converters.stages.raycast import MeshRaycaster

STAGE_NAME = "rendering"
OUTPUTS = ("rendered_depth", "rendered_image", "rendered_mesh_faces", "rendered_normals")


@dataclasses.dataclass(frozen=True)
class RenderConfig:
    """Options of the rendering stage (near and far as the reference's ``rendering.yaml``)."""

    mesh_modality: str = "labeled_mesh"  # scene modality holding the mesh
    near: float = 0.01  # hits closer than this (metres) are dropped
    far: float = 1000.0  # and farther than this
    normals: bool = False  # also write rendered_normals
    image: bool = True  # write rendered_image when the mesh has vertex colours
    faces: bool = True  # write rendered_mesh_faces

    def __post_init__(self) -> None:
        if not 0 <= self.near < self.far:
            raise WaiFormatError(f"render: need 0 <= near < far, got near={self.near}, far={self.far}")


class Renderer:
    """The stage function: render one scene folder (picklable: only the config travels to workers)."""

    def __init__(self, config: RenderConfig | None = None) -> None:
        self.config = config or RenderConfig()

    def __call__(self, scene_dir: Path) -> None:
        cfg = self.config
        scene = open_scene(scene_dir, SCENE_META)
        if cfg.mesh_modality not in scene.scene_modality_names:
            raise WaiFormatError(
                f"{where(scene=scene.name, file=SCENE_META, field='scene_modalities')}: no mesh "
                f"'{cfg.mesh_modality}' to render (has: {', '.join(scene.scene_modality_names) or 'none'})"
            )
        mesh = scene.load_scene_modality(cfg.mesh_modality)
        if "faces" not in mesh or len(mesh["faces"]) == 0:
            path = scene.scene_modality_path(cfg.mesh_modality)
            raise WaiFormatError(f"{where(scene=scene.name, file=str(path))}: the mesh has no triangles")
        vertices, faces = mesh["vertices"].astype(np.float64), mesh["faces"]
        caster = MeshRaycaster(vertices, faces)
        colours = mesh.get("vertices_color") if cfg.image else None
        face_normals = _face_normals(vertices, faces) if cfg.normals else None
        for frame in scene.frames:
            camera, pose = frame.camera, frame.cam2world
            rays_cam = pixel_rays(camera).reshape(-1, 3)  # z = 1: the hit parameter is the z-depth
            hits = caster.cast(pose[:3, 3], rays_cam @ pose[:3, :3].T)
            keep = hits.hit & (hits.t >= cfg.near) & (hits.t <= cfg.far)
            h, w = camera.size
            depth = np.where(keep, hits.t, 0.0).astype(np.float32).reshape(h, w)
            scene.write_frame_modality("rendered_depth", frame.index, depth, format="depth")
            face = np.where(keep, hits.face, -1).astype(np.int32)
            if cfg.faces:
                rel = f"rendered_mesh_faces/{frame.name}.npz"
                scene.write_frame_modality(
                    "rendered_mesh_faces", frame.index, face.reshape(h, w), format="numpy", rel_path=rel
                )
            if colours is not None:
                image = _interpolate_colours(colours, faces, face, hits.u, hits.v).reshape(h, w, 3)
                scene.write_frame_modality("rendered_image", frame.index, image, format="image")
            if face_normals is not None:
                normals = _camera_normals(face_normals, face, rays_cam, pose).reshape(h, w, 3)
                scene.write_frame_modality("rendered_normals", frame.index, normals, format="normals")
        scene.save_meta()

    def reset(self, scene_dir: Path) -> None:
        """Remove the output folders of an earlier attempt (the meta entries are rewritten by the next run)."""
        for name in OUTPUTS:
            path = scene_dir / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)


def _face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)


def _interpolate_colours(
    colours: np.ndarray, faces: np.ndarray, face: np.ndarray, u: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """(N, 3) uint8: vertex colours blended with the hit's barycentric weights; black where nothing is hit."""
    out = np.zeros((len(face), 3), np.float32)
    hit = face >= 0
    corners = colours[faces[face[hit]]].astype(np.float32)  # (n, 3 vertices, 3 channels)
    wu, wv = u[hit, None], v[hit, None]
    out[hit] = (1 - wu - wv) * corners[:, 0] + wu * corners[:, 1] + wv * corners[:, 2]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _camera_normals(
    face_normals: np.ndarray, face: np.ndarray, rays_cam: np.ndarray, pose: np.ndarray
) -> np.ndarray:
    """(N, 3) float32 unit normals of the hit faces in the camera frame, turned to face the camera."""
    out = np.zeros((len(face), 3), np.float64)
    hit = face >= 0
    normals = face_normals[face[hit]] @ pose[:3, :3]  # world -> camera: R^T n, row-wise
    away = np.sum(normals * rays_cam[hit], axis=1) > 0
    normals[away] *= -1
    out[hit] = normals
    return out.astype(np.float32)


def render_stage(config: RenderConfig | None = None) -> Stage:
    """The `Stage` for `wai.stages.run_stage`; it runs after undistortion, as in the reference's launch order."""
    renderer = Renderer(config)
    return Stage(STAGE_NAME, renderer, requires=("undistortion",), reset=renderer.reset)
