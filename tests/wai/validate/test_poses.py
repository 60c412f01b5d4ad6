"""Deep pose rule, including real RGB-D poses that are orthonormal only to about 4e-4."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.realdata import REALDATA
from tests.wai.validate.edits import edit_meta
from wai.camera.conventions import orthonormality_error
from wai.validate import validate_scene
from wai.validate.poses import ROTATION_ATOL

REDKITCHEN = REALDATA / "redkitchen_rgbd" / "transforms.json"


def _set_rotation(scene: Path, index: int, rotation: np.ndarray) -> None:
    def change(meta: dict) -> None:
        pose = np.asarray(meta["frames"][index]["transform_matrix"])
        pose[:3, :3] = rotation
        meta["frames"][index]["transform_matrix"] = pose.tolist()

    edit_meta(scene, change)


def test_reflection_is_rejected(scene_dir: Path) -> None:
    _set_rotation(scene_dir, 0, np.diag([1.0, 1.0, -1.0]))
    [problem] = validate_scene(scene_dir, deep=True)
    assert (problem.rule, problem.frame, problem.field) == ("rotations", "000000", "transform_matrix")
    assert problem.message.startswith(
        "rotation part is a reflection (det < 0): max |R R^T - I| = 0, det(R) = -1"
    )


@pytest.mark.parametrize(("noise", "ok"), [(4e-4, True), (5e-3, False)])
def test_tolerance(scene_dir: Path, noise: float, ok: bool) -> None:
    rotation = np.eye(3)
    rotation[0, 1] = noise
    _set_rotation(scene_dir, 1, rotation)
    problems = validate_scene(scene_dir, deep=True)
    assert (problems == []) is ok
    if not ok:
        assert "expected orthonormal with det +1 within 0.001" in problems[0].message


def test_bottom_row(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][2]["transform_matrix"].__setitem__(3, [0, 0, 1, 1]))
    [problem] = validate_scene(scene_dir, deep=True)
    assert problem.message == "last row is [0.0, 0.0, 1.0, 1.0], expected [0, 0, 0, 1]"


def test_real_rgbd_poses_pass(tmp_path: Path) -> None:
    """7-Scenes poses (nerfstudio/OpenGL in the file) converted to OpenCV cam2world pass the rotation check."""
    source = json.loads(REDKITCHEN.read_text())
    gl_to_cv = np.diag([1.0, -1.0, -1.0, 1.0])
    poses = [np.asarray(f["transform_matrix"]) @ gl_to_cv for f in source["frames"]]
    errors = [orthonormality_error(p[:3, :3]) for p in poses]
    assert 1e-4 < max(errors) < ROTATION_ATOL  # the real data really is this far from orthonormal

    scene = tmp_path / "redkitchen"
    scene.mkdir()
    meta = {
        "scene_name": "redkitchen",
        "dataset_name": "7scenes",
        "shared_intrinsics": True,
        "camera_model": "PINHOLE",
        **{k: source[k] for k in ("fl_x", "fl_y", "cx", "cy", "w", "h")},
        "frames": [
            {"frame_name": Path(f["file_path"]).name.split(".")[0], "transform_matrix": p.tolist()}
            for f, p in zip(source["frames"], poses, strict=True)
        ],
        "frame_modalities": {},
        "scene_modalities": {},
    }
    (scene / "scene_meta.json").write_text(json.dumps(meta))
    assert validate_scene(scene, deep=True) == []
