"""`wai validate` through the click entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.wai_cli import main
from tests.factories import make_scene
from wai.validate import RULES


def test_clean_scene_exits_zero(scene_dir: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(scene_dir), "--deep"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "checked 1 scene (deep): 1 ok, 0 with problems; 0 problems"


def test_problems_exit_one_with_one_line_each(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "good", n_frames=2)
    bad = make_scene(root / "bad", n_frames=2)
    (bad / "images" / "000000.png").unlink()
    (bad / "images" / "000001.png").unlink()
    result = CliRunner().invoke(main, ["validate", str(root), "--workers", "2"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[:2] == [
        "[files] scene 'bad', frame '000000', file 'images/000000.png', field 'image': file not found (modality 'image')",
        "[files] scene 'bad', frame '000001', file 'images/000001.png', field 'image': file not found (modality 'image')",
    ]
    assert lines[2] == "checked 2 scenes (shallow): 1 ok, 1 with problems; 2 problems"
    assert lines[3] == "problems by rule: files: 2"
    assert lines[4].startswith("not checked without --deep")


def test_json_report(scene_dir: Path) -> None:
    (scene_dir / "scene_meta.json").write_text("{")
    result = CliRunner().invoke(main, ["validate", str(scene_dir), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["problem_counts"] == {"meta": 1}
    assert data["problems"][0]["message"].startswith("malformed JSON")


def test_list_rules() -> None:
    result = CliRunner().invoke(main, ["validate", "--list-rules"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.strip().splitlines()]
    assert names == list(RULES)
    assert "deep" in next(line for line in result.output.splitlines() if line.startswith("covisibility"))


def test_missing_path_argument() -> None:
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "missing PATH" in result.output


def test_nonexistent_path_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "Error:" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output


def test_repeats_of_one_finding_are_grouped_per_scene(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("a", "b"):
        scene = make_scene(root / name, n_frames=5)
        for i in range(5 if name == "a" else 1):
            (scene / "images" / f"{i:06d}.png").unlink()
    result = CliRunner().invoke(main, ["validate", str(root), "--workers", "1"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[:2] == [
        "[files] scene 'a', field 'image': 5 frames ('000000', '000001', '000002' and 2 more): "
        "file not found (modality 'image')",
        "[files] scene 'b', frame '000000', file 'images/000000.png', field 'image': file not found (modality 'image')",
    ]
    assert lines[2] == "checked 2 scenes (shallow): 0 ok, 2 with problems; 6 problems"
    data = json.loads(CliRunner().invoke(main, ["validate", str(root), "--json"]).stdout)
    assert len(data["problems"]) == 6  # the JSON keeps every problem


def test_shallow_run_says_what_it_did_not_check(scene_dir: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(scene_dir)])
    assert result.exit_code == 0
    deep_rules = [name for name, rule in RULES.items() if rule.deep]
    note = result.output.strip().splitlines()[-1]
    assert note.startswith("not checked without --deep: files were not decoded")
    assert all(name in note for name in deep_rules) and deep_rules
    deep = CliRunner().invoke(main, ["validate", str(scene_dir), "--deep"])
    assert "not checked" not in deep.output


def test_shard_checks_every_nth_scene(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("s0", "s1", "s2", "s3", "s4"):
        make_scene(root / name, n_frames=1)
    seen = []
    for i in range(2):
        result = CliRunner().invoke(main, ["validate", str(root), "--shard", f"{i}/2", "--json"])
        assert result.exit_code == 0, result.output
        seen.append(json.loads(result.stdout)["scenes_checked"])
    assert seen == [3, 2]
    bad = CliRunner().invoke(main, ["validate", str(root), "--shard", "2/2"])
    assert bad.exit_code == 2 and "0-based" in bad.output


def test_empty_folder_says_no_scenes(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    for extra in ([], ["--json"]):
        result = CliRunner().invoke(main, ["validate", str(tmp_path / "root"), *extra])
        assert result.exit_code == 1
        assert result.output.strip() == f"Error: no scenes under '{tmp_path / 'root'}'"
