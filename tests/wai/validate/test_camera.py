"""Camera rule: model, coefficients, image size and shared_intrinsics consistency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import wai
from tests.factories import H, W, pinhole
from tests.wai.validate.edits import edit_meta, only, rules_of
from wai.camera import CameraModel
from wai.validate import validate_scene


def test_unknown_model_lists_the_known_ones(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(camera_model="KB4"))
    [problem] = validate_scene(scene_dir)
    assert problem.rule == "camera"
    assert problem.field == "camera_model (scene level)" and problem.frame is None
    assert problem.message.startswith("unknown model 'KB4' (known: PINHOLE,")
    assert "OPENCV_FISHEYE" in problem.message


def test_scene_level_fault_is_reported_once(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.pop("fl_x"))
    problems = validate_scene(scene_dir)
    assert rules_of(problems) == {"camera"}
    assert {(p.frame, p.field, p.message) for p in problems} == {
        (None, "fl_x (scene level)", "missing (required by PINHOLE)"),
        (
            None,
            "shared_intrinsics",
            "shared_intrinsics is true but the scene level lacks ['fl_x'] (expected the shared camera there)",
        ),
    }


def test_missing_model_everywhere(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.pop("camera_model"))
    problems = only(validate_scene(scene_dir), "camera")
    [problem] = [p for p in problems if p.field == "camera_model (scene level)"]
    assert problem.message.startswith("missing (expected one of PINHOLE,")
    # the reader is lenient (PINHOLE without distortion), the validator asks for the model to be named
    assert wai.open_scene(scene_dir).camera().model is CameraModel.PINHOLE


def test_frame_level_coefficient_not_numeric(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][1].update(cx="15.5"))
    problems = only(validate_scene(scene_dir), "camera")
    messages = {(p.frame, p.field): p.message for p in problems}
    assert messages[("000001", "cx")] == "expected a number, got str '15.5'"
    assert (
        "overrides the shared camera (cx='15.5' vs scene 15.5)" in messages[("000001", "shared_intrinsics")]
    )


def test_image_size_must_be_positive_integers(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(w=0, h=23.5))
    messages = {p.field: p.message for p in only(validate_scene(scene_dir), "camera")}
    assert messages["w (scene level)"] == "expected a positive integer, got 0"
    assert messages["h (scene level)"] == "expected a positive integer, got 23.5"


def test_integral_float_size_is_accepted(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(w=float(W), h=float(H)))
    assert validate_scene(scene_dir, deep=True) == []


def test_scene_level_foreign_coefficient_is_reported_once(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(k1=0.2))
    [problem] = validate_scene(scene_dir)
    assert (problem.rule, problem.frame, problem.field) == ("camera", None, "k1 (scene level)")
    assert problem.message.startswith("non-zero value 0.2 is not a coefficient of PINHOLE")


def test_every_camera_fault_is_reported(scene_dir: Path) -> None:
    """The reader stops at the first fault; the validator lists all of them, per frame and at scene level."""

    def break_cameras(meta: dict) -> None:
        meta.update(w=-1, fl_y=0.0)
        meta["frames"][1].update(cx="x", cy=None, k1=0.3)

    edit_meta(scene_dir, break_cameras)
    problems = only(validate_scene(scene_dir), "camera")
    found = {(p.frame, p.field): p.message for p in problems if p.field != "shared_intrinsics"}
    assert found == {
        (None, "w (scene level)"): "expected a positive integer, got -1",
        (None, "fl_y (scene level)"): "expected a positive focal length, got 0.0",
        (
            "000001",
            "k1",
        ): "non-zero value 0.3 is not a coefficient of PINHOLE (coefficients: fl_x, fl_y, cx, cy)",
        ("000001", "cx"): "expected a number, got str 'x'",
        ("000001", "cy"): "missing (required by PINHOLE)",
    }
    with pytest.raises(wai.WaiCameraError, match="frame '000001': field 'w': expected a positive integer"):
        _ = wai.open_scene(scene_dir).frames[1].camera


def test_shared_false_with_frames_inheriting_scene_values(scene_dir: Path) -> None:
    edit_meta(scene_dir, lambda m: m.update(shared_intrinsics=False))
    [problem] = validate_scene(scene_dir)
    assert problem.field == "shared_intrinsics"
    assert "3 frames carry no camera values of their own (first: '000000')" in problem.message


def test_per_frame_cameras_pass(tmp_path: Path) -> None:
    scene = tmp_path / "per_frame"
    with wai.SceneWriter(scene, dataset_name="unit") as writer:
        for i, f in enumerate((30.0, 31.0)):
            image = np.zeros((H, W, 3), np.uint8)
            writer.add_frame(f"{i:03d}", np.eye(4), camera=pinhole(f=f), image=image)
    assert validate_scene(scene, deep=True) == []
    edit_meta(scene, lambda m: m["frames"][1].update(camera_model="FISHEYE62"))
    problems = validate_scene(scene)
    assert rules_of(problems) == {"camera"}
    assert [(p.frame, p.field) for p in problems] == [("001", "camera_model")]


def test_distortion_terms_left_out_count_as_zero(scene_dir: Path) -> None:
    """7-Scenes' transforms.json says OPENCV without k/p keys; the reference's undistortion reads them as 0."""
    edit_meta(scene_dir, lambda m: m.update(camera_model="OPENCV"))
    assert validate_scene(scene_dir) == []
    assert wai.open_scene(scene_dir).camera().params["k1"] == 0.0

    def single_focal(meta: dict) -> None:
        meta.update(camera_model="SIMPLE_RADIAL", k1=0.01)
        del meta["fl_y"]

    edit_meta(scene_dir, single_focal)
    assert validate_scene(scene_dir) == []
