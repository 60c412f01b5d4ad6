"""One short 2-process CPU run under `accelerate launch --multi_gpu` (torchrun underneath; on a machine without
GPUs the processes form a gloo group; `--cpu` with several processes needs mpirun): both ranks train, agree to skip a step that is NaN on
rank 1 only (no hang), write their own RNG part of each checkpoint, and validate over both shards."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from mapa_train.config.compose import compose
    from mapa_train.train.loop import train
    from tests.mapa_train.train.standins import standin_loss, standin_parts

    def parts(cfg, rank, world):
        p = standin_parts(cfg, rank, world)
        calls = {"n": 0}
        def loss(preds, views):
            calls["n"] += 1
            out = standin_loss(preds, views)
            if rank == 1 and calls["n"] == 2:
                out["loss"] = out["loss"] * float("nan")
            return out
        p.train_loss = loss
        return p

    cfg = compose("tiny_4v", ["train_params.log_with=[]", "train_params.iters_per_epoch=4", "train_params.epochs=1",
                              f"run.output_dir={sys.argv[1]}"])
    r = train(cfg, parts)
    import os
    rank = int(os.environ.get("RANK", "0"))
    with open(f"{sys.argv[1]}/result_{rank}.json", "w") as fh:
        json.dump({"step": r.state.step, "skipped": r.state.skipped_steps, "losses": r.losses}, fh)
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_process_cpu_run(tmp_path) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--main_process_port",
        str(free_port()),
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        str(script),
        str(tmp_path / "run"),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = [json.loads(p.read_text()) for p in sorted((tmp_path / "run").glob("result_*.json"))]
    assert len(results) == 2
    assert all(r["step"] == 3 and r["skipped"] == 1 for r in results)  # both ranks skipped iteration 1
    assert results[0]["losses"] != results[1]["losses"]  # each rank trained on its own batches
    folder = tmp_path / "run" / "checkpoints" / "step_00000003"
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "rank_0.pt", "rank_1.pt", "state.pt"]
    epoch = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()][-1]
    assert epoch["event"] == "epoch" and epoch["val_loss_med"] > 0
