"""`wai convert` killed with SIGKILL mid-scene, then rerun, gives the same dataset as a clean run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ARGS = ["--num-scenes", "2", "--min-frames", "24", "--max-frames", "24", "--width", "96", "--height", "72"]


def run_convert(dst: Path) -> subprocess.Popen:
    code = "from cli.wai_cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "convert", "synthetic", "--dst", str(dst), *ARGS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes, with the time stamps that legitimately differ between runs taken out."""
    files = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("_process_log_backup") or path.name == "_scene.lock":
            continue
        data = path.read_bytes()
        if path.suffix == ".json":
            obj = json.loads(data)
            obj.pop("last_modified", None)
            for entry in obj.values() if path.name.startswith("_process_log") else []:
                entry.pop("date", None)
                entry.pop("script_path", None)
            data = json.dumps(obj, sort_keys=True).encode()
        files[path.relative_to(root).as_posix()] = data
    return files


def test_sigkill_mid_scene_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    assert run_convert(clean).wait(timeout=300) == 0

    proc = run_convert(killed)
    second = killed / "room_000"  # scenes run in sorted order: objects_001, then room_000
    deadline = time.monotonic() + 300
    while not (second / "images" / "000004.png").exists():
        assert proc.poll() is None, "convert finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (second / "scene_meta.json").exists(), "killed too late: the scene had finished"
    assert json.loads((second / "_process_log.json").read_text())["conversion"]["state"] == "running"

    assert run_convert(killed).wait(timeout=300) == 0
    assert snapshot(killed) == snapshot(clean)
    assert not list(killed.rglob(".wai-tmp-*"))
