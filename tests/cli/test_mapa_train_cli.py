"""The `mapa-train` command: `models` lists every registered variant with its meta-device parameter count, every
expected error is one line with a non-zero status, and without torch the command says how to install it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.mapa_train_cli import main
from mapa_train.errors import MapaError
from mapa_train.models.registry import MODELS

REPO = Path(__file__).resolve().parents[2]


def test_models_json_lists_every_variant() -> None:
    result = CliRunner().invoke(main, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert set(rows) == set(MODELS)
    assert rows["mapanything_v1.1"]["params"] == 1_228_491_222
    assert rows["mapanything_v1"]["params"] == 563_335_382


def test_models_table_text() -> None:
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert "1,228,491,222" in result.output and "mapanything_tiny" in result.output


BLOCK_TORCH = '''
import sys


class _NoTorch:
    """Behave as if torch were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NoTorch())
'''


@pytest.mark.parametrize("args", [["models"], ["predict-moge2", ".", "--weights", "w.pt"]])
def test_without_torch_a_command_says_to_install_the_train_extra(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK_TORCH)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    code = "import sys; from cli.mapa_train_cli import main; sys.argv[0] = 'mapa-train'; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert lines == [
        "Error: mapa-train needs the 'train' extra (torch is not installed): pip install 'wai-toolkit[train]'"
    ], out.stderr


def test_the_blocker_really_hides_torch(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK_TORCH)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True, env=env)
    assert out.returncode != 0 and "No module named 'torch'" in out.stderr


def test_an_expected_library_error_is_one_line(tmp_path: Path) -> None:
    """A bad model name (a `MapaError`) ends the command with one `Error:` line and no traceback."""
    (tmp_path / "scene_root").mkdir()
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(
        main,
        ["predict-moge2", str(tmp_path / "scene_root"), "--weights", str(weights), "--model", "pi3_tiny"],
    )
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        "Error: model 'pi3_tiny' is not a MoGe-2 variant; expected one of "
        "['moge2_tiny', 'moge2_vitl', 'moge2_vitl_normal']"
    ]
    assert not isinstance(result.exception, MapaError) and result.exc_info[0] is SystemExit
