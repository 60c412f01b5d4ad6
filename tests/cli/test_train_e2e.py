"""`mapa-train --stage tiny_4v` end to end on `wai convert synthetic` data with the real data pipeline and loss:
the loss falls, a SIGKILL mid-epoch and a rerun give the uninterrupted run's loss curve exactly, and stage
tiny_24v starts from tiny_4v's checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.wai_cli import main as wai_main

pytest.importorskip("mapa_train.data.torch_dataset", reason="the data side's DataLoader glue has not landed")
REPO = Path(__file__).resolve().parents[2]
FAST = [
    "train_params.log_with=[]",
    "train_params.iters_per_epoch=8",
    "train_params.epochs=1",
    "train_params.checkpoint_every_steps=3",
    "train_params.print_freq=1",
]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("data")
    dst = root / "synthetic"
    args = [
        "convert",
        "synthetic",
        "--dst",
        str(dst),
        "--num-scenes",
        "2",
        "--min-frames",
        "6",
        "--max-frames",
        "8",
        "--width",
        "112",
        "--height",
        "84",
    ]
    assert CliRunner().invoke(wai_main, args).exit_code == 0
    assert CliRunner().invoke(wai_main, ["covis", str(dst)]).exit_code == 0
    return root


def command(stage: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cli.mapa_train_cli", "--stage", stage, *FAST, *extra]


def environment(data_root: Path, experiments: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OMP_NUM_THREADS": "1",
        "MAPA_DATA_ROOT": str(data_root),
        "MAPA_EXPERIMENTS_DIR": str(experiments),
    }


def step_losses(stage_dir: Path) -> dict[int, float]:
    rows = [json.loads(x) for x in (stage_dir / "log.jsonl").read_text().splitlines()]
    return {r["step"]: r["train_loss"] for r in rows if r["event"] == "step"}


def test_train_kill_resume_and_next_stage(data_root: Path, tmp_path: Path) -> None:
    whole_env = environment(data_root, tmp_path / "whole")
    done = subprocess.run(
        command("tiny_4v"), env=whole_env, capture_output=True, text=True, timeout=600, cwd=REPO
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "effective batch = GPUs x ipg / N" in done.stdout and "LR scaling rule" in done.stdout
    whole = step_losses(tmp_path / "whole" / "tiny" / "tiny_4v")
    assert sorted(whole) == list(range(1, 9))
    assert whole[8] < whole[1]  # the loss falls

    env = environment(data_root, tmp_path / "cut")
    stage_dir = tmp_path / "cut" / "tiny" / "tiny_4v"
    proc = subprocess.Popen(
        command("tiny_4v"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO
    )
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (stage_dir / "log.jsonl").exists() and max(step_losses(stage_dir), default=0) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = max(step_losses(stage_dir))
    assert 4 <= killed_at < 8, killed_at  # killed mid-epoch, after the step-3 checkpoint
    rerun = subprocess.run(command("tiny_4v"), env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    assert "resumed from" in rerun.stdout
    assert step_losses(stage_dir) == whole  # steps redone after the checkpoint log the same values

    nxt = subprocess.run(command("tiny_24v"), env=env, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert nxt.returncode == 0, nxt.stdout[-2000:] + nxt.stderr[-2000:]
    assert f"initialised from stage tiny_4v: {stage_dir / 'checkpoints'}" in nxt.stdout
    assert (tmp_path / "cut" / "tiny" / "tiny_24v" / "checkpoints" / "final" / "model.pt").is_file()
    from cli.mapa_train_cli import main

    plotted = CliRunner().invoke(main, ["plot-loss", str(stage_dir)])
    assert plotted.exit_code == 0 and (stage_dir / "loss.png").stat().st_size > 1000


def test_submit_local_runs_two_ranks(data_root: Path, tmp_path: Path) -> None:
    import socket

    from cli.mapa_train_cli import main

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "run"
    args = [
        "submit",
        "--stage",
        "tiny_4v",
        "--local",
        "--gpus-per-node",
        "0",
        "--cpu-tasks-per-node",
        "2",
        "--cpus-per-task",
        "1",
        "--port",
        str(port),
        "--folder",
        str(tmp_path / "logs"),
        f"machine.root_data_dir={data_root}",
        f"run.output_dir={out}",
        "train_params.epochs=1",
        "train_params.iters_per_epoch=2",
        "train_params.log_with=[]",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    ranks = json.loads(result.output.splitlines()[-1])
    assert sorted(r["rank"] for r in ranks) == [0, 1] and all(r["step"] == 2 for r in ranks)
    assert (out / "checkpoints" / "step_00000002" / "rank_1.pt").is_file()


@pytest.mark.parametrize(
    ("stage", "model", "extra"),
    [
        ("vggt_finetune", "vggt_tiny", []),
        ("pi3_finetune", "pi3_tiny", []),
        ("moge2_finetune", "moge2_tiny", ["dataset.num_views=1", "train_params.max_num_of_imgs_per_gpu=4"]),
    ],
)
def test_fine_tuning_presets_train_with_tiny_models(
    data_root: Path, tmp_path: Path, stage, model, extra
) -> None:
    """The fine-tuning recipes (their loss, LR groups and principal-point-centred data) on the tiny variants."""
    import math

    from mapa_train.config.compose import compose
    from mapa_train.train.loop import train

    cfg = compose(
        stage,
        [
            f"model={model}",
            "model.official_weights=false",
            "dataset=synthetic",
            "dataset.principal_point_centered=true",
            f"machine.root_data_dir={data_root}",
            f"run.output_dir={tmp_path / stage}",
            "train_params.iters_per_epoch=2",
            "train_params.epochs=1",
            "train_params.log_with=[]",
            *extra,
        ],
    )
    result = train(cfg)
    assert result.state.step == 2 and all(math.isfinite(x) for x in result.losses)
