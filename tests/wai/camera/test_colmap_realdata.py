"""Real data: the kapture 'maupertuis' COLMAP model reprojects with our SIMPLE_PINHOLE camera and quaternions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.realdata import REALDATA
from wai.camera import Camera, CameraModel, conventions

MODEL = REALDATA / "maupertuis_colmap" / "sparse" / "0"

pytestmark = pytest.mark.skipif(not MODEL.is_dir(), reason="shared real data not present")


def _lines(name: str) -> list[str]:
    return [ln for ln in (MODEL / name).read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def _read_model():
    """A minimal COLMAP text reader, for this test only (the importer lives elsewhere)."""
    cameras = {}
    for line in _lines("cameras.txt"):
        cam_id, model, w, h, *params = line.split()
        cameras[int(cam_id)] = (model, int(w), int(h), [float(p) for p in params])
    images = {}
    rows = _lines("images.txt")
    for header, points in zip(rows[0::2], rows[1::2], strict=True):
        fields = header.split()
        image_id, q, t, cam_id = (
            int(fields[0]),
            np.array(fields[1:5], float),
            np.array(fields[5:8], float),
            int(fields[8]),
        )
        xy = np.array(points.split(), dtype=float).reshape(-1, 3)
        images[image_id] = (q, t, cam_id, xy[:, :2])
    points3d = {}
    for line in _lines("points3D.txt"):
        fields = line.split()
        track = np.array(fields[8:], dtype=int).reshape(-1, 2)
        points3d[int(fields[0])] = (np.array(fields[1:4], float), track)
    return cameras, images, points3d


def test_reprojection_error_matches_the_published_value():
    cameras, images, points3d = _read_model()
    assert len(cameras) == 1 and len(images) == 4 and len(points3d) == 1039
    model, w, h, (f, cx, cy) = cameras[1]
    assert model == "SIMPLE_PINHOLE"
    # COLMAP puts the centre of the top-left pixel at (0.5, 0.5); its keypoints use the same origin, so projecting
    # with COLMAP's own cx, cy and comparing with its keypoints is consistent. (An importer moves both by -0.5.)
    cam = Camera(CameraModel.SIMPLE_PINHOLE, w, h, {"fl_x": f, "cx": cx, "cy": cy})
    errors = []
    for xyz, track in points3d.values():
        for image_id, point2d_idx in track:
            q, t, _, xy = images[image_id]
            R = conventions.quaternion_to_rotation(q)
            uv, valid = cam.project((R @ xyz + t)[None])
            assert valid[0]
            errors.append(np.linalg.norm(uv[0] - xy[point2d_idx]))
    errors = np.array(errors)
    assert len(errors) == 3355
    assert errors.mean() == pytest.approx(0.3465, abs=5e-4)
    assert np.median(errors) == pytest.approx(0.250, abs=5e-3)


def test_colmap_poses_invert_to_camera_centres_in_front_of_the_points():
    _, images, points3d = _read_model()
    w2c = np.tile(np.eye(4), (len(images), 1, 1))
    for i, (q, t, _, _) in enumerate(images.values()):
        w2c[i, :3, :3] = conventions.quaternion_to_rotation(q)
        w2c[i, :3, 3] = t
    c2w = conventions.world2cam_to_cam2world(w2c)
    assert conventions.is_rotation(c2w, atol=1e-9).all()
    centroid = np.mean([p for p, _ in points3d.values()], axis=0)
    # Every camera looks towards the reconstructed roof: the centroid is ahead along each camera's +z axis.
    ahead = np.einsum("nj,nj->n", centroid - c2w[:, :3, 3], c2w[:, :3, 2])
    assert (ahead > 0).all()
    # images.txt stores 6 significant digits, so its quaternions are unit only to ~1e-6.
    stored = np.array([q for q, *_ in images.values()])
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    np.testing.assert_allclose(conventions.rotation_to_quaternion(w2c[:, :3, :3]), stored, atol=1e-12)
