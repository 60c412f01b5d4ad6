"""The rendering stage through `wai render`: depth, colours, faces and normals against the synthetic renderer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from wai.camera import Camera, CameraModel
from wai.scene import SceneWriter
from wai.stages import ProcessLog, StageState
from wai.synthetic import make_scene, render

pytest.importorskip("embreex", reason="wai render needs embreex: pip install -e '.[render]'")

W, H = 40, 30
# An off-centre principal point: the reference's renderer ignores it, ours must not.
CAMERA = Camera(CameraModel.PINHOLE, W, H, {"fl_x": 30.0, "fl_y": 31.0, "cx": 17.0, "cy": 16.5})


def _scene(scene_dir: Path, n: int = 2, mesh: bool = True) -> list:
    synthetic = make_scene(4, "room")
    poses = synthetic.default_poses(n, seed=4)
    views = [render(synthetic, p, K=CAMERA.K, width=W, height=H) for p in poses]
    with SceneWriter(scene_dir, dataset_name="unit", camera=CAMERA) as writer:
        for i, view in enumerate(views):
            writer.add_frame(f"f{i}", view.cam2world, image=view.image)
        if mesh:
            v, f, c = synthetic.to_mesh(24)
            writer.add_scene_modality(
                "labeled_mesh",
                "labeled_mesh.ply",
                "labeled_mesh",
                {"vertices": v, "faces": f, "vertices_color": c},
            )
    log = ProcessLog(scene_dir)
    log.set("conversion", StageState.FINISHED)
    log.set("undistortion", StageState.FINISHED)
    return views


def _render(root: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["render", str(root), *args])
    assert result.exit_code == code, result.output
    return result.output


def test_rendered_depth_matches_the_synthetic_depth(tmp_path: Path) -> None:
    root = tmp_path / "root"
    views = _scene(root / "s")
    _render(root, "--normals")
    scene = wai.open_scene(root / "s")
    assert {"rendered_depth", "rendered_image", "rendered_mesh_faces", "rendered_normals", "image"} == set(
        scene.frame_modality_names
    )
    for frame, view in zip(scene.frames, views, strict=True):
        depth = frame.load("rendered_depth")
        assert frame.raw["rendered_depth"] == f"rendered_depth/{frame.name}.exr"
        assert ((depth > 0) == view.valid).mean() > 0.99
        both = (depth > 0) & view.valid
        rel = np.abs(depth[both] - view.depth[both]) / view.depth[both]
        assert np.median(rel) < 1e-3 and np.quantile(rel, 0.99) < 0.02  # half-float EXR, faceted spheres
        faces = frame.load("rendered_mesh_faces")
        assert faces.dtype == np.int32 and np.array_equal(faces >= 0, depth > 0)
        image = frame.load("rendered_image").astype(float)
        assert np.abs(image - view.image.astype(float))[both].mean() < 20  # vertex colours vs texture
        normals = frame.load("rendered_normals")
        # Camera-frame normals facing the camera, as the synthetic renderer's world normals turned by R^T.
        expected = view.normals @ view.cam2world[:3, :3]
        cosine = np.sum(normals * expected, axis=-1)[both]
        assert np.median(cosine) > 0.999
    check = CliRunner().invoke(main, ["validate", str(root), "--deep"])
    assert check.exit_code == 0, check.output


def test_rerun_skips_and_overwrite_redoes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _scene(root / "s")
    _render(root)
    assert "1 skipped" in _render(root)
    (root / "s" / "rendered_depth" / "f0.exr").unlink()
    assert "1 done" in _render(root, "--overwrite")
    assert (root / "s" / "rendered_depth" / "f0.exr").is_file()


def test_needs_undistortion_first(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _scene(root / "s")
    log = json.loads((root / "s" / "_process_log.json").read_text())
    del log["undistortion"]
    (root / "s" / "_process_log.json").write_text(json.dumps(log))
    assert "prerequisite 'undistortion' is missing" in _render(root)


def test_scene_without_mesh_fails_naming_the_field(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _scene(root / "s", mesh=False)
    out = _render(root, code=1)
    assert "no mesh 'labeled_mesh'" in out and "scene_modalities" in out


def test_missing_library_gives_the_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    _scene(root / "s")
    monkeypatch.setitem(sys.modules, "embreex", None)
    out = _render(root, code=1)
    assert "pip install 'wai-toolkit[render]'" in out
