"""Resume, skip, overwrite, prerequisites, custom states, errors, locks and progress output of `run_stage`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.wai.stages import sample_stages
from wai.errors import WaiFileNotFoundError, WaiStageError
from wai.stages import (
    PROCESS_LOG,
    ProcessLog,
    SceneLock,
    SceneLockedError,
    SceneResult,
    Stage,
    StageState,
    list_scenes,
    run_stage,
)

WRITE = Stage("moge", sample_stages.write_result, reset=sample_stages.remove_out)


def _make_root(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
    (root / "_submitit").mkdir()
    (root / ".hidden").mkdir()
    (root / "notes.txt").write_text("not a scene")
    return root


def _states(root: Path, stage: str) -> dict[str, str | None]:
    return {name: ProcessLog(root / name).state(stage) for name in list_scenes(root)}


def test_list_scenes_skips_hidden_internal_and_files(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["b", "a", "c"])
    assert list_scenes(root) == ["a", "b", "c"]


def test_runs_every_scene_and_records_finished(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["b", "a", "c"])
    report = run_stage(WRITE, root, progress=False)
    assert report.ok and [o.scene for o in report.done] == ["a", "b", "c"]
    assert (root / "b" / "out" / "result.txt").read_text() == "result of b\n"
    assert _states(root, "moge") == {"a": "finished", "b": "finished", "c": "finished"}
    assert not (root / "_submitit" / PROCESS_LOG).exists()
    json.dumps(report.to_dict())
    assert report.to_dict()["counts"] == {"done": 3, "skipped": 0, "failed": 0, "left": 0}


def test_resume_skips_finished_and_redoes_failed_and_running(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["done", "failed", "killed", "new"])
    ProcessLog(root / "done").set("moge", "finished")
    ProcessLog(root / "failed").set("moge", "failed", "Traceback ...")
    ProcessLog(root / "killed").set("moge", "running")
    (root / "killed" / "out").mkdir()
    (root / "killed" / "out" / "half.txt").write_text("left by a killed run")
    (root / "killed" / "out" / ".wai-tmp-0123456789ab-result.txt").write_text("partial")

    report = run_stage(WRITE, root, progress=False)
    assert [o.scene for o in report.done] == ["failed", "killed", "new"]
    assert [(o.scene, o.reason) for o in report.skipped] == [("done", "already finished")]
    assert sample_stages.calls(root / "done") == 0
    # the reset hook ran before redoing the killed and failed scenes, not for the new one
    assert not (root / "killed" / "out" / "half.txt").exists()
    assert sorted(p.name for p in (root / "killed" / "out").iterdir()) == ["name.bin", "result.txt"]
    assert (root / "failed" / "resets.log").exists() and not (root / "new" / "resets.log").exists()
    assert set(_states(root, "moge").values()) == {StageState.FINISHED}

    again = run_stage(WRITE, root, progress=False)
    assert len(again.skipped) == 4 and not again.done
    assert all(sample_stages.calls(root / n) <= 1 for n in list_scenes(root))


def test_overwrite_redoes_finished_scenes_with_reset(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["a", "b"])
    run_stage(WRITE, root, progress=False)
    report = run_stage(WRITE, root, overwrite=True, progress=False)
    assert len(report.done) == 2
    assert sample_stages.calls(root / "a") == 2
    assert (root / "a" / "resets.log").read_text() == "reset\n"


def test_prerequisites_must_be_finished(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["converted", "failed_conversion", "unconverted"])
    ProcessLog(root / "converted").set("conversion", "finished")
    ProcessLog(root / "failed_conversion").set("conversion", "failed")
    stage = Stage("covisibility", sample_stages.write_result, requires=("conversion",))
    report = run_stage(stage, root, progress=False)
    assert [o.scene for o in report.done] == ["converted"]
    reasons = {o.scene: o.reason for o in report.skipped}
    assert reasons == {
        "failed_conversion": "prerequisite 'conversion' is failed, expected finished",
        "unconverted": "prerequisite 'conversion' is missing, expected finished",
    }
    assert ProcessLog(root / "unconverted").read() == {}
    # a named scene whose folder does not exist is skipped without creating the folder
    report = run_stage(stage, root, scenes=["ghost"], progress=False)
    assert report.skipped[0].reason.startswith("prerequisite 'conversion' is missing")
    assert not (root / "ghost").exists()


def test_finished_stage_is_redone_when_its_prerequisite_was_redone_later(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["s"])
    log = ProcessLog(root / "s")
    log.set("conversion", "finished", date="2025-06-01 10:00:00")
    log.set("covisibility", "finished", date="2025-06-01 11:00:00")
    stage = Stage("covisibility", sample_stages.write_result, requires=("conversion",))
    assert run_stage(stage, root, progress=False).skipped[0].reason == "already finished"
    log.set("conversion", "finished", date="2025-06-02 09:00:00")  # the scene was converted again
    assert [o.scene for o in run_stage(stage, root, progress=False).done] == ["s"]


def test_scenes_argument_creates_output_folders(tmp_path: Path) -> None:
    root = tmp_path / "new_root"
    stage = Stage("conversion", sample_stages.write_result)
    report = run_stage(stage, root, scenes=["z", "x", "x"], progress=False)
    assert [o.scene for o in report.done] == ["x", "z"]
    assert ProcessLog(root / "z").state("conversion") is StageState.FINISHED


@pytest.mark.parametrize("name", ["a/b", "..", "_tmp", ".hidden", ""])
def test_bad_scene_names_are_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(WaiStageError, match="bad scene name"):
        run_stage(WRITE, tmp_path, scenes=[name], progress=False)


def test_custom_state_is_recorded_under_the_stage_name(tmp_path: Path) -> None:
    root = tmp_path / "root"
    stage = Stage("conversion", sample_stages.report_data_issue)
    report = run_stage(stage, root, scenes=["portrait"], progress=False)
    data = json.loads((root / "portrait" / PROCESS_LOG).read_text())
    assert list(data) == ["conversion"]
    assert data["conversion"]["state"] == "data_issue"
    assert data["conversion"]["message"] == "Images are in portrait, expected landscape\nmore detail"
    (outcome,) = report.skipped
    assert (outcome.state, outcome.reason) == ("data_issue", "Images are in portrait, expected landscape")
    assert report.ok
    assert "portrait: data_issue: Images are in portrait, expected landscape" in report.summary()
    # a custom state is not "finished": the next run tries again
    run_stage(stage, root, scenes=["portrait"], progress=False)
    assert sample_stages.calls(root / "portrait") == 2


def test_skipped_result_is_recorded(tmp_path: Path) -> None:
    report = run_stage(
        Stage("conversion", sample_stages.report_skipped), tmp_path, scenes=["s"], progress=False
    )
    assert ProcessLog(tmp_path / "s").entry("conversion")["message"] == "no source renderings"
    assert report.skipped[0].state == "skipped" and report.skipped[0].reason == "no source renderings"


def test_exception_is_recorded_with_traceback_and_run_goes_on(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["a", "bad_1", "c"])
    stage = Stage("covisibility", sample_stages.fail_when_bad)
    report = run_stage(stage, root, progress=False)
    assert [o.scene for o in report.done] == ["a", "c"] and not report.ok
    (failure,) = report.failed
    assert failure.reason == "ValueError: cannot process bad_1"
    entry = ProcessLog(root / "bad_1").entry("covisibility")
    assert entry["state"] == "failed"
    assert entry["message"].startswith("Traceback (most recent call last):")
    assert "in fail_when_bad" in entry["message"]
    assert "ValueError: cannot process bad_1\nsecond line of the error" in entry["message"]
    assert "failed:\n  bad_1: ValueError: cannot process bad_1" in report.summary()


def test_wrong_return_type_fails_the_scene(tmp_path: Path) -> None:
    report = run_stage(
        Stage("conversion", sample_stages.return_wrong_type), tmp_path, scenes=["s"], progress=False
    )
    assert report.failed[0].reason == (
        "WaiStageError: stage 'conversion' returned str; expected a SceneResult or None"
    )


def test_scene_locked_by_another_job_is_skipped(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["a", "b"])
    with SceneLock(root / "b"):
        with pytest.raises(SceneLockedError, match="is locked by another process"):
            SceneLock(root / "b", timeout=0.05).acquire()
        report = run_stage(WRITE, root, progress=False, lock_timeout=0.0)
    assert [o.scene for o in report.done] == ["a"]
    assert [(o.scene, o.reason) for o in report.skipped] == [("b", "locked")]
    assert report.ok and not report.complete and [o.scene for o in report.left] == ["b"]
    assert report.summary().splitlines()[-1] == (
        "not finished: 1 scene locked by another job (b); run again when that job has ended"
    )
    assert report.to_dict()["counts"]["left"] == 1 and report.to_dict()["complete"] is False
    assert ProcessLog(root / "b").read() == {}  # untouched
    assert [o.scene for o in run_stage(WRITE, root, progress=False).done] == ["b"]


def test_plain_progress_lines_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _make_root(tmp_path / "root", ["a", "bad_b", "c"])
    ProcessLog(root / "c").set("covisibility", "finished")
    report = run_stage(Stage("covisibility", sample_stages.fail_when_bad), root)  # stderr is not a terminal
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert lines[0] == "[1/3] c skipped: already finished"  # known before any work starts
    assert lines[1].startswith("[2/3] a finished (") and lines[1].endswith(" s)")
    assert lines[2].startswith("[3/3] bad_b failed (") and lines[2].endswith(
        "): ValueError: cannot process bad_b"
    )
    summary = report.summary().splitlines()
    assert summary[0] == f"covisibility: 3 scenes in {root}: 1 done, 1 skipped, 1 failed"
    assert summary[1:] == [
        "skipped: 1 already finished",
        "failed:",
        "  bad_b: ValueError: cannot process bad_b",
    ]


def test_progress_bar_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _make_root(tmp_path / "root", ["a", "bad_b"])
    run_stage(Stage("covisibility", sample_stages.fail_when_bad), root, progress=True)
    err = capsys.readouterr().err
    assert "covisibility: bad_b failed" in err and "ValueError: cannot process bad_b" in err
    assert "2/2" in err and "[1/2]" not in err  # a bar, not plain lines


def test_quiet_progress_prints_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_stage(WRITE, _make_root(tmp_path / "root", ["a"]), progress=False)
    assert capsys.readouterr().err == ""


def test_bad_arguments_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(WaiStageError, match="workers must be a positive integer, got 0"):
        run_stage(WRITE, tmp_path, workers=0)
    with pytest.raises(WaiStageError, match="unknown executor 'dask'"):
        run_stage(WRITE, tmp_path, executor="dask")  # type: ignore[arg-type]
    with pytest.raises(WaiStageError, match="cannot be sent to other processes"):
        run_stage(Stage("x", lambda d: None), tmp_path, workers=2)
    with pytest.raises(WaiStageError, match="cannot require itself"):
        Stage("x", sample_stages.write_result, requires=("x",))
    with pytest.raises(WaiStageError, match="non-empty string"):
        Stage("", sample_stages.write_result)
    with pytest.raises(WaiStageError, match="cannot return the state 'running'"):
        SceneResult(StageState.RUNNING)
    with pytest.raises(WaiFileNotFoundError, match="does not exist"):
        run_stage(WRITE, tmp_path / "missing")


def test_summary_counts_one_scene_in_the_singular(tmp_path: Path) -> None:
    report = run_stage(WRITE, tmp_path / "root", scenes=["only"], progress=False)
    assert report.summary() == f"moge: 1 scene in {tmp_path / 'root'}: 1 done, 0 skipped, 0 failed"


def test_a_file_as_root_is_one_error_before_any_scene(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(WaiStageError, match=r"dataset root '.*file' is a file, not a folder"):
        run_stage(WRITE, tmp_path / "file", scenes=["a", "b"], progress=False)
    with pytest.raises(WaiStageError, match="cannot create dataset root"):
        run_stage(WRITE, tmp_path / "file" / "sub", scenes=["a"], progress=False)


def test_outcomes_say_which_process_ran_a_scene_when_and_for_how_much_cpu(tmp_path: Path) -> None:
    root = _make_root(tmp_path / "root", ["a", "b"])
    ProcessLog(root / "b").set("moge", "finished")
    before = time.time()
    report = run_stage(WRITE, root, progress=False)
    a, b = report.outcome("a"), report.outcome("b")
    assert a.worker == os.getpid() and before <= a.started <= time.time()
    assert 0 < a.cpu_seconds and a.seconds > 0
    assert (b.worker, b.started, b.cpu_seconds) == (0, 0.0, 0.0)  # skipped from its log, never dispatched
