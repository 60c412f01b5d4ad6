"""Deep content rules: decoding, shape and dtype, size against the camera, depth values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wai
from tests.factories import H, W, pinhole
from tests.wai.validate.edits import edit_meta, only, rules_of
from wai import io
from wai.io.exr import write_exr
from wai.validate import validate_scene


def test_truncated_image_names_the_file(scene_dir: Path) -> None:
    png = scene_dir / "images" / "000001.png"
    data = png.read_bytes()
    png.write_bytes(data[: len(data) // 2])
    assert validate_scene(scene_dir) == []  # shallow runs do not open files
    [problem] = validate_scene(scene_dir, deep=True)
    assert (problem.rule, problem.frame, problem.file, problem.field) == (
        "decode",
        "000001",
        "images/000001.png",
        "image",
    )
    assert problem.message.startswith("cannot decode as format 'image': ")
    assert "images/000001.png" in str(problem)


def test_image_size_disagrees_with_camera(scene_dir: Path) -> None:
    io.store(scene_dir / "images" / "000000.png", np.zeros((16, 20, 3), np.uint8), "image")
    [problem] = validate_scene(scene_dir, deep=True)
    assert (problem.rule, problem.frame, problem.file) == ("decode", "000000", "images/000000.png")
    assert problem.message == f"size 20x16 (WxH) disagrees with the camera's w={W}, h={H}"


def test_per_frame_size_is_used(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][2].update(w=W * 2, h=H * 2))
    problems = only(validate_scene(scene_dir, deep=True), "decode")
    assert {p.frame for p in problems} == {"000002"}
    assert {p.file for p in problems} == {"images/000002.png", "depth/000002.exr"}


def test_depth_counts_bad_pixels(scene_dir: Path) -> None:
    depth = np.ones((H, W), np.float32)
    depth[0, :2] = np.nan
    depth[1, :3] = np.inf
    depth[-1, :] = -1.0  # the reference's undistortion writes -1 borders
    # wai.store refuses such values; other tools (the reference's undistortion) write them
    write_exr(scene_dir / "depth" / "000001.exr", depth, "half")
    [problem] = validate_scene(scene_dir, deep=True)
    assert (problem.rule, problem.frame, problem.file) == ("depth_values", "000001", "depth/000001.exr")
    assert problem.message == (
        f"depth must be finite and >= 0 (0 = invalid): 2 NaN, 3 inf, {W} negative of {H * W} pixels"
    )


def test_depth_with_wrong_shape(scene_dir: Path) -> None:
    io.store(scene_dir / "depth" / "000001.exr", np.ones((H // 2, W // 2), np.float32), "depth")
    [problem] = validate_scene(scene_dir, deep=True)
    assert problem.rule == "decode"
    assert problem.message == f"size {W // 2}x{H // 2} (WxH) disagrees with the camera's w={W}, h={H}"


def test_image_modality_pointing_at_a_depth_file(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][0].update(image="depth/000000.exr"))
    problems = validate_scene(scene_dir, deep=True)
    assert rules_of(problems) == {"decode"}
    assert problems[0].frame == "000000" and problems[0].file == "depth/000000.exr"


def test_masks_are_checked_as_bool_images(tmp_path: Path) -> None:
    scene = tmp_path / "masked"
    with wai.SceneWriter(scene, dataset_name="unit", camera=pinhole()) as writer:
        for i in range(2):
            mask = np.zeros((H, W), bool)
            mask[: H // 2] = True
            writer.add_frame(f"{i}", np.eye(4), image=np.zeros((H, W, 3), np.uint8), mask=mask)
    assert validate_scene(scene, deep=True) == []
    io.store(scene / "masks" / "1.png", np.ones((H, W // 2), bool), "binary")
    [problem] = validate_scene(scene, deep=True)
    assert (problem.rule, problem.frame, problem.file) == ("decode", "1", "masks/1.png")
    assert "disagrees with the camera" in problem.message


def test_scene_modality_that_does_not_decode(scene_dir: Path) -> None:
    (scene_dir / "mappings").mkdir()
    (scene_dir / "mappings" / "classes.json").write_text("{broken")
    edit_meta(
        scene_dir,
        lambda m: m["scene_modalities"].update(
            classes={"path": "mappings/classes.json", "format": "readable"}
        ),
    )
    [problem] = validate_scene(scene_dir, deep=True)
    assert (problem.rule, problem.file, problem.field) == (
        "decode",
        "mappings/classes.json",
        "scene_modalities.classes",
    )
    assert problem.frame is None
    assert problem.message.startswith("cannot decode as format 'readable'")


def test_a_bug_in_a_codec_surfaces_as_a_bug(scene_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a bad file raises is a finding; a TypeError inside our code propagates, naming rule and scene."""

    def broken_load(self: object, path: Path, **options: object) -> None:
        raise TypeError("unexpected keyword in our own code")

    monkeypatch.setattr(type(io.codec_for("depth")), "load", broken_load)
    with pytest.raises(TypeError, match="unexpected keyword") as info:
        validate_scene(scene_dir, deep=True)
    assert any("rule 'decode' on scene 'scene_a'" in note for note in info.value.__notes__)


def test_an_unreadable_file_is_a_finding(scene_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(self: object, path: Path, **options: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(type(io.codec_for("depth")), "load", unreadable)
    problems = validate_scene(scene_dir, deep=True)
    assert {p.rule for p in problems} == {"decode"} and len(problems) == 3
    assert "PermissionError" in problems[0].message
