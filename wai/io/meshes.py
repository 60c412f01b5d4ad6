"""`mesh` and `labeled_mesh`: PLY point clouds and triangle meshes (the reference's layout) as dicts of arrays.

The dict keys are the reference's `labeled_mesh` keys; each vertex group maps to fixed PLY properties, written in
this order (a group only when its key is present):

    vertices                      (N, 3) float32   x, y, z
    vertices_normal               (N, 3) float32   nx, ny, nz
    vertices_color                (N, 3) uint8     red, green, blue
    vertices_semantic_class_id    (N,)   int32     semantic_class_id
    vertices_instance_id          (N,)   int32     instance_id
    vertices_semantic_class_color (N, 3) uint8     semantic_class_red, _green, _blue
    vertices_instance_color       (N, 3) uint8     instance_red, _green, _blue
    faces                         (F, 3) int32     face element, list vertex_indices (uchar count)

The reference's `mesh` loader returns a trimesh object; ours returns the same dict as `labeled_mesh` (without the
`is_labeled_mesh` flag), so `wai` needs no mesh library. Only PLY is supported: `.obj` and `.glb` are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from wai.io.codec import Codec, as_array, format_error
from wai.io.ply import read_ply, write_ply

#: dict key -> (PLY property names, dtype). Order is the write order.
VERTEX_GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "vertices": (("x", "y", "z"), "f4"),
    "vertices_normal": (("nx", "ny", "nz"), "f4"),
    "vertices_color": (("red", "green", "blue"), "u1"),
    "vertices_semantic_class_id": (("semantic_class_id",), "i4"),
    "vertices_instance_id": (("instance_id",), "i4"),
    "vertices_semantic_class_color": (
        ("semantic_class_red", "semantic_class_green", "semantic_class_blue"),
        "u1",
    ),
    "vertices_instance_color": (("instance_red", "instance_green", "instance_blue"), "u1"),
}
FACE_PROPERTIES = ("vertex_indices", "vertex_index")
OTHER_MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".stl", ".off")


def _colour_column(values: np.ndarray) -> np.ndarray:
    """A colour channel as uint8: integers as they are (must be 0..255), floats in [0, 1] scaled by 255."""
    if values.dtype.kind == "f":
        return np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)
    return values.astype(np.uint8)


def mesh_from_elements(elements: dict[str, dict], path: Path, fmt: str) -> dict[str, np.ndarray]:
    """The mesh dict from `read_ply` output."""
    vertex = elements.get("vertex")
    if vertex is None or not all(name in vertex for name in "xyz"):
        raise format_error(path, fmt, "expected a 'vertex' element with x, y, z properties")
    mesh: dict[str, np.ndarray] = {}
    for key, (names, code) in VERTEX_GROUPS.items():
        if not all(name in vertex for name in names):
            continue
        columns = [np.asarray(vertex[name]) for name in names]
        if code == "u1":
            columns = [_colour_column(c) for c in columns]
        stacked = np.stack(columns, axis=-1).astype(code) if len(names) > 1 else columns[0].astype(code)
        mesh[key] = stacked
    face = elements.get("face")
    if face is not None:
        indices = next((face[name] for name in FACE_PROPERTIES if name in face), None)
        if indices is None:
            raise format_error(path, fmt, f"'face' element without a {' or '.join(FACE_PROPERTIES)} list")
        if isinstance(indices, list) or np.ndim(indices) != 2 or np.shape(indices)[1] != 3:
            raise format_error(
                path, fmt, "only triangle faces are supported (every face must list 3 vertices)"
            )
        mesh["faces"] = np.asarray(indices).astype(np.int32)
    return mesh


def _vertex_columns(data: dict[str, Any], path: Path, fmt: str) -> list[tuple[str, np.ndarray]]:
    """Validated (property name, (N,) array) pairs in write order."""
    unknown = set(data) - set(VERTEX_GROUPS) - {"faces", "is_labeled_mesh"}
    if unknown:
        raise format_error(
            path, fmt, f"unknown keys {sorted(unknown)}; expected some of {list(VERTEX_GROUPS)}"
        )
    vertices = as_array(data["vertices"], path, fmt)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise format_error(path, fmt, f"'vertices' must be (N, 3), got shape {vertices.shape}")
    count = len(vertices)
    columns: list[tuple[str, np.ndarray]] = []
    for key, (names, code) in VERTEX_GROUPS.items():
        if key not in data:
            continue
        values = as_array(data[key], path, fmt)
        expected = (count, len(names)) if len(names) > 1 else (count,)
        if values.shape != expected:
            raise format_error(path, fmt, f"'{key}' must have shape {expected}, got {values.shape}")
        if code == "u1" and (
            values.dtype.kind not in "ui" or (values.size and (values.min() < 0 or values.max() > 255))
        ):
            raise format_error(path, fmt, f"'{key}' must hold integers 0..255, got dtype {values.dtype}")
        if code == "i4" and values.dtype.kind not in "ui":
            raise format_error(path, fmt, f"'{key}' must hold integer ids, got dtype {values.dtype}")
        values = values.astype(code).reshape(count, len(names))
        columns += [(name, values[:, i]) for i, name in enumerate(names)]
    return columns


def _faces(data: dict[str, Any], count: int, path: Path, fmt: str) -> np.ndarray | None:
    if "faces" not in data or data["faces"] is None:
        return None
    faces = as_array(data["faces"], path, fmt)
    if faces.ndim != 2 or faces.shape[1] != 3 or (faces.size and faces.dtype.kind not in "ui"):
        raise format_error(
            path, fmt, f"'faces' must be (F, 3) integer indices, got {faces.dtype} {faces.shape}"
        )
    if faces.size and (faces.min() < 0 or faces.max() >= count):
        raise format_error(path, fmt, f"'faces' index vertices outside 0..{count - 1}")
    return faces.astype(np.int32)


class MeshCodec(Codec):
    """PLY point cloud or triangle mesh. Options: store `ascii` (default False: binary little-endian)."""

    name: ClassVar[str] = "mesh"
    suffixes = (".ply",)
    description = (
        "PLY (binary or ASCII) <-> dict: vertices (N,3) float32, faces (F,3) int32, colours, normals"
    )
    labeled: ClassVar[bool] = False

    def check_suffix(self, path: Path, storing: bool = False) -> None:
        if path.suffix.lower() in OTHER_MESH_SUFFIXES:
            raise format_error(path, self.name, f"only PLY meshes are supported, not {path.suffix}")
        super().check_suffix(path, storing)

    def load(self, path: Path) -> dict[str, Any]:
        """{"vertices": (N, 3) float32, optional "faces": (F, 3) int32, "vertices_color": (N, 3) uint8, ...}."""
        mesh: dict[str, Any] = mesh_from_elements(read_ply(path), path, self.name)
        if self.labeled:
            mesh["is_labeled_mesh"] = True
        return mesh

    def store(self, path: Path, data: Any, ascii: bool = False) -> Path:
        if not isinstance(data, dict):
            data = {"vertices": data}
        if "vertices" not in data:
            raise format_error(path, self.name, "expected a dict with at least 'vertices' (N, 3)")
        columns = _vertex_columns(data, path, self.name)
        faces = _faces(data, len(columns[0][1]), path, self.name)
        return write_ply(path, columns, faces, ascii=ascii)


class LabeledMeshCodec(MeshCodec):
    """PLY mesh with per-vertex semantic and instance ids; loads with `is_labeled_mesh=True`."""

    name = "labeled_mesh"
    description = "PLY with semantic_class_id / instance_id per vertex <-> dict (is_labeled_mesh=True)"
    labeled = True
