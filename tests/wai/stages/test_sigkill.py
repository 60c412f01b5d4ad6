"""A run killed with SIGKILL in the middle of a scene, then rerun, leaves exactly what a clean run leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.wai.stages.test_parallel import tree_snapshot
from wai.atomic import TMP_MARKER
from wai.stages import PROCESS_LOG, ProcessLog

REPO = Path(__file__).resolve().parents[3]
N_PARTS = 20
STALL_AT = 6

SCRIPT = f'''
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, {str(REPO)!r})
from wai.atomic import atomic_path, atomic_write_text
from wai.stages import Stage, run_stage

DELAY = float(sys.argv[2])


def write_parts(scene_dir: Path) -> None:
    """Writes {N_PARTS} files slowly, then a summary. With a delay, scene s1 stalls half-way through writing
    part {STALL_AT} (its temporary exists, the final file does not) until the test kills the process."""
    for i in range({N_PARTS}):
        with atomic_path(scene_dir / "parts" / f"{{i:02d}}.txt") as tmp:
            tmp.write_text(f"{{scene_dir.name}} part {{i}}\\n")
            time.sleep(DELAY)
            if DELAY and scene_dir.name == "s1" and i == {STALL_AT}:
                time.sleep(600)
    atomic_write_text(scene_dir / "summary.txt", f"{{scene_dir.name}}: {N_PARTS} parts\\n")


def reset(scene_dir: Path) -> None:
    shutil.rmtree(scene_dir / "parts", ignore_errors=True)
    (scene_dir / "summary.txt").unlink(missing_ok=True)


if __name__ == "__main__":
    report = run_stage(Stage("slow", write_parts, reset=reset), Path(sys.argv[1]), scenes=["s0", "s1", "s2"],
                       progress=False)
    sys.exit(0 if report.ok else 1)
'''


def _run(script: Path, root: Path, delay: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(script), str(root), str(delay)], cwd=script.parent)


def _wait_until(condition: Callable[[], bool], proc: subprocess.Popen[bytes], limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert proc.poll() is None, "the stage process ended before it could be killed"
        assert time.monotonic() < deadline, "the stage process made no progress"
        time.sleep(0.01)


def test_sigkill_mid_scene_then_rerun_equals_clean_run(tmp_path: Path) -> None:
    script = tmp_path / "slow_stage.py"
    script.write_text(SCRIPT)
    killed_root, clean_root = tmp_path / "killed", tmp_path / "clean"

    proc = _run(script, killed_root, delay=0.05)
    try:

        def first_done_second_half_way() -> bool:
            parts = killed_root / "s1" / "parts"
            stalled = f"-{STALL_AT:02d}.txt"
            return parts.is_dir() and any(TMP_MARKER in n and n.endswith(stalled) for n in os.listdir(parts))

        _wait_until(first_done_second_half_way, proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the kill left s1 half done and marked running
    assert ProcessLog(killed_root / "s0").state("slow") == "finished"
    assert ProcessLog(killed_root / "s1").state("slow") == "running"
    assert not (killed_root / "s1" / "summary.txt").exists()
    left = sorted(p.name for p in (killed_root / "s1" / "parts").iterdir())
    temporaries = [n for n in left if TMP_MARKER in n]
    assert [n for n in left if n not in temporaries] == [f"{i:02d}.txt" for i in range(STALL_AT)]
    assert len(temporaries) == 1 and temporaries[0].endswith(f"-{STALL_AT:02d}.txt")
    assert not (killed_root / "s2").exists()

    rerun = _run(script, killed_root, delay=0.0)
    clean = _run(script, clean_root, delay=0.0)
    assert rerun.wait(timeout=120) == 0 and clean.wait(timeout=120) == 0

    assert tree_snapshot(killed_root) == tree_snapshot(clean_root)
    assert not [p for p in killed_root.rglob("*") if TMP_MARKER in p.name]
    for name in ("s0", "s1", "s2"):
        data = json.loads((killed_root / name / PROCESS_LOG).read_text())
        assert data["slow"]["state"] == "finished"
        assert data["slow"]["script_path"] == str(script.resolve())
    assert len(list((killed_root / "s1" / "parts").iterdir())) == N_PARTS
