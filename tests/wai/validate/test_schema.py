"""Schema rules: meta file, top-level keys, frame entries, transform matrices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.wai.validate.edits import edit_meta, only, rules_of
from wai.validate import validate, validate_scene


def test_malformed_json_names_the_position(scene_dir: Path) -> None:
    (scene_dir / "scene_meta.json").write_text('{"frames": [ not json')
    problems = validate_scene(scene_dir)
    assert rules_of(problems) == {"meta"}
    assert problems[0].file == "scene_meta.json"
    assert problems[0].message.startswith("malformed JSON (Expecting value at line 1, column 14)")


def test_top_level_must_be_an_object(scene_dir: Path) -> None:
    (scene_dir / "scene_meta.json").write_text("[1, 2]")
    [problem] = validate_scene(scene_dir)
    assert problem.message == "expected a JSON object at the top level, got list"


def test_only_the_distorted_meta_means_undistort_first(scene_dir: Path) -> None:
    (scene_dir / "scene_meta.json").rename(scene_dir / "scene_meta_distorted.json")
    [problem] = validate_scene(scene_dir)
    assert problem.rule == "meta"
    assert "only scene_meta_distorted.json" in problem.message and "undistort" in problem.message


def test_unfinished_scene_in_a_root_is_reported(tmp_path: Path, scene_dir: Path) -> None:
    (scene_dir.parent / "scene_b" / "images").mkdir(parents=True)
    report = validate(scene_dir.parent)
    assert report.scenes == ["scene_a", "scene_b"]
    [problem] = report.problems
    assert (problem.rule, problem.scene) == ("meta", "scene_b")
    assert "conversion not finished" in problem.message


def test_missing_frames_key(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.pop("frames"))
    problems = validate_scene(scene_dir)
    assert rules_of(problems) == {"keys"}
    assert [p.message for p in problems] == ["missing required key 'frames' (expected a list)"]
    assert problems[0].field == "frames"


def test_wrong_key_types(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(shared_intrinsics="yes", frame_modalities=[]))
    problems = only(validate_scene(scene_dir), "keys")
    assert {(p.field, p.message) for p in problems} == {
        ("shared_intrinsics", "expected a boolean, got string"),
        ("frame_modalities", "expected an object, got list"),
    }


def test_scene_name_must_match_the_folder(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(scene_name="other"))
    [problem] = validate_scene(scene_dir)
    assert problem.field == "scene_name"
    assert "differs from the scene folder name 'scene_a'" in problem.message


def test_duplicate_frame_names_name_both_entries(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][2].update(frame_name="000000"))
    [problem] = validate_scene(scene_dir)
    assert (problem.rule, problem.frame, problem.field) == ("frames", "000000", "frames[2].frame_name")
    assert "duplicate frame_name (also frames[0])" in problem.message
    assert "last one" in problem.message


def test_bad_frame_entries(scene_dir: Path) -> None:
    def change(meta: dict) -> None:
        meta["frames"].append(5)
        meta["frames"].append({"transform_matrix": np.eye(4).tolist()})
        meta["frames"][0]["frame_name"] = "a/b"

    edit_meta(scene_dir, change)
    messages = {p.field: p.message for p in only(validate_scene(scene_dir), "frames")}
    assert messages["frames[3]"] == "expected an object, got number"
    assert messages["frames[4].frame_name"] == "missing required key 'frame_name'"
    assert "not usable as a file stem" in messages["frames[0].frame_name"]


def test_empty_frame_list(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(frames=[]))
    [problem] = validate_scene(scene_dir)
    assert problem.message == "the frame list is empty (expected at least one frame)"


def test_transform_matrix_faults(scene_dir: Path) -> None:
    def change(meta: dict) -> None:
        meta["frames"][0].pop("transform_matrix")
        meta["frames"][1]["transform_matrix"][0][3] = float("nan")
        meta["frames"][2]["transform_matrix"][1][1] = "1"

    edit_meta(scene_dir, change)
    problems = validate_scene(scene_dir, deep=True)
    assert rules_of(problems) == {"transforms"}
    assert {p.frame: p.message for p in problems} == {
        "000000": "missing 'transform_matrix' (expected a 4x4 cam2world pose)",
        "000001": "expected finite numbers, found NaN or infinity",
        "000002": "expected numbers only",
    }


def test_flat_pose_and_later_stage_keys_are_accepted(scene_dir: Path) -> None:
    def change(meta: dict) -> None:
        meta["frames"][0]["transform_matrix"] = np.eye(4).ravel().tolist()
        for frame in meta["frames"]:
            frame["_is_interpolated"] = False
            frame["is_bad"] = False
        meta["_applied_transforms"] = {"opengl2opencv": np.diag([1.0, -1, -1, 1]).tolist()}
        meta["_applied_transform"] = np.eye(3).tolist()
        meta["version"] = 0.1

    edit_meta(scene_dir, change)
    assert validate_scene(scene_dir, deep=True) == []


def test_nan_in_json_is_read_not_crashed_on(scene_dir: Path) -> None:
    text = (scene_dir / "scene_meta.json").read_text()
    meta = json.loads(text)
    meta["frames"][0]["transform_matrix"][2][2] = float("inf")
    (scene_dir / "scene_meta.json").write_text(json.dumps(meta))
    [problem] = validate_scene(scene_dir)
    assert problem.rule == "transforms" and "infinity" in problem.message
