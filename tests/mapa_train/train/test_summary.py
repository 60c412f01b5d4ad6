"""The start-up arithmetic: effective batch = GPUs x ipg / N, and the proportional LR rule."""

from __future__ import annotations

import pytest

from mapa_train.config.compose import compose
from mapa_train.train.summary import effective_batch, scaled_lr, sets_per_gpu, start_summary


def test_effective_batch_matches_the_reference_numbers() -> None:
    assert [sets_per_gpu(36, n) for n in (2, 3, 4)] == [18, 12, 9]
    assert effective_batch(64, 36, 2) == 1152 and effective_batch(64, 36, 4) == 576  # spec 6.2
    assert effective_batch(64, 36, 24) == 64
    assert effective_batch(8, 48, 4, accum_iter=2) == 192
    assert sets_per_gpu(8, 24) == 1


def test_lr_rule_and_summary_lines() -> None:
    assert scaled_lr(2e-4, 8, 36, 64, 36) == pytest.approx(2.5e-5)
    cfg = compose("4v", ["train_params.max_num_of_imgs_per_gpu=18"])
    lines = start_summary(cfg, 8, 100, (2, 3, 4), {}, [])
    text = "\n".join(lines)
    assert (
        "effective batch = GPUs x ipg / N x accum_iter (8 x 18 / N x 1): N=2: 72, N=4: 32 sets per step"
        in text
    )
    assert "tuned for 64 GPUs x ipg 36; at 8 x 18 the proportional lr would be 1.25e-05" in text


def test_submit_rendezvous_and_resources() -> None:
    from mapa_train.train.submit import SubmitOptions, rendezvous_environment

    env = rendezvous_environment(9, 1, 16, 8, ["node-a", "node-b"], 29500)
    assert env == {
        "RANK": "9",
        "LOCAL_RANK": "1",
        "WORLD_SIZE": "16",
        "LOCAL_WORLD_SIZE": "8",
        "MASTER_ADDR": "node-a",
        "MASTER_PORT": "29500",
    }
    params = SubmitOptions(nodes=8, gpus_per_node=8, partition="gpu").executor_parameters("4v", "slurm")
    assert params["nodes"] == 8 and params["tasks_per_node"] == 8 and params["gpus_per_node"] == 8
    assert params["slurm_partition"] == "gpu" and params["name"] == "mapa-4v"
