"""Running over dataset roots: discovery, process pool, report, summary and JSON form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import make_scene
from tests.wai.validate.edits import edit_meta
from wai.errors import WaiFileNotFoundError
from wai.validate import Problem, ValidationReport, find_scenes, validate


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root with two clean scenes, one with two problems and one unfinished conversion."""
    root = tmp_path / "dataset"
    for name in ("a_clean", "b_broken", "c_clean"):
        make_scene(root / name, n_frames=2)
    (root / "b_broken" / "depth" / "000001.exr").unlink()
    edit_meta(root / "b_broken", lambda m: m["frames"][0].update(image="/abs.png"))
    (root / "d_unfinished" / "images").mkdir(parents=True)
    (root / "_internal").mkdir()
    (root / "notes.txt").write_text("files in the root are ignored")
    return root


def test_root_report(root: Path) -> None:
    report = validate(root)
    assert report.scenes == ["a_clean", "b_broken", "c_clean", "d_unfinished"]
    assert not report.ok
    assert report.scenes_with_problems == ["b_broken", "d_unfinished"]
    assert [(p.scene, p.rule) for p in report.problems] == [
        ("b_broken", "paths"),
        ("b_broken", "files"),
        ("d_unfinished", "meta"),
    ]
    assert report.counts_by_rule == {"paths": 1, "files": 1, "meta": 1}
    assert report.summary().splitlines() == [
        "checked 4 scenes (shallow): 2 ok, 2 with problems; 3 problems",
        "problems by rule: paths: 1, files: 1, meta: 1",
    ]


def test_process_pool_gives_the_same_report(root: Path) -> None:
    calls: list[tuple[str, int]] = []
    pooled = validate(root, deep=True, workers=2, progress=lambda name, n: calls.append((name, n)))
    serial = validate(root, deep=True, workers=1)
    assert pooled.problems == serial.problems
    assert sorted(calls) == [("a_clean", 0), ("b_broken", 2), ("c_clean", 0), ("d_unfinished", 1)]


def test_to_dict_is_json(root: Path) -> None:
    data = json.loads(json.dumps(validate(root).to_dict()))
    assert data["ok"] is False
    assert (data["scenes_checked"], data["scenes_ok"]) == (4, 2)
    assert data["problem_counts"] == {"paths": 1, "files": 1, "meta": 1}
    assert data["problems"][0] == {
        "rule": "paths",
        "message": "path '/abs.png' is absolute; paths in scene metadata must be relative to the scene "
        "(modality 'image')",
        "scene": "b_broken",
        "frame": "000000",
        "file": "/abs.png",
        "field": "image",
    }


def test_single_scene_and_its_meta_file(scene_dir: Path) -> None:
    for target in (scene_dir, scene_dir / "scene_meta.json"):
        report = validate(target, deep=True)
        assert report.ok and report.scenes == ["scene_a"]
        assert report.summary() == "checked 1 scene (deep): 1 ok, 0 with problems; 0 problems"


def test_empty_folder_has_no_scenes_and_a_marked_one_is_an_unfinished_scene(tmp_path: Path) -> None:
    (tmp_path / "empty" / ".cache").mkdir(parents=True)
    with pytest.raises(WaiFileNotFoundError, match=f"no scenes under '{tmp_path / 'empty'}'"):
        find_scenes(tmp_path / "empty")
    (tmp_path / "empty" / "_process_log.json").write_text("{}")
    assert find_scenes(tmp_path / "empty") == [tmp_path / "empty"]
    assert "meta" in [p.rule for p in validate(tmp_path / "empty").problems]


def test_missing_path_raises(tmp_path: Path) -> None:
    with pytest.raises(WaiFileNotFoundError, match="does not exist or is not a folder"):
        validate(tmp_path / "nowhere")


def test_problem_text() -> None:
    problem = Problem("files", "file not found", scene="s", frame="f", file="depth/f.exr", field="depth")
    assert str(problem) == "[files] scene 's', frame 'f', file 'depth/f.exr', field 'depth': file not found"
    assert str(Problem("meta", "no scenes")) == "[meta] no scenes"


def test_ok_report_summary() -> None:
    report = ValidationReport(root="r", deep=False, scenes=["x"])
    assert report.ok and report.to_dict()["scenes_ok"] == 1
