"""Frame files of a scene are flushed to disk together, before the scene's own files and its finished log entry.

The flushes are observed by recording `os.fsync` (by path, through /proc/self/fd) and the `syncfs` call.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import wai.atomic
from tests.wai.stages import sample_stages
from wai.atomic import atomic_write_text, batched_durability
from wai.stages import PROCESS_LOG, ProcessLog, Stage, run_stage

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")

FRAMES = Stage("frames", sample_stages.write_frames_then_summary)


def _record(monkeypatch: pytest.MonkeyPatch, syncfs: bool) -> list[tuple[str, str]]:
    """Replace fsync and syncfs by recorders that still flush; return the list of (call, path) they fill."""
    events: list[tuple[str, str]] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def fake_syncfs(fd: int) -> int:
        events.append(("syncfs", os.readlink(f"/proc/self/fd/{fd}")))
        return 0

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(wai.atomic, "_SYNCFS", fake_syncfs if syncfs else None)
    return events


def _first(events: list[tuple[str, str]], call: str, ending: str) -> int:
    return next(i for i, (c, path) in enumerate(events) if c == call and path.endswith(ending))


def test_frames_are_flushed_once_before_the_summary_and_the_finished_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _record(monkeypatch, syncfs=True)
    report = run_stage(FRAMES, tmp_path / "root", scenes=["s"], progress=False)
    scene = tmp_path / "root" / "s"
    assert report.ok and ProcessLog(scene).state("frames").value == "finished"
    assert (scene / "frames" / "0002.txt").read_text() == "s frame 2\n"
    assert not [path for _, path in events if "/frames" in path]  # no frame file or folder flushed one by one
    assert [e for e in events if e[0] == "syncfs"] == [("syncfs", str(scene))]
    flush = _first(events, "syncfs", "")
    assert flush < _first(events, "fsync", "summary.txt")
    running, finished = [i for i, (_, path) in enumerate(events) if path.endswith(PROCESS_LOG)][-2:]
    assert running < flush < finished


def test_without_syncfs_every_postponed_file_and_folder_is_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _record(monkeypatch, syncfs=False)
    assert run_stage(FRAMES, tmp_path / "root", scenes=["s"], progress=False).ok
    scene = tmp_path / "root" / "s"
    summary = _first(events, "fsync", "summary.txt")
    flushed = {path for _, path in events[:summary]}
    expected = {str(scene / "frames" / f"{i:04d}.txt") for i in range(3)} | {
        str(scene / "frames"),
        str(scene),
    }
    assert expected <= flushed


def test_a_failed_scene_is_not_flushed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _record(monkeypatch, syncfs=True)
    stage = Stage("frames", sample_stages.write_frame_then_fail)
    report = run_stage(stage, tmp_path / "root", scenes=["s"], progress=False)
    assert report.failed[0].reason == "RuntimeError: broken after the first frame"
    assert not [e for e in events if e[0] == "syncfs"]
    assert (tmp_path / "root" / "s" / "frames" / "0000.txt").read_text() == "frame 0\n"


def test_writes_outside_the_folder_keep_their_own_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _record(monkeypatch, syncfs=True)
    scene, other = tmp_path / "scene", tmp_path / "elsewhere" / "file.txt"
    with batched_durability(scene):
        atomic_write_text(scene / "frames" / "a.txt", "a")
        atomic_write_text(other, "b")
        atomic_write_text(scene / "frames" / "c.txt", "c", fsync=False)
    assert [c for c, _ in events] == ["syncfs", "fsync", "fsync"]  # a's flush, then b's file and folder
    assert events[1][1].endswith("file.txt") and events[2][1] == str(other.parent)
    assert (scene / "frames" / "c.txt").read_text() == "c"
