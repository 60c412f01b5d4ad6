"""Per-frame camera overrides read back correctly whatever order the frames are visited in."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import wai
from tests.factories import make_scene
from tests.wai.validate.edits import edit_meta


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_frame_zero_override_does_not_leak_into_the_shared_camera(
    scene_dir: Path, order: tuple[int, ...]
) -> None:
    edit_meta(scene_dir, lambda m: m["frames"][0].update(fl_x=50.0))
    scene = wai.open_scene(scene_dir)
    seen = {i: scene.frames[i].intrinsics[0, 0] for i in order}
    assert seen == {0: 50.0, 1: 30.0, 2: 30.0}
    assert scene.camera(0).params["fl_x"] == 50.0 and scene.camera(1).params["fl_x"] == 30.0


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_every_frame_override_in_every_order(tmp_path: Path, order: tuple[int, ...]) -> None:
    scene_dir = make_scene(tmp_path / "s")
    edit_meta(scene_dir, lambda m: [m["frames"][i].update(cx=10.0 + i) for i in (0, 2)])
    scene = wai.open_scene(scene_dir)
    seen = {i: scene.frames[i].camera.params["cx"] for i in order}
    assert seen == {0: 10.0, 1: 15.5, 2: 12.0}
    # frames without overrides share one camera object
    assert scene.frames[1].camera is scene.camera(1)
