"""File rules: paths stay inside the scene, entries exist for every frame, files exist."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tests.wai.validate.edits import edit_meta, rules_of
from wai.validate import validate_scene


def test_parent_path_is_rejected(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][1].update(depth="../x.png"))
    [problem] = validate_scene(scene_dir)
    assert (problem.rule, problem.frame, problem.file, problem.field) == (
        "paths",
        "000001",
        "../x.png",
        "depth",
    )
    assert problem.message == "path '../x.png' escapes the scene folder (modality 'depth')"


def test_absolute_path_is_rejected(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][0].update(image="/etc/passwd"))
    [problem] = validate_scene(scene_dir, deep=True)
    assert problem.rule == "paths" and problem.file == "/etc/passwd"
    assert "is absolute; paths in scene metadata must be relative to the scene" in problem.message


def test_sneaky_parent_path_is_rejected(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][0].update(image="images/../../scene_a/images/000000.png"))
    [problem] = validate_scene(scene_dir)
    assert problem.rule == "paths" and "escapes the scene folder" in problem.message


def test_non_string_path(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][0].update(image=5))
    [problem] = validate_scene(scene_dir)
    assert problem.message == "expected a non-empty relative path string for modality 'image', got 5"


def test_one_problem_per_frame_with_a_missing_file(scene_dir: Path) -> None:
    for name in ("000000", "000002"):
        (scene_dir / "depth" / f"{name}.exr").unlink()
    problems = validate_scene(scene_dir)
    assert rules_of(problems) == {"files"}
    assert [(p.frame, p.file, p.message) for p in problems] == [
        ("000000", "depth/000000.exr", "file not found (modality 'depth')"),
        ("000002", "depth/000002.exr", "file not found (modality 'depth')"),
    ]


def test_frame_without_an_entry(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][2].pop("depth"))
    [problem] = validate_scene(scene_dir)
    assert (problem.rule, problem.frame) == ("files", "000002")
    assert problem.message.startswith("no 'depth' entry although frame_modalities lists modality 'depth'")


def test_broken_symlink(scene_dir: Path, tmp_path: Path) -> None:
    image = scene_dir / "images" / "000001.png"
    image.unlink()
    image.symlink_to(tmp_path / "raw" / "gone.png")
    [problem] = validate_scene(scene_dir)
    assert problem.rule == "files" and problem.message.startswith("broken symlink (points to ")


def test_symlink_to_raw_data_outside_is_fine(scene_dir: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    image = scene_dir / "images" / "000001.png"
    os.replace(image, raw / "000001.png")
    image.symlink_to(raw / "000001.png")
    assert validate_scene(scene_dir, deep=True) == []


def test_missing_scene_modality_file(scene_dir: Path) -> None:
    def change(meta: dict) -> None:
        meta["scene_modalities"]["labeled_mesh"] = {"scene_key": "labeled_mesh.ply", "format": "labeled_mesh"}
        meta["scene_modalities"]["escape"] = {"path": "../../etc/hosts", "format": "readable"}

    edit_meta(scene_dir, change)
    problems = validate_scene(scene_dir)
    assert {(p.rule, p.field, p.file) for p in problems} == {
        ("files", "scene_modalities.labeled_mesh", "labeled_mesh.ply"),
        ("paths", "scene_modalities.escape", "../../etc/hosts"),
    }


def test_scene_modality_file_passes(scene_dir: Path) -> None:
    (scene_dir / "mappings").mkdir()
    np.save(scene_dir / "mappings" / "ids.npy", np.arange(3))
    edit_meta(
        scene_dir, lambda m: m["scene_modalities"].update(ids={"path": "mappings/ids.npy", "format": "numpy"})
    )
    assert validate_scene(scene_dir, deep=True) == []


def test_file_path_escaping_the_scene_is_rejected(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][1].update(file_path="../../etc/passwd"))
    for deep in (False, True):
        [problem] = validate_scene(scene_dir, deep=deep)
        assert (problem.rule, problem.frame, problem.file, problem.field) == (
            "paths",
            "000001",
            "../../etc/passwd",
            "file_path",
        )
        assert problem.message == "path '../../etc/passwd' escapes the scene folder (field 'file_path')"


def test_absolute_and_non_string_file_path(scene_dir: Path) -> None:
    edit_meta(
        scene_dir,
        lambda m: (m["frames"][0].update(file_path="/etc/passwd"), m["frames"][2].update(file_path=3)),
    )
    problems = validate_scene(scene_dir)
    assert [(p.rule, p.frame, p.field) for p in problems] == [
        ("paths", "000000", "file_path"),
        ("paths", "000002", "file_path"),
    ]
    assert "is absolute" in problems[0].message
    assert problems[1].message == "expected a non-empty relative path string for field 'file_path', got 3"
