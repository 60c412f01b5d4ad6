"""Every registered rule, driven by one scene broken in exactly the way that rule exists to catch.

The table below must name every rule in `RULES`, so a new rule is tested the day it is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.factories import make_scene
from tests.wai.validate.edits import edit_meta, rules_of
from wai.io.exr import write_exr
from wai.validate import RULES, validate_scene


def _drop_meta(scene: Path) -> None:
    (scene / "scene_meta.json").unlink()


def _drop_key(scene: Path) -> None:
    edit_meta(scene, lambda m: m.pop("dataset_name"))


def _duplicate_name(scene: Path) -> None:
    edit_meta(scene, lambda m: m["frames"][2].update(frame_name=m["frames"][0]["frame_name"]))


def _bad_transform(scene: Path) -> None:
    edit_meta(scene, lambda m: m["frames"][1].update(transform_matrix=np.eye(3).tolist()))


def _unknown_model(scene: Path) -> None:
    edit_meta(scene, lambda m: m.update(camera_model="PINHOLE_PLUS"))


def _unknown_format(scene: Path) -> None:
    edit_meta(scene, lambda m: m["frame_modalities"]["depth"].update(format="exr16"))


def _escaping_path(scene: Path) -> None:
    edit_meta(scene, lambda m: m["frames"][0].update(image="../x.png"))


def _missing_file(scene: Path) -> None:
    (scene / "depth" / "000001.exr").unlink()


def _truncated_image(scene: Path) -> None:
    png = scene / "images" / "000001.png"
    data = png.read_bytes()
    png.write_bytes(data[: len(data) // 2])


def _nan_depth(scene: Path) -> None:
    depth = np.ones((24, 32), np.float32)
    depth[0, :5] = np.nan
    write_exr(scene / "depth" / "000002.exr", depth, "half")  # wai.store refuses NaN depth


def _skewed_rotation(scene: Path) -> None:
    def skew(meta: dict) -> None:
        pose = np.asarray(meta["frames"][1]["transform_matrix"])
        pose[:3, :3] *= 1.1
        meta["frames"][1]["transform_matrix"] = pose.tolist()

    edit_meta(scene, skew)


def _wrong_covisibility(scene: Path) -> None:
    folder = scene / "covisibility" / "v0"
    folder.mkdir(parents=True)
    np.save(folder / "pairwise_covisibility--2x2.npy", np.eye(2, dtype=np.float32))


#: rule name -> (how to break a clean 3-frame scene, pattern the problem message must match)
BREAKERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "meta": (_drop_meta, r"no scene_meta\.json: conversion not finished"),
    "keys": (_drop_key, r"missing required key 'dataset_name'"),
    "frames": (_duplicate_name, r"duplicate frame_name \(also frames\[0\]\)"),
    "transforms": (_bad_transform, r"expected a 4x4 list of numbers"),
    "camera": (_unknown_model, r"unknown model 'PINHOLE_PLUS'"),
    "modalities": (_unknown_format, r"modality 'depth' has unknown format 'exr16'"),
    "paths": (_escaping_path, r"path '\.\./x\.png' escapes the scene folder"),
    "files": (_missing_file, r"file not found \(modality 'depth'\)"),
    "decode": (_truncated_image, r"cannot decode as format 'image'"),
    "depth_values": (_nan_depth, r"5 NaN, 0 inf, 0 negative of 768 pixels"),
    "rotations": (_skewed_rotation, r"rotation part is not a rotation: max \|R R\^T - I\| = 0\.21"),
    "covisibility": (
        _wrong_covisibility,
        r"expected a 3x3 matrix \(one row and column per frame\), got shape \(2, 2\)",
    ),
}


def test_every_rule_has_a_breaker() -> None:
    assert set(BREAKERS) == set(RULES)


def test_rules_have_descriptions() -> None:
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.description and "\n" not in rule.description


def test_clean_scene_passes_every_rule(scene_dir: Path) -> None:
    assert validate_scene(scene_dir, deep=True) == []


@pytest.mark.parametrize("rule_name", sorted(BREAKERS))
def test_rule_catches_its_fault(tmp_path: Path, rule_name: str) -> None:
    scene = make_scene(tmp_path / "scene_x")
    breaker, pattern = BREAKERS[rule_name]
    breaker(scene)
    problems = validate_scene(scene, deep=RULES[rule_name].deep)
    assert rules_of(problems) == {rule_name}, [str(p) for p in problems]
    assert any(re.search(pattern, p.message) for p in problems), [p.message for p in problems]
    assert all(p.scene == "scene_x" for p in problems)
