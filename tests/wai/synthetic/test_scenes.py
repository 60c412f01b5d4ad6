"""Generated scenes: determinism, free camera paths, sky, multi-view photo consistency, and mesh export."""

from __future__ import annotations

import numpy as np
import pytest

from wai.synthetic import (
    SCENE_KINDS,
    Box,
    Plane,
    Sphere,
    SyntheticSceneError,
    make_scene,
    pinhole_intrinsics,
    render,
)

W, H = 96, 72


@pytest.fixture(scope="module")
def K() -> np.ndarray:
    return pinhole_intrinsics(W, H, fov_x_deg=65)


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_same_seed_gives_identical_bytes(kind: str, K: np.ndarray) -> None:
    a, b = make_scene(11, kind), make_scene(11, kind)
    pose_a, pose_b = a.default_poses(4), b.default_poses(4)
    np.testing.assert_array_equal(pose_a, pose_b)
    for pa, pb in zip(pose_a, pose_b, strict=True):
        va, vb = render(a, pa, K=K, width=W, height=H), render(b, pb, K=K, width=W, height=H)
        assert va.image.tobytes() == vb.image.tobytes()
        assert va.depth.tobytes() == vb.depth.tobytes()
        assert va.object_id.tobytes() == vb.object_id.tobytes()
    for x, y in zip(a.to_mesh(3), b.to_mesh(3), strict=True):
        assert x.tobytes() == y.tobytes()


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_different_seeds_give_different_scenes(kind: str, K: np.ndarray) -> None:
    a, b = make_scene(1, kind), make_scene(2, kind)
    assert a.name != b.name
    va = render(a, a.default_poses(3)[1], K=K, width=W, height=H)
    vb = render(b, b.default_poses(3)[1], K=K, width=W, height=H)
    assert va.image.tobytes() != vb.image.tobytes()
    assert a.to_mesh(2)[0].tobytes() != b.to_mesh(2)[0].tobytes()


@pytest.mark.parametrize("kind", SCENE_KINDS)
@pytest.mark.parametrize("seed", [0, 5, 9])
def test_default_cameras_are_in_free_space_and_see_texture(kind: str, seed: int, K: np.ndarray) -> None:
    scene = make_scene(seed, kind)
    for pose in scene.default_poses(8):
        eye = pose[:3, 3]
        for prim in scene.primitives:
            if isinstance(prim, Sphere):
                assert np.linalg.norm(eye - prim.center) > prim.radius + 0.2
            elif isinstance(prim, Box):
                assert np.max(np.abs((eye - prim.center) @ prim.rotation) - prim.half_size) > 0.2
        view = render(scene, pose, K=K, width=W, height=H)
        assert view.valid.mean() > 0.4
        assert len(np.unique(view.object_id[view.valid])) >= 3
        assert view.image[view.valid].std() > 10  # textured, not flat
        assert np.all(view.depth[view.valid] > 0.1)


def test_room_is_closed_and_objects_scene_has_sky(K: np.ndarray) -> None:
    room = make_scene(4, "room")
    assert {"floor", "ceiling", "wall"} <= set(room.labels.values())
    for pose in room.default_poses(6):
        assert render(room, pose, K=K, width=W, height=H).valid.all()
    objects = make_scene(4, "objects")
    view = render(objects, objects.default_poses(6)[0], K=K, width=W, height=H)
    sky = ~view.valid
    assert 0.02 < sky.mean() < 0.9
    assert np.all(view.depth[sky] == 0) and np.all(view.object_id[sky] == 0)
    assert np.all(view.normals[sky] == 0)


def test_make_scene_rejects_unknown_kind_and_bad_seed() -> None:
    with pytest.raises(SyntheticSceneError, match="kind 'cave' is unknown"):
        make_scene(0, "cave")  # type: ignore[arg-type]
    with pytest.raises(SyntheticSceneError, match="seed must be an integer >= 0"):
        make_scene(-1)


