"""`wai info` through the click entry point."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.wai_cli import main
from tests.factories import make_scene


def test_scene_text(scene_dir: Path) -> None:
    result = CliRunner().invoke(main, ["info", str(scene_dir)])
    assert result.exit_code == 0, result.output
    assert "frames           3" in result.output
    assert "camera model(s)  PINHOLE: 3" in result.output
    assert "depth range      1 - 3 m (valid pixels of 3 of 3 frames, evenly spaced" in result.output


def test_root_table_and_json(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "s1", n_frames=2)
    make_scene(root / "s2", n_frames=4)
    result = CliRunner().invoke(main, ["info", str(root)])
    assert result.exit_code == 0, result.output
    total = next(line for line in result.output.splitlines() if line.startswith("total"))
    assert total.split()[:3] == ["total", "(2)", "6"]
    result = CliRunner().invoke(main, ["info", str(root), "--json"])
    data = json.loads(result.output)
    assert [s["name"] for s in data["scenes"]] == ["s1", "s2"]
    assert data["total"]["frames"] == 6


def test_unfinished_scene_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "scene" / "images").mkdir(parents=True)
    result = CliRunner().invoke(main, ["info", str(tmp_path / "scene")])
    assert result.exit_code == 1
    assert "conversion not finished" in result.output


def _json(args: list[str]) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["info", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_scene_and_root_json_have_one_shape(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "s1", n_frames=2)
    code_scene, scene = _json([str(root / "s1")])
    code_root, dataset = _json([str(root)])
    assert code_scene == code_root == 0
    assert set(scene) == set(dataset) == {"path", "root", "ok", "scenes", "errors", "total"}
    assert scene["root"] == dataset["root"] == str(root) and scene["path"] == str(root / "s1")
    assert scene["scenes"] == dataset["scenes"] and scene["errors"] == [] and scene["ok"] is True


def test_one_bad_scene_reaches_stdout_and_json_and_exits_one(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_scene(root / "good", n_frames=2)
    bad = make_scene(root / "bad", n_frames=2)
    (bad / "scene_meta.json").write_text("{")
    code, data = _json([str(bad)])
    assert code == 1 and data["ok"] is False and data["scenes"] == []
    assert data["errors"][0]["scene"] == "bad" and "scene_meta.json" in data["errors"][0]["error"]
    text = CliRunner().invoke(main, ["info", str(bad)])
    assert text.exit_code == 1 and text.stdout.startswith("unreadable scene 'bad': ")
    code, data = _json([str(root)])
    assert code == 1 and [s["name"] for s in data["scenes"]] == ["good"]
    assert [e["scene"] for e in data["errors"]] == ["bad"]


def test_every_scene_unreadable_exits_one(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
    result = CliRunner().invoke(main, ["info", str(root)])
    assert result.exit_code == 1
    assert "unreadable scene 'a': no scene_meta.json" in result.stdout
    assert "unreadable scene 'b': no scene_meta.json" in result.stdout


def test_empty_root_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, data = _json([str(tmp_path / "empty")])
    assert code == 1 and data["errors"] == [
        {"scene": None, "error": f"no scenes under '{tmp_path / 'empty'}'"}
    ]
    assert data["scenes"] == [] and data["total"]["scenes"] == 0
    text = CliRunner().invoke(main, ["info", str(tmp_path / "empty")])
    assert text.exit_code == 1 and f"error: no scenes under '{tmp_path / 'empty'}'" in text.output
    (tmp_path / "empty" / "images").mkdir()  # a marker: now an unfinished scene
    code, data = _json([str(tmp_path / "empty")])
    assert code == 1 and data["errors"] == [
        {"scene": "empty", "error": "no scene_meta.json (conversion not finished)"}
    ]
    result = CliRunner().invoke(main, ["info", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "does not exist" in result.output and "Traceback" not in result.output


def test_index_answers_without_reading_the_root(tmp_path: Path) -> None:
    root = tmp_path / "eth3d"
    make_scene(root / "courtyard", n_frames=4)
    make_scene(root / "office", n_frames=2, seed=1)
    meta = tmp_path / "meta"
    built = CliRunner().invoke(main, ["index", str(root), "--out", str(meta), "--dataset", "eth3d"])
    assert built.exit_code == 0, built.output
    code, from_root = _json([str(root)])
    assert code == 0
    for scene in root.iterdir():  # the index alone must answer from here on
        (scene / "scene_meta.json").unlink()
    code, indexed = _json(["--index", str(meta)])
    assert code == 0
    assert set(from_root) < set(indexed) and indexed["path"] == indexed["root"] == str(meta)
    assert indexed["ok"] is True and indexed["errors"] == []
    assert indexed["total"] == {"scenes": 2, "frames": 6, "datasets": 1}
    assert indexed["datasets"][0]["dataset"] == "eth3d" and indexed["datasets"][0]["scenes"] == 2
    shared = [
        "name",
        "path",
        "frames",
        "resolutions",
        "camera_models",
        "frame_modalities",
        "scene_modalities",
    ]
    for got, want in zip(indexed["scenes"], from_root["scenes"], strict=True):
        assert {k: got[k] for k in shared} == {k: want[k] for k in shared}
        assert got["dataset_name"] == "eth3d"
    text = CliRunner().invoke(main, ["info", "--index", str(meta)])
    assert text.exit_code == 0, text.output
    total = next(line for line in text.output.splitlines() if line.startswith("total"))
    assert total.split() == ["total", "(2)", "1", "dataset", "6"]
    assert "courtyard" in text.output and f"from the index in '{meta}'" in text.output


def test_index_and_path_are_exclusive_and_a_missing_index_is_one_error(tmp_path: Path) -> None:
    for args in ([], [str(tmp_path), "--index", str(tmp_path)]):
        result = CliRunner().invoke(main, ["info", *args])
        assert result.exit_code == 2 and "either PATH" in result.output
    result = CliRunner().invoke(main, ["info", "--index", str(tmp_path / "meta")])
    assert result.exit_code == 1 and "no index under" in result.output and "Traceback" not in result.output
