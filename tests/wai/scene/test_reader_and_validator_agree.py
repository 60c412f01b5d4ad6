"""The reader and the validator share one modality walker, one set of camera rules, one camera merge and one
scene-folder test: the same fault reads the same way through both."""

from __future__ import annotations

from pathlib import Path

import pytest

import wai
from tests.factories import make_scene
from tests.wai.validate.edits import edit_meta, only
from wai.validate import find_scenes, validate_scene


@pytest.mark.parametrize(
    ("tree_change", "name"),
    [
        (lambda t: t["depth"].update(path="depth"), "depth"),
        (lambda t: t.update(extra={"scene_key": "x", "format": "image"}), "extra"),
        (lambda t: t.update(pred={"moge2": {"frame_key": "", "format": "depth"}}), "pred/moge2"),
        (lambda t: t.update(pred={"moge2": {"frame_key": "depth", "format": 3}}), "pred/moge2"),
    ],
)
def test_a_malformed_leaf_reads_the_same_in_reader_and_validator(
    scene_dir: Path, tree_change, name: str
) -> None:
    edit_meta(scene_dir, lambda m: tree_change(m["frame_modalities"]))
    [problem] = only(validate_scene(scene_dir), "modalities")
    assert problem.field == f"frame_modalities.{name}"
    scene = wai.open_scene(scene_dir)
    with pytest.raises(wai.WaiFormatError) as listing:
        _ = scene.frame_modality_names
    with pytest.raises(wai.WaiFormatError) as loading:
        scene.frame_modality(name)
    for error in (listing, loading):
        assert str(error.value) == f"scene 'scene_a', field 'frame_modalities': {problem.message}"


def test_an_empty_group_is_reported_but_does_not_stop_reading(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frame_modalities"].update(pred_depth={}))
    [problem] = validate_scene(scene_dir)
    assert problem.message == "modality 'pred_depth' is an empty group"
    assert wai.open_scene(scene_dir).frame_modality_names == ["image", "depth"]


@pytest.mark.parametrize(
    "change",
    [
        {"fl_x": "30"},
        {"camera_model": "KB4"},
        {"k2": 0.1},
        {"h": 0},
        {"camera_model": "SIMPLE_PINHOLE", "fl_y": 31.0},
    ],
)
def test_the_reader_raises_the_first_fault_the_validator_lists(scene_dir: Path, change: dict) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][2].update(change))
    problems = [p for p in only(validate_scene(scene_dir), "camera") if p.field != "shared_intrinsics"]
    assert problems and all(p.frame == "000002" for p in problems)
    with pytest.raises(wai.WaiCameraError) as info:
        _ = wai.open_scene(scene_dir).frames[2].camera
    first = problems[0]
    assert str(info.value) == f"scene 'scene_a', frame '000002': field '{first.field}': {first.message}"


def test_one_scene_folder_test(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "done")
    (root / "started" / "images").mkdir(parents=True)
    (root / "empty").mkdir()
    assert not wai.scene.is_scene_folder(root)
    assert all(wai.scene.is_scene_folder(root / name) for name in ("done", "started", "empty"))
    assert [wai.is_scene(root / name) for name in ("done", "started", "empty")] == [True, False, False]
    assert find_scenes(root) == [root / "done", root / "empty", root / "started"]
    assert find_scenes(root / "started") == [root / "started"]
    assert not wai.scene.is_scene_folder(tmp_path / "missing")
