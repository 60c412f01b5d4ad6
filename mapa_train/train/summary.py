"""The start-up summary: effective batch, the LR-scaling rule, views per GPU, param groups.

Effective batch (multi-view sets per optimizer step) at N views = GPUs x ipg // N (x accum_iter): every rank
draws its own N per batch, and a batch holds max(1, ipg // N) sets, so the images per GPU stay at about ipg.
The reference's rule for changing it (train.md): scale the learning rate in proportion to the effective batch.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig


def sets_per_gpu(ipg: int, num_views: int) -> int:
    """Sets in one batch at N views: max(1, ipg // N)."""
    return max(1, ipg // num_views)


def effective_batch(world: int, ipg: int, num_views: int, accum_iter: int = 1) -> int:
    """Multi-view sets per optimizer step if every rank drew N views: GPUs x max(1, ipg // N) x accum_iter."""
    return world * sets_per_gpu(ipg, num_views) * accum_iter


def scaled_lr(lr: float, world: int, ipg: int, reference_gpus: int, reference_ipg: int) -> float:
    """The LR that keeps lr / effective batch at the preset's value when GPUs or ipg change (linear rule)."""
    return lr * (world * ipg) / (reference_gpus * reference_ipg)


def start_summary(
    cfg: DictConfig,
    world: int,
    iters: int,
    view_counts: tuple[int, ...],
    groups: dict[str, Any],
    notes: list[str],
) -> list[str]:
    """Lines printed at the start of a run."""
    tp = cfg.train_params
    ipg, accum = int(tp.max_num_of_imgs_per_gpu), int(tp.accum_iter)
    lo, hi = min(view_counts), max(view_counts)
    per_n = ", ".join(f"N={n}: {effective_batch(world, ipg, n, accum)}" for n in sorted({lo, hi}))
    ref_gpus = int(cfg.run.reference_gpus)
    ref_ipg = int(cfg.run.get("reference_ipg", ipg))
    lines = [
        f"stage {cfg.run.stage} -> {cfg.run.output_dir}",
        f"processes (GPUs) {world}, images per GPU (ipg) {ipg}, views per set {lo}..{hi}, "
        f"sets per GPU per batch {sets_per_gpu(ipg, hi)}..{sets_per_gpu(ipg, lo)}",
        f"effective batch = GPUs x ipg / N x accum_iter ({world} x {ipg} / N x {accum}): {per_n} sets per step",
        f"iterations per epoch per rank {iters}, epochs {tp.epochs}, warmup {tp.warmup_epochs} epochs",
        f"LR scaling rule: scale lr in proportion to the effective batch. The preset is tuned for {ref_gpus} GPUs "
        f"x ipg {ref_ipg}; at {world} x {ipg} the proportional lr would be "
        f"{scaled_lr(float(tp.lr), world, ipg, ref_gpus, ref_ipg):.3g} (this run uses {float(tp.lr):.3g})",
    ]
    for name, g in groups.items():
        lines.append(
            f"param group {name}: {g['tensors']} tensors, {g['values']:,} values, lr {g['lr']:.3g}, "
            f"weight decay {g['weight_decay']}"
        )
    lines.extend(notes)
    return lines
