"""The training loop's overhead: one optimizer step of `mapa_train.train.loop` against the bare forward + loss +
backward + AdamW step of the same model on the same batch, for the tiny and mid MapAnything on CPU.

    python benchmarks/bench_train_step.py [--steps 10] [--models mapanything_tiny,mapanything_mid] [--views 4]

Builds one batch of real training views from `wai convert synthetic` scenes (the V1.1 loss needs every label),
then times, interleaved, (a) the bare step and (b) the loop's step: the per-iteration schedule, `forward_loss`
(autocast region, fp32 loss, 2/N scaling), the all-rank instability check, `accelerator.backward`, gradient
clipping and the step. Prints seconds per step of each and the ratio (target <= 1.15) and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import torch
from click.testing import CliRunner
from torch.utils.data import default_collate

from cli.wai_cli import main as wai_main
from mapa_train.config.compose import compose
from mapa_train.data.build import train_dataset
from mapa_train.losses import build_loss
from mapa_train.train.loop import _instability, forward_loss
from mapa_train.train.optim import build_optimizer, build_param_groups
from mapa_train.train.parts import build_mixture
from mapa_train.train.schedule import apply_schedule


def make_batch(root: Path, stage_overrides: list[str], sets: int, views: int) -> list[dict]:
    dst = root / "synthetic"
    CliRunner().invoke(
        wai_main,
        ["convert", "synthetic", "--dst", str(dst), "--num-scenes", "2", "--width", "224", "--height", "168"],
    )
    CliRunner().invoke(wai_main, ["covis", str(dst)])
    cfg = compose(
        "tiny_4v",
        [
            f"machine.root_data_dir={root}",
            f"dataset.num_views={views}",
            "dataset.variable_num_views=false",
            *stage_overrides,
        ],
    )
    data = train_dataset(build_mixture(cfg), root, seed=0)
    return default_collate([data[(i, 0)] for i in range(sets)])


def bench_model(name: str, root: Path, accelerator, steps: int, sets: int, num_views: int) -> str:
    """One model's line: bare and loop seconds per step, their ratio and the peak RSS."""
    from mapa_train.train.model_setup import build_run_model

    size = "[[56, 42]]" if name == "mapanything_tiny" else "[[224, 168]]"
    views = make_batch(root, [f"dataset.resolution_train={size}"], sets, num_views)
    cfg = compose("tiny_4v", [f"model={name}", "train_params.amp=0"])
    loss_fn = build_loss("overall_loss_highpm_plus_rel_pose")
    bare_model, _ = build_run_model(cfg)
    loop_model, _ = build_run_model(cfg)
    bare_opt = build_optimizer(build_param_groups(bare_model, cfg.train_params))
    loop_opt = build_optimizer(build_param_groups(loop_model, cfg.train_params))
    loop_model, loop_opt = accelerator.prepare(loop_model, loop_opt)

    def bare_step() -> None:
        out = loss_fn(bare_model(views), views)
        out.loss.backward()
        bare_opt.step()
        bare_opt.zero_grad()

    def loop_step(i: int) -> None:
        apply_schedule(loop_opt, i / 100, cfg.train_params.epochs)
        out = forward_loss(loop_model, views, loss_fn, accelerator.device, cfg.train_params)
        if _instability(accelerator, out["loss"], cfg.train_params):
            return
        accelerator.backward(out["loss"])
        accelerator.clip_grad_norm_(loop_model.parameters(), 1.0)
        loop_opt.step()
        loop_opt.zero_grad()

    bare_step(), loop_step(0)  # warm-up
    bare_t = loop_t = 0.0
    for i in range(steps):  # interleaved, so machine noise hits both alike
        start = time.perf_counter()
        bare_step()
        bare_t += time.perf_counter() - start
        start = time.perf_counter()
        loop_step(i + 1)
        loop_t += time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"{name}: bare {bare_t / steps:.3f} s/step, loop {loop_t / steps:.3f} s/step, "
        f"ratio {loop_t / bare_t:.3f} (target <= 1.15), peak RSS {peak:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--models", default="mapanything_tiny,mapanything_mid")
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--sets", type=int, default=2)
    args = parser.parse_args()
    from accelerate import Accelerator

    torch.manual_seed(0)
    accelerator = Accelerator(cpu=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            print(bench_model(name, Path(tmp) / name, accelerator, args.steps, args.sets, args.views))


if __name__ == "__main__":
    main()
