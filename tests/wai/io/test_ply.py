"""PLY meshes and point clouds: binary and ASCII, files from other writers, the labeled-mesh layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.wai.io.helpers import write
from wai.errors import WaiFormatError
from wai.io import load, store

RNG = np.random.default_rng(3)


def _labeled_mesh(n: int = 10) -> dict[str, np.ndarray]:
    return {
        "vertices": RNG.normal(size=(n, 3)).astype(np.float32),
        "vertices_normal": np.tile(np.array([0, 0, 1], np.float32), (n, 1)),
        "vertices_color": RNG.integers(0, 256, (n, 3)).astype(np.uint8),
        "vertices_semantic_class_id": RNG.integers(0, 50, n).astype(np.int32),
        "vertices_instance_id": RNG.integers(-1, 500, n).astype(np.int32),
        "vertices_semantic_class_color": RNG.integers(0, 256, (n, 3)).astype(np.uint8),
        "vertices_instance_color": RNG.integers(0, 256, (n, 3)).astype(np.uint8),
        "faces": RNG.integers(0, n, (2 * n, 3)).astype(np.int32),
    }


@pytest.mark.parametrize("ascii", [False, True])
def test_labeled_mesh_round_trip(tmp_path: Path, ascii: bool) -> None:
    mesh = _labeled_mesh()
    path = store(tmp_path / "labeled_mesh.ply", mesh, "labeled_mesh", ascii=ascii)
    header = path.read_bytes().split(b"end_header")[0].decode()
    assert ("format ascii 1.0" if ascii else "format binary_little_endian 1.0") in header
    loaded = load(path, "labeled_mesh")
    assert loaded.pop("is_labeled_mesh") is True
    assert sorted(loaded) == sorted(mesh)
    for key, value in mesh.items():
        assert loaded[key].dtype == value.dtype, key
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


def test_property_order_matches_the_reference(tmp_path: Path) -> None:
    mesh = _labeled_mesh(3)
    del mesh["vertices_normal"]
    path = store(tmp_path / "m.ply", mesh, "labeled_mesh")
    header = path.read_bytes().split(b"end_header")[0].decode().splitlines()
    properties = [line.split()[-1] for line in header if line.startswith("property")]
    assert properties == [
        "x", "y", "z", "red", "green", "blue", "semantic_class_id", "instance_id",
        "semantic_class_red", "semantic_class_green", "semantic_class_blue",
        "instance_red", "instance_green", "instance_blue", "vertex_indices",
    ]  # fmt: skip
    assert "property list uchar int vertex_indices" in header
    assert "property float x" in header and "property int instance_id" in header
    blob = path.read_bytes()
    size = len(blob) - blob.index(b"end_header\n") - len(b"end_header\n")
    assert size == 3 * (12 + 3 + 4 + 4 + 3 + 3) + len(mesh["faces"]) * (1 + 12)


def test_point_cloud_from_array(tmp_path: Path) -> None:
    points = RNG.random((50, 3))  # float64 in, float32 on disk
    loaded = load(store(tmp_path / "cloud.ply", points, "mesh"))
    assert sorted(loaded) == ["vertices"]
    np.testing.assert_array_equal(loaded["vertices"], points.astype(np.float32))


def test_reads_handwritten_ascii(tmp_path: Path) -> None:
    text = (
        "ply\r\nformat ascii 1.0\r\ncomment made by hand\r\nobj_info nothing\r\n"
        "element vertex 4\r\nproperty float x\r\nproperty float y\r\nproperty float z\r\n"
        "property uchar red\r\nproperty uchar green\r\nproperty uchar blue\r\n"
        "element face 2\r\nproperty list uchar uint vertex_index\r\n"
        "element edge 1\r\nproperty int vertex1\r\nproperty int vertex2\r\n"
        "end_header\r\n"
        "0 0 0 255 0 0\r\n1 0 0 0 255 0\r\n0 1 0 0 0 255\r\n1 1 0.5 10 20 30\r\n"
        "3 0 1 2\r\n3 1 3 2\r\n"
        "0 1\r\n"
    )
    loaded = load(write(tmp_path / "hand.ply", text.encode()), "mesh")
    np.testing.assert_array_equal(loaded["vertices"][3], [1, 1, 0.5])
    np.testing.assert_array_equal(loaded["vertices_color"][0], [255, 0, 0])
    np.testing.assert_array_equal(loaded["faces"], [[0, 1, 2], [1, 3, 2]])
    assert loaded["faces"].dtype == np.int32


def test_reads_big_endian_binary(tmp_path: Path) -> None:
    header = (
        "ply\nformat binary_big_endian 1.0\nelement vertex 3\n"
        "property double x\nproperty double y\nproperty double z\nproperty float nx\nproperty float ny\n"
        "property float nz\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n"
    )
    vertices = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], np.float64)
    records = np.empty(3, [("xyz", ">f8", (3,)), ("n", ">f4", (3,))])
    records["xyz"], records["n"] = vertices, [0, 0, 1]
    face = np.array([(3, (0, 1, 2))], [("c", "u1"), ("i", ">i4", (3,))])
    path = write(tmp_path / "be.ply", header.encode() + records.tobytes() + face.tobytes())
    loaded = load(path, "mesh")
    np.testing.assert_array_equal(loaded["vertices"], vertices.astype(np.float32))
    np.testing.assert_array_equal(loaded["vertices_normal"][:, 2], 1.0)
    np.testing.assert_array_equal(loaded["faces"], [[0, 1, 2]])


def test_non_triangle_faces_are_refused(tmp_path: Path) -> None:
    header = (
        "ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
        "property float z\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n"
    )
    vertices = np.zeros((4, 3), "<f4").tobytes()
    faces = (
        bytes([3])
        + np.array([0, 1, 2], "<i4").tobytes()
        + bytes([4])
        + np.array([0, 1, 2, 3], "<i4").tobytes()
    )
    path = write(tmp_path / "quads.ply", header.encode() + vertices + faces)
    with pytest.raises(WaiFormatError, match=r"quads\.ply.*only triangle faces"):
        load(path, "mesh")


def test_truncated_binary_body(tmp_path: Path) -> None:
    path = store(tmp_path / "m.ply", {"vertices": np.zeros((100, 3), np.float32)}, "mesh")
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(WaiFormatError, match=r"m\.ply.*truncated in element 'vertex'"):
        load(path, "mesh")


@pytest.mark.parametrize("suffix", [".obj", ".glb"])
def test_only_ply_is_supported(tmp_path: Path, suffix: str) -> None:
    path = write(tmp_path / f"mesh{suffix}", b"whatever")
    with pytest.raises(WaiFormatError, match=f"only PLY meshes are supported, not \\{suffix}"):
        load(path)


@pytest.mark.parametrize(
    ("mesh", "message"),
    [
        ({"vertices": np.zeros((3, 2))}, r"\(N, 3\)"),
        ({"vertices": np.zeros((3, 3)), "faces": np.array([[0, 1, 3]])}, "outside 0..2"),
        ({"vertices": np.zeros((3, 3)), "vertices_color": np.full((3, 3), 300)}, "0..255"),
        ({"vertices": np.zeros((3, 3)), "vertices_instance_id": np.zeros(2, int)}, "shape"),
        ({"vertices": np.zeros((3, 3)), "texture": np.zeros(3)}, "unknown keys"),
    ],
)
def test_store_validates(tmp_path: Path, mesh: dict, message: str) -> None:
    with pytest.raises(WaiFormatError, match=message):
        store(tmp_path / "bad.ply", mesh, "labeled_mesh")


def test_plyfile_compatibility_both_ways(tmp_path: Path) -> None:
    plyfile = pytest.importorskip("plyfile")
    mesh = _labeled_mesh(6)
    del mesh["vertices_normal"]
    ours = store(tmp_path / "ours.ply", mesh, "labeled_mesh")
    data = plyfile.PlyData.read(str(ours))
    vertex = data["vertex"]
    np.testing.assert_array_equal(vertex["semantic_class_id"], mesh["vertices_semantic_class_id"])
    np.testing.assert_array_equal(np.stack([vertex["x"], vertex["y"], vertex["z"]], -1), mesh["vertices"])
    np.testing.assert_array_equal(np.vstack(data["face"]["vertex_indices"]), mesh["faces"])

    # the reference writes labeled meshes with plyfile (binary little-endian, text=False)
    dtype = [("x", "f4"), ("y", "f4"), ("z", "f4"), ("red", "u1"), ("green", "u1"), ("blue", "u1")]
    dtype += [("semantic_class_id", "i4"), ("instance_id", "i4")]
    records = np.empty(6, dtype)
    for i, axis in enumerate("xyz"):
        records[axis] = mesh["vertices"][:, i]
    for i, channel in enumerate(("red", "green", "blue")):
        records[channel] = mesh["vertices_color"][:, i]
    records["semantic_class_id"] = mesh["vertices_semantic_class_id"]
    records["instance_id"] = mesh["vertices_instance_id"]
    faces = np.empty(len(mesh["faces"]), [("vertex_indices", "i4", (3,))])
    faces["vertex_indices"] = mesh["faces"]
    elements = [plyfile.PlyElement.describe(records, "vertex"), plyfile.PlyElement.describe(faces, "face")]
    plyfile.PlyData(elements, text=False).write(str(tmp_path / "theirs.ply"))
    loaded = load(tmp_path / "theirs.ply", "labeled_mesh")
    for key in ("vertices", "vertices_color", "vertices_semantic_class_id", "vertices_instance_id", "faces"):
        np.testing.assert_array_equal(loaded[key], mesh[key], err_msg=key)