def camera_points(view, K: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """World points (N, 3) of integer pixels (N, 2) = (u, v) from the view's depth; plain numpy."""
    z = view.depth[pixels[:, 1], pixels[:, 0]].astype(np.float64)
    x = (pixels[:, 0] - K[0, 2]) / K[0, 0] * z
    y = (pixels[:, 1] - K[1, 2]) / K[1, 1] * z
    cam = np.stack([x, y, z], axis=1)
    return cam @ view.cam2world[:3, :3].T + view.cam2world[:3, 3]


@pytest.mark.parametrize(("kind", "seed"), [("room", 0), ("objects", 1), ("outdoor", 2)])
def test_multi_view_photo_consistency(kind: str, seed: int, K: np.ndarray) -> None:
    scene = make_scene(seed, kind)
    poses = scene.default_poses(10)
    view_a = render(scene, poses[0], K=K, width=W, height=H)
    view_b = render(scene, poses[2], K=K, width=W, height=H)
    rng = np.random.default_rng(0)
    valid = np.argwhere(view_a.valid)[:, ::-1]
    pixels = valid[rng.choice(len(valid), size=min(800, len(valid)), replace=False)]
    points = camera_points(view_a, K, pixels)
    # Project into B (numpy), keep points in front of B and inside its image.
    rot_b, t_b = poses[2][:3, :3], poses[2][:3, 3]
    cam_b = (points - t_b) @ rot_b
    uvw = cam_b @ K.T
    uv = uvw[:, :2] / uvw[:, 2:3]
    inside = (cam_b[:, 2] > 0) & np.all((uv > -0.5) & (uv < [W - 0.5, H - 0.5]), axis=1)
    assert inside.mean() > 0.3
    # B looks exactly at each point through a ray of its own: same surface point -> same colour, same object.
    ray_view = render(scene, poses[2], rays_cam=cam_b[inside][:, None, :])
    depth_b = ray_view.depth[:, 0].astype(np.float64)
    visible = ray_view.valid[:, 0] & (np.abs(depth_b - cam_b[inside, 2]) < 1e-3 * cam_b[inside, 2] + 1e-4)
    assert visible.mean() > 0.5
    colour_a = view_a.image[pixels[inside, 1], pixels[inside, 0]].astype(int)[visible]
    colour_b = ray_view.image[:, 0].astype(int)[visible]
    same = np.all(np.abs(colour_a - colour_b) <= 1, axis=1)
    assert same.mean() > 0.95
    ids_a = view_a.object_id[pixels[inside, 1], pixels[inside, 0]][visible]
    assert np.mean(ids_a == ray_view.object_id[:, 0][visible]) > 0.99
    # On B's own pixel grid the nearest pixel sees (almost) the same depth, and mostly the same colour.
    nearest = np.rint(uv[inside][visible]).astype(int)
    grid_depth = view_b.depth[nearest[:, 1], nearest[:, 0]]
    assert np.median(np.abs(grid_depth - cam_b[inside, 2][visible]) / cam_b[inside, 2][visible]) < 0.02
    grid_colour = view_b.image[nearest[:, 1], nearest[:, 0]].astype(int)
    assert np.median(np.abs(grid_colour - colour_a).max(axis=1)) < 25


def surface_error(prim, vertices: np.ndarray) -> np.ndarray:
    """Distance-like error of vertices (N, 3) from a primitive's analytic surface, computed here."""
    v = vertices.astype(np.float64)
    if isinstance(prim, Sphere):
        return np.abs(np.linalg.norm(v - prim.center, axis=1) - prim.radius)
    if isinstance(prim, Box):
        local = (v - prim.center) @ prim.rotation
        return np.abs(np.max(np.abs(local) / prim.half_size, axis=1) - 1.0) * prim.half_size.min()
    assert isinstance(prim, Plane)
    rel = v - prim.center
    normal = np.cross(prim.u_axis, prim.v_axis)
    outside = np.maximum(np.abs(rel @ prim.u_axis) - prim.half_extent[0], 0) + np.maximum(
        np.abs(rel @ prim.v_axis) - prim.half_extent[1], 0
    )
    return np.abs(rel @ normal) + outside


@pytest.mark.parametrize("kind", SCENE_KINDS)
def test_mesh_vertices_lie_on_the_primitives(kind: str) -> None:
    scene = make_scene(3, kind)
    vertices, faces, colours, face_ids = scene.to_labeled_mesh(4)
    assert vertices.dtype == np.float32 and faces.dtype == np.int32 and colours.dtype == np.uint8
    assert vertices.shape[1] == 3 and faces.shape[1] == 3 and colours.shape == vertices.shape
    assert faces.min() >= 0 and faces.max() < len(vertices)
    plain = scene.to_mesh(4)
    np.testing.assert_array_equal(plain[0], vertices)
    np.testing.assert_array_equal(plain[1], faces)
    np.testing.assert_array_equal(plain[2], colours)
    for index, prim in enumerate(scene.primitives, start=1):
        own = faces[face_ids == index]
        assert len(own) > 0
        used = np.unique(own)
        scale = max(1.0, float(np.abs(vertices[used]).max()))
        assert surface_error(prim, vertices[used]).max() < 1e-6 * scale
        # Winding: the right-hand normal points out of boxes and spheres and along a plane's normal.
        tri = vertices[own].astype(np.float64)
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        assert np.all(np.linalg.norm(normal, axis=1) > 0)
        if isinstance(prim, Plane):
            assert np.all(normal @ np.cross(prim.u_axis, prim.v_axis) > 0)
        else:
            assert np.all(np.sum(normal * (tri.mean(axis=1) - prim.center), axis=1) > 0)


def interior(prim, vertices: np.ndarray) -> np.ndarray:
    """Vertices (N, 3) away from edges, poles and seams, where the surface colour is unambiguous."""
    v = vertices.astype(np.float64)
    if isinstance(prim, Sphere):
        q = (v - prim.center) / prim.radius
        return (np.abs(q[:, 1]) < 1 - 1e-4) & ~((q[:, 0] < 0) & (np.abs(q[:, 2]) < 1e-4))
    if isinstance(prim, Box):
        local = np.abs((v - prim.center) @ prim.rotation) / prim.half_size
        return np.sum(local > 1 - 1e-4, axis=1) == 1
    rel = v - prim.center
    return (np.abs(rel @ prim.u_axis) < prim.half_extent[0] - 1e-4) & (
        np.abs(rel @ prim.v_axis) < prim.half_extent[1] - 1e-4
    )


def test_mesh_vertex_colours_match_the_render() -> None:
    scene = make_scene(6, "room")
    vertices, faces, colours, face_ids = scene.to_labeled_mesh(6)
    vertex_ids = np.zeros(len(vertices), dtype=np.int32)
    vertex_ids[faces.ravel()] = np.repeat(face_ids, 3)
    keep = np.zeros(len(vertices), dtype=bool)
    for index, prim in enumerate(scene.primitives, start=1):
        own = vertex_ids == index
        keep[own] = interior(prim, vertices[own])
    pose = scene.default_poses(5)[2]
    rot, eye = pose[:3, :3], pose[:3, 3]
    # Look along rays straight at every vertex; where the vertex is what the camera sees, colours agree.
    cam = (vertices.astype(np.float64) - eye) @ rot
    chosen = keep & (cam[:, 2] > 0.1)
    view = render(scene, pose, rays_cam=cam[chosen][:, None, :])
    seen = view.object_id[:, 0] == vertex_ids[chosen]
    seen &= np.abs(view.depth[:, 0] - cam[chosen, 2]) < 1e-4
    assert seen.sum() > 50
    diff = np.abs(view.image[:, 0].astype(int) - colours[chosen].astype(int))[seen].max(axis=1)
    assert np.mean(diff <= 1) > 0.95
