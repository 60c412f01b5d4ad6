"""`wai convert colmap` on real COLMAP models nobody on this project wrote (shared/realdata; skipped if absent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import wai
from tests.realdata import realdata
from wai.camera.conventions import is_rotation
from wai.geometry import project_points
from wai_converters.testing import run_cli


def convert(src: Path, dst: Path, *extra: str) -> wai.Scene:
    result = run_cli(["convert", "colmap", "--src", src, "--dst", dst, *extra])
    assert result.exit_code == 0, result.output
    assert run_cli(["validate", "--deep", dst]).exit_code == 0
    (name,) = wai.list_scenes(dst)
    return wai.open_scene(dst / name)


def reprojection_errors(scene: wai.Scene, model: Path) -> np.ndarray:
    """Every 3D point of the raw model projected with the converted cameras and poses, against its 2D
    observations (moved to WAI's pixel convention)."""
    import pycolmap

    recon = pycolmap.Reconstruction(str(model))
    frames = {Path(recon.images[i].name).stem: i for i in recon.images}
    errors = []
    for frame in scene.frames:
        image = recon.images[frames[frame.name]]
        for point2d in image.points2D:
            if not point2d.has_point3D():
                continue
            xyz = recon.points3D[point2d.point3D_id].xyz
            uv, _, ok = project_points(xyz[None], frame.camera, frame.cam2world)
            assert ok[0]
            errors.append(np.linalg.norm(uv[0] - (np.asarray(point2d.xy) - 0.5)))
    return np.array(errors)


@pytest.mark.parametrize("capture", ["maupertuis_colmap", "maupertuis_colmap_bin"])
def test_maupertuis_reprojects_as_published(capture: str, tmp_path: Path) -> None:
    src = realdata(capture)
    scene = convert(src, tmp_path / "out")
    assert [f.name for f in scene.frames] == [
        "00",
        "01",
        "02",
        "03",
    ]  # sorted by name, not by images.txt order
    camera = scene.frames[0].camera
    assert camera.model.value == "PINHOLE" and (camera.width, camera.height) == (1919, 1079)
    assert camera.params["cx"] == pytest.approx(959.0) and camera.params["cy"] == pytest.approx(539.0)
    errors = reprojection_errors(scene, src / "sparse" / "0")
    assert len(errors) == 3355
    assert errors.mean() == pytest.approx(0.3465, abs=5e-4)
    assert np.median(errors) == pytest.approx(0.250, abs=5e-3)
    meta = json.loads((scene.path / "scene_meta.json").read_text())
    assert meta["_applied_transforms"] == {"colmap_pixel_centre": [[1, 0, -0.5], [0, 1, -0.5], [0, 0, 1]]}


def test_text_and_binary_models_convert_identically(tmp_path: Path) -> None:
    text = convert(realdata("maupertuis_colmap"), tmp_path / "text")
    binary = convert(realdata("maupertuis_colmap_bin"), tmp_path / "bin")
    np.testing.assert_allclose(text.poses, binary.poses, atol=1e-12)
    assert text.camera(0) == binary.camera(0)


def test_fountain_metric_cameras_without_points(tmp_path: Path) -> None:
    """A poses-only model (empty points3D, empty POINTS2D lines) with metric ground-truth cameras."""
    scene = convert(realdata("fountain_colmap"), tmp_path / "out", "--scale-type", "metric")
    assert len(scene) == 11 and scene.scale_type == "metric"
    camera = scene.frames[0].camera
    assert camera.params["fl_x"] == pytest.approx(689.87) and camera.params["cx"] == pytest.approx(379.6725)
    poses = scene.poses
    assert is_rotation(poses, atol=1e-5).all()
    # The cameras look at the fountain: the point nearest to all optical axes is ahead of every camera and
    # projects inside every image.
    centres, axes = poses[:, :3, 3], poses[:, :3, 2]
    projector = np.eye(3)[None] - axes[:, :, None] * axes[:, None, :]
    target = np.linalg.solve(projector.sum(0), np.einsum("nij,nj->i", projector, centres))
    for frame in scene.frames:
        uv, z, ok = project_points(target[None], frame.camera, frame.cam2world)
        assert ok[0] and z[0] > 1.0 and frame.camera.in_image(uv)[0], frame.name
    # Strecha's fountain-P11 cameras stand a few metres apart on an arc, about 6-9 m from the fountain.
    assert 3.0 < np.median(np.linalg.norm(centres - target, axis=1)) < 12.0
