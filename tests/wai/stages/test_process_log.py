"""The process log on disk: the reference's exact layout, backups, order, and loud failure on a corrupt file."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import wai as wai_package
from tests.wai.stages import sample_stages
from wai.errors import WaiStageError
from wai.stages import (
    PROCESS_LOG,
    PROCESS_LOG_BACKUP,
    PROCESS_LOG_CORRUPT,
    ProcessLog,
    Stage,
    StageState,
    run_stage,
)
from wai.stages.process_log import code_commit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
EXPECTED_ONE_ENTRY = f"""{{
  "conversion": {{
    "state": "finished",
    "message": "",
    "date": "2025-06-01 10:00:00",
    "wai_commit_hash": "{COMMIT}",
    "script_path": "/opt/wai/convert.py"
  }}
}}"""


def test_log_bytes_match_reference_layout(tmp_path: Path) -> None:
    """The reference's layout and field order; the fields it always leaves empty are filled or left out."""
    log = ProcessLog(tmp_path / "scene")
    log.set(
        "conversion",
        StageState.FINISHED,
        script_path="/opt/wai/convert.py",
        date="2025-06-01 10:00:00",
        commit=COMMIT,
    )
    assert (tmp_path / "scene" / PROCESS_LOG).read_bytes() == EXPECTED_ONE_ENTRY.encode()
    assert not (tmp_path / "scene" / PROCESS_LOG_BACKUP).exists()


def test_no_empty_placeholder_fields(tmp_path: Path) -> None:
    log = ProcessLog(tmp_path)
    log.set("conversion", StageState.FINISHED, script_path="", commit="")
    assert list(log.entry("conversion")) == ["state", "message", "date"]


