"""`wai convert` killed with SIGKILL mid-scene, then rerun, gives the same dataset as a clean run.

No race: the killed run goes through a wrapper that stalls `wai convert` for good half-way through writing one image
(its temporary file exists, the final file does not) and only then tells the test, which kills it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from wai.atomic import TMP_MARKER

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--num-scenes", "2", "--min-frames", "6", "--max-frames", "6", "--width", "48", "--height", "36"]
STALL_SCENE, STALL_FRAME = "room_000", 4  # scenes run in sorted order: objects_001, then room_000

WRAPPER = f'''
import sys
import time
from pathlib import Path

sys.path.insert(0, {str(REPO)!r})
import wai.io.raster as raster
from wai.atomic import atomic_path

MARKER = Path(sys.argv[1])
original = raster.atomic_write_bytes


def stalling_write(target, data, fsync=True):
    target = Path(target)
    if target.parent.parent.name == {STALL_SCENE!r} and target.name == "{STALL_FRAME:06d}.png":
        with atomic_path(target) as tmp:
            tmp.write_bytes(data[: len(data) // 2])
            MARKER.write_text("stalled")
            time.sleep(600)
    return original(target, data, fsync)


raster.atomic_write_bytes = stalling_write
from cli.wai_cli import main

main(sys.argv[2:])
'''


def run_convert(dst: Path, wrapper: Path | None = None, marker: Path | None = None) -> subprocess.Popen:
    if wrapper is None:
        command = [sys.executable, "-c", "from cli.wai_cli import main; main()"]
    else:
        command = [sys.executable, str(wrapper), str(marker)]
    return subprocess.Popen(
        [*command, "convert", "synthetic", "--dst", str(dst), *ARGS],
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
    wrapper, marker = tmp_path / "stalling_convert.py", tmp_path / "stalled"
    wrapper.write_text(WRAPPER)
    assert run_convert(clean).wait(timeout=300) == 0

    proc = run_convert(killed, wrapper, marker)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, "the stalling convert ended before it stalled"
            assert time.monotonic() < deadline, "the stalling convert made no progress"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    second = killed / STALL_SCENE
    assert not (second / "scene_meta.json").exists()
    assert json.loads((second / "_process_log.json").read_text())["conversion"]["state"] == "running"
    images = sorted(p.name for p in (second / "images").iterdir())
    temporaries = [n for n in images if TMP_MARKER in n]
    assert [n for n in images if n not in temporaries] == [f"{i:06d}.png" for i in range(STALL_FRAME)]
    assert len(temporaries) == 1
    assert json.loads((killed / "objects_001" / "_process_log.json").read_text())["conversion"]["state"] == (
        "finished"
    )

    assert run_convert(killed).wait(timeout=300) == 0
    assert snapshot(killed) == snapshot(clean)
    assert not list(killed.rglob(f"*{TMP_MARKER}*"))
