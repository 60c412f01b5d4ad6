"""Modalities rule: leaf shape, value key per tree, known formats."""

from __future__ import annotations

from pathlib import Path

from tests.wai.validate.edits import edit_meta, rules_of
from wai.validate import validate_scene


def test_leaf_with_two_value_keys(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frame_modalities"]["depth"].update(path="depth"))
    [problem] = validate_scene(scene_dir)
    assert (problem.rule, problem.field) == ("modalities", "frame_modalities.depth")
    assert problem.message == (
        "modality 'depth' expected 'format' plus exactly one of ['frame_key'], got keys "
        "['frame_key', 'format', 'path']"
    )


def test_frame_modality_may_not_use_scene_key(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frame_modalities"].update(extra={"scene_key": "x", "format": "image"}))
    [problem] = validate_scene(scene_dir)
    assert problem.message == "modality 'extra' uses 'scene_key', expected one of ['frame_key'] here"


def test_scene_modality_without_format(scene_dir: Path) -> None:
    (scene_dir / "colmap").mkdir()
    edit_meta(scene_dir, lambda m: m["scene_modalities"].update(colmap={"scene_key": "colmap"}))
    [problem] = validate_scene(scene_dir)
    assert problem.field == "scene_modalities.colmap"
    assert problem.message == "modality 'colmap' has no 'format', so no reader can load it"


def test_entry_that_is_not_an_object(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frame_modalities"].update(image="images"))
    problems = validate_scene(scene_dir)
    assert rules_of(problems) == {"modalities"}
    assert problems[0].message == "modality 'image' expected an object, got str"


def test_nested_groups_resolve(scene_dir: Path) -> None:
    edit_meta(
        scene_dir,
        lambda m: m["frame_modalities"].update(
            pred_depth={"moge2": {"frame_key": "depth", "format": "depth"}}
        ),
    )
    assert validate_scene(scene_dir, deep=True) == []


def test_unknown_format_in_a_group(scene_dir: Path) -> None:
    edit_meta(
        scene_dir,
        lambda m: m["frame_modalities"].update(pred={"m": {"frame_key": "depth", "format": "video"}}),
    )
    [problem] = validate_scene(scene_dir)
    assert problem.field == "frame_modalities.pred/m"
    assert problem.message.startswith("modality 'pred/m' has unknown format 'video' (known: ")
