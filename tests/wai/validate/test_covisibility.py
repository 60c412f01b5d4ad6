"""Deep covisibility rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.wai.validate.edits import edit_meta
from wai.validate import validate_scene


def _write(scene: Path, matrix: np.ndarray, version: str = "v0") -> str:
    folder = scene / "covisibility" / version
    folder.mkdir(parents=True, exist_ok=True)
    name = f"pairwise_covisibility--{matrix.shape[0]}x{matrix.shape[1]}.npy"
    np.save(folder / name, matrix.astype(np.float32))
    return f"covisibility/{version}/{name}"


def test_valid_matrix_passes(scene_dir: Path) -> None:
    rel = _write(scene_dir, np.full((3, 3), 0.5))
    edit_meta(
        scene_dir,
        lambda m: m["scene_modalities"].update(pairwise_covisibility={"scene_key": rel, "format": "mmap"}),
    )
    assert validate_scene(scene_dir, deep=True) == []


def test_wrong_size(scene_dir: Path) -> None:
    rel = _write(scene_dir, np.eye(4))
    [problem] = validate_scene(scene_dir, deep=True)
    assert (problem.rule, problem.file) == ("covisibility", rel)
    assert problem.message == "expected a 3x3 matrix (one row and column per frame), got shape (4, 4)"


def test_values_out_of_range(scene_dir: Path) -> None:
    matrix = np.eye(3)
    matrix[0, 1] = np.nan
    matrix[1, 0] = 1.5
    matrix[2, 0] = -0.1
    _write(scene_dir, matrix)
    [problem] = validate_scene(scene_dir, deep=True)
    assert problem.message == "expected finite values in [0, 1]: 1 NaN/inf, 1 below 0, 1 above 1"


def test_stale_second_matrix(scene_dir: Path) -> None:
    _write(scene_dir, np.eye(3))
    stale = _write(scene_dir, np.eye(2))
    problems = validate_scene(scene_dir, deep=True)
    assert {p.file for p in problems} == {"covisibility/v0", stale}
    folder_problem = next(p for p in problems if p.file == "covisibility/v0")
    assert folder_problem.message.startswith("2 matrices ")
    assert "keep one" in folder_problem.message
