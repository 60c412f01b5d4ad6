"""The data side must work without torch: importing it may not pull torch in (DESIGN.md, dependency rule)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "wai",
        "wai.stages",
        "wai.validate",
        "wai.synthetic",
        "wai_converters.synthetic",
        "metadata",
        "cli.wai_cli",
    ],
)
def test_data_side_imports_no_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", f"importing {module} imported torch"


def test_installed_entry_points_run() -> None:
    for command in (["wai", "--help"], ["mapa-train", "--help"]):
        out = subprocess.run(command, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "Usage:" in out.stdout
