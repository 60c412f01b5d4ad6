"""Depth, ray depth, normals and silhouettes of rendered analytic primitives against closed-form answers."""

from __future__ import annotations

import numpy as np
import pytest

from wai.errors import WaiCameraError
from wai.geometry import pixel_rays
from wai.synthetic import (
    Box,
    OrbitPath,
    Plane,
    Sphere,
    SyntheticScene,
    Texture,
    pinhole_intrinsics,
    render,
    yaw_rotation,
)

W, H = 81, 61


def one(*primitives) -> SyntheticScene:
    path = OrbitPath(center=(0.0, 0.0, 0.0), radius=1.0, height=0.0, target=(0.0, 0.0, 1.0))
    return SyntheticScene(name="test", kind="custom", seed=0, primitives=tuple(primitives), camera_path=path)


def unit_rays(K: np.ndarray) -> np.ndarray:
    """(H*W, 3) unit camera-frame rays of the pixel centres, computed here without the renderer's helpers."""
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    r = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1).reshape(-1, 3)
    return r / np.linalg.norm(r, axis=1, keepdims=True)


def test_fronto_parallel_plane_has_constant_depth() -> None:
    d = 3.7
    plane = Plane(
        center=np.array([0.0, 0.0, d]), u_axis=[1, 0, 0], v_axis=[0, 1, 0], half_extent=(50.0, 50.0)
    )
    K = pinhole_intrinsics(W, H, fov_x_deg=70)
    view = render(one(plane), np.eye(4), K=K, width=W, height=H)
    assert view.valid.all()
    np.testing.assert_allclose(view.depth, d, rtol=1e-6)
    assert np.all(view.object_id == 1)
    # ray depth = z-depth * |K^-1 [u, v, 1]|
    norms = np.linalg.norm(pixel_rays(K, H, W), axis=-1)
    np.testing.assert_allclose(view.ray_depth, view.depth * norms, rtol=1e-6)
    np.testing.assert_allclose(view.normals, np.broadcast_to([0.0, 0.0, -1.0], (H, W, 3)), atol=1e-6)


