"""Small module-level stages for the runner tests (module-level so that worker processes can import them)."""

from __future__ import annotations

import shutil
from pathlib import Path

from wai.atomic import atomic_write_bytes, atomic_write_text
from wai.stages import SceneResult, StageState


def _count_call(scene_dir: Path) -> None:
    with open(scene_dir / "calls.log", "a") as fh:
        fh.write("call\n")


def calls(scene_dir: Path) -> int:
    """How many times a sample stage's process ran on this scene."""
    path = scene_dir / "calls.log"
    return len(path.read_text().splitlines()) if path.exists() else 0


def write_result(scene_dir: Path) -> None:
    """Writes two files whose bytes depend only on the scene name."""
    _count_call(scene_dir)
    atomic_write_text(scene_dir / "out" / "result.txt", f"result of {scene_dir.name}\n")
    atomic_write_bytes(scene_dir / "out" / "name.bin", scene_dir.name.encode()[::-1])


def fail_when_bad(scene_dir: Path) -> None:
    """Fails for scenes whose name starts with 'bad', works for the others."""
    _count_call(scene_dir)
    if scene_dir.name.startswith("bad"):
        raise ValueError(f"cannot process {scene_dir.name}\nsecond line of the error")
    atomic_write_text(scene_dir / "out" / "result.txt", "ok\n")


def report_data_issue(scene_dir: Path) -> SceneResult:
    """A converter that finds a problem with the source data (like the reference's DL3DV portrait check)."""
    _count_call(scene_dir)
    return SceneResult("data_issue", "Images are in portrait, expected landscape\nmore detail")


def report_skipped(scene_dir: Path) -> SceneResult:
    _count_call(scene_dir)
    return SceneResult(StageState.SKIPPED, "no source renderings")


def return_wrong_type(scene_dir: Path) -> str:
    _count_call(scene_dir)
    return "finished"


def remove_out(scene_dir: Path) -> None:
    """Reset hook: remove what a previous attempt wrote, and leave a trace that it ran."""
    shutil.rmtree(scene_dir / "out", ignore_errors=True)
    with open(scene_dir / "resets.log", "a") as fh:
        fh.write("reset\n")


def write_frames_then_summary(scene_dir: Path) -> None:
    """Writes three frame files in ``frames/`` and then a scene-level ``summary.txt``, like a converter."""
    for i in range(3):
        atomic_write_text(scene_dir / "frames" / f"{i:04d}.txt", f"{scene_dir.name} frame {i}\n")
    atomic_write_text(scene_dir / "summary.txt", "3 frames\n")


def write_frame_then_fail(scene_dir: Path) -> None:
    """Writes one frame file, then fails."""
    atomic_write_text(scene_dir / "frames" / "0000.txt", "frame 0\n")
    raise RuntimeError("broken after the first frame")


def record_allocator_setting(scene_dir: Path) -> None:
    """Writes whether the process running the scene has set its allocator limits (`keep_freed_memory`)."""
    from wai.allocator import applied_setting

    atomic_write_text(scene_dir / "allocator.txt", str(applied_setting()))