def test_commit_is_the_checkout_wai_runs_from(tmp_path: Path) -> None:
    repo = Path(wai_package.__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        assert code_commit() == ""
        pytest.skip("not running from a git checkout")
    assert code_commit() == head.stdout.strip()
    stage = Stage("conversion", sample_stages.write_result)
    run_stage(stage, tmp_path, scenes=["s0"], progress=False)
    entry = ProcessLog(tmp_path / "s0").entry("conversion")
    assert entry["wai_commit_hash"] == head.stdout.strip()
    assert "wai_code_state_link" not in entry


def test_backup_keeps_previous_version_and_order_is_kept(tmp_path: Path) -> None:
    log = ProcessLog(tmp_path)
    log.set("conversion", "running", script_path="/s.py", date="2025-06-01 10:00:00", commit=COMMIT)
    log.set(
        "covisibility",
        "failed",
        "Traceback ...\nValueError: x",
        script_path="/s.py",
        date="2025-06-01 10:00:01",
        commit=COMMIT,
    )
    before = (tmp_path / PROCESS_LOG).read_bytes()
    log.set("conversion", "finished", script_path="/s.py", date="2025-06-01 10:00:02", commit=COMMIT)
    assert (tmp_path / PROCESS_LOG_BACKUP).read_bytes() == before
    data = json.loads((tmp_path / PROCESS_LOG).read_text())
    assert list(data) == ["conversion", "covisibility"]  # the rewritten stage keeps its place
    assert list(data["conversion"]) == [
        "state",
        "message",
        "date",
        "wai_commit_hash",
        "script_path",
    ]
    assert data["conversion"]["state"] == "finished" and data["conversion"]["date"] == "2025-06-01 10:00:02"
    assert data["covisibility"]["message"] == "Traceback ...\nValueError: x"
    assert log.state("covisibility") is StageState.FAILED
    assert log.state("moge") is None


def test_date_is_local_time_in_reference_format(tmp_path: Path) -> None:
    log = ProcessLog(tmp_path)
    log.set("conversion", "finished")
    date = log.entry("conversion")["date"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", date)


def test_non_ascii_message_is_written_as_utf8(tmp_path: Path) -> None:
    log = ProcessLog(tmp_path)
    log.set("conversion", "data_issue", "Bildgröße falsch")
    assert "Bildgröße".encode() in (tmp_path / PROCESS_LOG).read_bytes()
    assert log.state("conversion") == "data_issue"


def _write_reference_log(scene_dir: Path) -> str:
    """A log as the reference writes it, including a custom-state entry it records wrongly (message as the state)."""
    scene_dir.mkdir(parents=True)
    text = (
        '{\n  "conversion": {\n    "state": "finished",\n    "message": "",\n    "date": "2025-05-30 08:12:44",\n'
        '    "wai_commit_hash": "",\n    "wai_code_state_link": "",\n'
        '    "script_path": "/home/u/wai_processing/scripts/conversion/eth3d.py"\n  },\n'
        '  "data_issue": {\n    "state": "Images are in portrait",\n    "message": "",\n'
        '    "date": "2025-05-30 08:12:45",\n    "wai_commit_hash": "",\n    "wai_code_state_link": "",\n'
        '    "script_path": "/x.py"\n  }\n}'
    )
    (scene_dir / PROCESS_LOG).write_text(text)
    return text


def test_reads_log_written_by_reference_and_appends_after_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    reference_text = _write_reference_log(root / "courtyard")
    assert ProcessLog(root / "courtyard").state("conversion") is StageState.FINISHED
    stage = Stage("covisibility", sample_stages.write_result, requires=("conversion",))
    report = run_stage(stage, root, progress=False)
    assert [o.scene for o in report.done] == ["courtyard"]
    data = json.loads((root / "courtyard" / PROCESS_LOG).read_text())
    assert list(data) == ["conversion", "data_issue", "covisibility"]
    assert data["conversion"]["script_path"] == "/home/u/wai_processing/scripts/conversion/eth3d.py"
    assert data["covisibility"]["state"] == "finished"
    # the backup holds the version before this stage's final write (its "running" mark), which extends the original
    backup = json.loads((root / "courtyard" / PROCESS_LOG_BACKUP).read_text())
    assert backup["covisibility"]["state"] == "running"
    assert {k: backup[k] for k in ("conversion", "data_issue")} == json.loads(reference_text)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"conversion": {"state": "fini', "Unterminated string|Expecting"),
        (b"", "Expecting value"),
        (b"[1, 2]", "expected a JSON object keyed by stage name, got list"),
        (b'{"conversion": "finished"}', "field 'conversion': expected an object"),
        (b"\xff\xfe", "codec can't decode"),
    ],
)
def test_corrupt_log_is_an_error_naming_the_file(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / PROCESS_LOG).write_bytes(content)
    with pytest.raises(WaiStageError, match=rf"corrupt process log, file '.*{PROCESS_LOG}'.*({expected})"):
        ProcessLog(tmp_path).read()
    with pytest.raises(WaiStageError, match="corrupt process log"):
        ProcessLog(tmp_path).set("conversion", "finished")
    assert (tmp_path / PROCESS_LOG).read_bytes() == content  # never silently replaced


def test_corrupt_log_fails_the_scene_and_overwrite_repairs_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    good = root / "good"
    ProcessLog(good).set("conversion", "finished")
    broken = root / "broken"
    ProcessLog(broken).set("conversion", "finished")
    ProcessLog(broken).set("moge", "failed")  # now the backup holds the conversion-only version
    (broken / PROCESS_LOG).write_bytes(b'{"conversion": {"sta')
    stage = Stage("covisibility", sample_stages.write_result, requires=("conversion",))

    report = run_stage(stage, root, progress=False)
    assert [o.scene for o in report.done] == ["good"]
    (failure,) = report.failed
    assert failure.scene == "broken"
    assert str(broken / PROCESS_LOG) in failure.reason and "rerun with --overwrite" in failure.reason
    assert (broken / PROCESS_LOG).read_bytes() == b'{"conversion": {"sta'
    assert sample_stages.calls(broken) == 0
    assert "broken: corrupt process log" in report.summary()

    report = run_stage(stage, root, overwrite=True, progress=False)
    assert report.ok and [o.scene for o in report.done] == ["broken", "good"]
    assert (broken / PROCESS_LOG_CORRUPT).read_bytes() == b'{"conversion": {"sta'
    data = json.loads((broken / PROCESS_LOG).read_text())
    assert list(data) == ["conversion", "covisibility"]  # restored from the backup, then extended


def test_repair_without_backup_starts_empty(tmp_path: Path) -> None:
    (tmp_path / PROCESS_LOG).write_text("not json")
    log = ProcessLog(tmp_path)
    assert "no readable backup" in log.repair()
    assert log.read() == {} and (tmp_path / PROCESS_LOG_CORRUPT).read_text() == "not json"
    assert log.repair() is None  # nothing to do now


def test_repair_with_an_empty_backup_starts_empty(tmp_path: Path) -> None:
    # The backup is not flushed on its own, so after a power cut it may be empty; repair must not trust it.
    log = ProcessLog(tmp_path)
    log.set("conversion", "finished")
    log.set("moge", "running")
    (tmp_path / PROCESS_LOG).write_text('{"conv')
    (tmp_path / PROCESS_LOG_BACKUP).write_bytes(b"")
    assert "no readable backup" in log.repair()
    assert log.read() == {} and (tmp_path / PROCESS_LOG_CORRUPT).read_text() == '{"conv'