def test_tilted_plane_matches_analytic_depth_per_pixel() -> None:
    n = np.array([0.3, -0.4, 1.0])
    n /= np.linalg.norm(n)
    p0 = np.array([0.2, 0.1, 4.0])
    u = np.cross(n, [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    plane = Plane(center=p0, u_axis=u, v_axis=np.cross(n, u), half_extent=(40.0, 40.0))
    K = np.array([[60.0, 0.0, 38.2], [0.0, 55.0, 31.7], [0.0, 0.0, 1.0]])
    pose = np.eye(4)
    pose[:3, 3] = [0.1, -0.2, 0.3]
    view = render(one(plane), pose, K=K, width=W, height=H)
    u_pix, v_pix = np.meshgrid(np.arange(W), np.arange(H))
    rays = np.stack([(u_pix - K[0, 2]) / K[0, 0], (v_pix - K[1, 2]) / K[1, 1], np.ones((H, W))], -1)
    # Plane n . (o + z r - p0) = 0 with r = K^-1 [u, v, 1] (z component 1) gives z = n . (p0 - o) / n . r.
    expected = np.dot(n, p0 - pose[:3, 3]) / (rays @ n)
    assert view.valid.all()
    np.testing.assert_allclose(view.depth, expected, rtol=2e-6)
    np.testing.assert_allclose(view.ray_depth, expected * np.linalg.norm(rays, axis=-1), rtol=2e-6)


def test_sphere_silhouette_depth_and_normals() -> None:
    c, radius = np.array([0.3, -0.2, 4.0]), 1.1
    K = pinhole_intrinsics(W, H, fov_x_deg=80)
    view = render(one(Sphere(center=c, radius=radius)), np.eye(4), K=K, width=W, height=H)
    r = unit_rays(K)
    along = r @ c
    dist2 = c @ c - along**2
    inside = dist2 <= radius**2
    clear = np.abs(np.sqrt(dist2) - radius) > 1e-6
    np.testing.assert_array_equal(view.valid.ravel()[clear], inside[clear])
    assert inside.sum() > 100
    t = along[inside] - np.sqrt(radius**2 - dist2[inside])
    np.testing.assert_allclose(view.ray_depth.ravel()[inside], t, rtol=1e-6)
    np.testing.assert_allclose(view.depth.ravel()[inside], t * r[inside, 2], rtol=1e-6)
    normals = (t[:, None] * r[inside] - c) / radius
    np.testing.assert_allclose(view.normals.reshape(-1, 3)[inside], normals, atol=1e-5)
    assert np.all(view.depth.ravel()[~view.valid.ravel()] == 0)
    assert np.all(view.normals.reshape(-1, 3)[~view.valid.ravel()] == 0)
    assert set(np.unique(view.object_id)) == {0, 1}


def test_axis_aligned_box_shows_its_front_face() -> None:
    box = Box(center=np.array([0.0, 0.0, 5.0]), half_size=np.array([1.0, 0.5, 0.5]))
    K = pinhole_intrinsics(W, H, fov_x_deg=60)
    view = render(one(box), np.eye(4), K=K, width=W, height=H)
    rays = pixel_rays(K, H, W)
    x, y = 4.5 * rays[..., 0], 4.5 * rays[..., 1]
    expected = (np.abs(x) <= 1.0) & (np.abs(y) <= 0.5)
    clear = (np.abs(np.abs(x) - 1.0) > 1e-9) & (np.abs(np.abs(y) - 0.5) > 1e-9)
    np.testing.assert_array_equal(view.valid[clear], expected[clear])
    np.testing.assert_allclose(view.depth[view.valid], 4.5, rtol=1e-6)
    np.testing.assert_allclose(view.normals[view.valid], np.broadcast_to([0, 0, -1.0], (view.valid.sum(), 3)))


def test_rotated_box_hits_lie_on_its_surface() -> None:
    rot = yaw_rotation(np.pi / 4)
    box = Box(center=np.array([0.0, 0.0, 5.0]), half_size=np.array([1.0, 1.0, 1.0]), rotation=rot)
    K = pinhole_intrinsics(W, H, fov_x_deg=60)  # odd size: the centre pixel's ray is the optical axis
    view = render(one(box), np.eye(4), K=K, width=W, height=H)
    # The optical axis meets the vertical edge nearest to the camera.
    assert view.depth[H // 2, W // 2] == pytest.approx(5.0 - np.sqrt(2.0), rel=1e-6)
    rays = pixel_rays(K, H, W)[view.valid]
    points = rays * view.depth[view.valid][:, None].astype(np.float64)
    local = (points - box.center) @ rot
    np.testing.assert_allclose(np.max(np.abs(local), axis=1), 1.0, atol=1e-5)
    normals = view.normals[view.valid].astype(np.float64)
    # Every normal is one of the box's face axes and faces the camera.
    assert np.all(np.max(np.abs(normals @ rot), axis=1) > 1 - 1e-6)
    assert np.all(np.sum(normals * rays, axis=1) < 0)


def test_nearest_primitive_wins_and_ids_follow_scene_order() -> None:
    back = Plane(
        center=np.array([0.0, 0.0, 10.0]), u_axis=[1, 0, 0], v_axis=[0, 1, 0], half_extent=(100.0, 100.0)
    )
    ball = Sphere(center=np.array([0.0, 0.0, 5.0]), radius=1.0)
    K = pinhole_intrinsics(W, H)
    view = render(one(back, ball), np.eye(4), K=K, width=W, height=H)
    assert view.object_id[H // 2, W // 2] == 2
    assert view.depth[H // 2, W // 2] == pytest.approx(4.0, rel=1e-6)
    assert view.object_id[0, 0] == 1
    assert view.depth[0, 0] == pytest.approx(10.0, rel=1e-6)


def test_rays_cam_equal_to_pinhole_rays_gives_the_same_render() -> None:
    scene = one(
        Plane(
            center=np.array([0.0, 1.0, 6.0]),
            u_axis=[1, 0, 0],
            v_axis=[0, 0.6, 0.8],
            half_extent=(9.0, 9.0),
            texture=Texture(kind="checker", scale=0.3),
        ),
        Sphere(center=np.array([0.5, 0.0, 4.0]), radius=0.8, texture=Texture(kind="noise", seed=4)),
    )
    pose = np.eye(4)
    pose[:3, 3] = [0.05, -0.1, 0.2]
    K = pinhole_intrinsics(W, H, fov_x_deg=75)
    by_k = render(scene, pose, K=K, width=W, height=H)
    by_rays = render(scene, pose, rays_cam=pixel_rays(K, H, W))
    for name in ("image", "depth", "ray_depth", "normals", "valid", "object_id"):
        np.testing.assert_array_equal(getattr(by_k, name), getattr(by_rays, name), err_msg=name)
    # The length of the rays does not matter; only their direction does.
    scaled = render(scene, pose, rays_cam=3.0 * pixel_rays(K, H, W))
    np.testing.assert_allclose(scaled.depth, by_k.depth, rtol=1e-6)
    np.testing.assert_array_equal(scaled.valid, by_k.valid)


def test_non_finite_rays_hit_nothing_and_backward_rays_work() -> None:
    scene = one(Sphere(center=np.array([0.0, 0.0, 0.0]), radius=2.0))
    rays = np.array([[[np.nan, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]])
    view = render(scene, np.eye(4), rays_cam=rays)
    np.testing.assert_array_equal(view.valid, [[False, False, True, True]])
    # From inside the sphere every ray hits at the radius; a backward ray has negative z-depth.
    np.testing.assert_allclose(view.ray_depth[0, 2:], 2.0)
    np.testing.assert_allclose(view.depth[0, 2:], [-2.0, 0.0], atol=1e-12)


def test_render_rejects_bad_arguments() -> None:
    scene = one(Sphere(center=np.array([0.0, 0.0, 3.0]), radius=1.0))
    K = pinhole_intrinsics(8, 6)
    with pytest.raises(WaiCameraError, match="exactly one of K"):
        render(scene, np.eye(4), K=K, width=8, height=6, rays_cam=np.zeros((6, 8, 3)))
    with pytest.raises(WaiCameraError, match="exactly one of K"):
        render(scene, np.eye(4))
    with pytest.raises(WaiCameraError, match="needs width and height"):
        render(scene, np.eye(4), K=K)
    with pytest.raises(WaiCameraError, match=r"shape \(H, W, 3\)"):
        render(scene, np.eye(4), rays_cam=np.zeros((6, 8)))
    with pytest.raises(WaiCameraError, match="proper rotation"):
        render(scene, np.diag([1.0, 1.0, -1.0, 1.0]), K=K, width=8, height=6)
    with pytest.raises(WaiCameraError, match=r"K must be \[\[fx, 0, cx\]"):
        render(scene, np.eye(4), K=np.zeros((3, 3)), width=8, height=6)
