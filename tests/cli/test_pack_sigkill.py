"""`wai pack` killed with SIGKILL mid-store: the store is refused, and a rerun packs it completely.

No race: the killed run goes through a wrapper that stalls `wai pack` for good after the depth of one scene was
written and before its masks, and only then tells the test, which kills it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wai
from tests.wai.pack.fixtures import assert_same_scene, convert_synthetic
from wai.pack import run_pack

REPO = Path(__file__).resolve().parents[2]

WRAPPER = f"""
import sys
import time
from pathlib import Path

sys.path.insert(0, {str(REPO)!r})
from wai.pack.writer import _SceneWriter

MARKER = Path(sys.argv[1])
original = _SceneWriter.frame_modality


def stalling(self, name):
    if name == "mask" and self.scene.name == "room_000":
        MARKER.write_text("stalled")
        time.sleep(600)
    return original(self, name)


_SceneWriter.frame_modality = stalling
from cli.wai_cli import main

main(sys.argv[2:])
"""


def test_sigkill_mid_store_then_rerun(tmp_path: Path) -> None:
    root = convert_synthetic(tmp_path / "synthetic")
    out = tmp_path / "stores"
    wrapper, marker = tmp_path / "wrapper.py", tmp_path / "stalled"
    wrapper.write_text(WRAPPER)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(wrapper), str(marker), "pack", str(root), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "wai pack ended before it stalled"
            assert time.monotonic() < deadline, "wai pack never reached the stall point"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (out / "room_000.zarr" / "frames" / "depth").is_dir()
    with pytest.raises(wai.WaiFormatError, match="incomplete packed store"):
        wai.open_scene(out / "room_000.zarr")
    report = run_pack(root, out, progress=False)
    assert [o.scene for o in report.done] == ["room_000.zarr"], report.summary()
    assert [o.scene for o in report.skipped] == ["objects_001.zarr"]
    for name in ("objects_001", "room_000"):
        assert_same_scene(wai.open_scene(root / name), wai.open_scene(out / f"{name}.zarr"))
