"""The training loop, on Accelerate. It reads top to bottom: build, prepare, resume, loop, save, end.

One optimizer step (training spec 4.5, with the reference's weak points fixed, spec 9.2):

    lr from the per-iteration schedule -> forward under bf16 autocast -> loss in fp32 -> loss *= 2/N if N > 2
    -> instability check agreed by every rank (skip-and-count or stop, never one rank alone)
    -> backward of loss / accum_iter -> every accum_iter micro-batches: clip, step, zero_grad

Checkpoints hold everything an exact resume needs (model, optimizer, step, epoch, position in the epoch, sampler
state, every rank's RNG), so a killed run continues the uninterrupted run's loss curve. Validation losses are
gathered from every rank before the mean and the median are taken, so `best` is best over all the data.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from mapa_train.config.compose import to_yaml
from mapa_train.errors import MapaConfigError, MapaTrainingError
from mapa_train.train import checkpoint as ckpt
from mapa_train.train.logs import RunLog, RunningMeans, check_trackers, flat_config, tracker_init_kwargs
from mapa_train.train.memory import GIB, estimate_memory, oom_message
from mapa_train.train.optim import build_optimizer, build_param_groups, describe_groups
from mapa_train.train.schedule import apply_schedule, check_schedule
from mapa_train.train.summary import start_summary

#: Keys of a view that stay on the host (the reference's ignore list).
HOST_KEYS = frozenset(
    {"depthmap", "dataset", "label", "instance", "idx", "true_shape", "rng", "data_norm_type"}
)
#: (predictions, views) -> {"loss": total, <term>: value} or a `mapa_train.losses.LossOutput`.
LossFn = Callable[[list[dict[str, Any]], list[dict[str, Any]]], Any]


@dataclass
class RunParts:
    """What the loop trains: built by `mapa_train.train.parts.build_parts` (or by a test).

    train_loader: yields batches (a list of N view dicts with a leading batch dimension); its `batch_sampler`
        has `set_epoch`, `state_dict(position)`, `load_state_dict` and `len()` (batches per rank per epoch).
    val_loaders: name -> loader of fixed validation batches.
    train_loss / val_loss: (predictions, views) -> {"loss": total, <term>: value, ...}.
    view_counts: the view counts the sampler draws (for the start-up summary).
    """

    model: nn.Module
    train_loader: Any
    val_loaders: dict[str, Any]
    train_loss: LossFn
    val_loss: LossFn
    view_counts: tuple[int, ...]
    notes: list[str] = field(default_factory=list)


@dataclass
class TrainResult:
    output_dir: Path
    state: ckpt.TrainState
    losses: list[float]
    """Training loss of every optimizer step this process ran (after 2/N, before accumulation)."""
    final: Path | None


PartsBuilder = Callable[[DictConfig, int, int], RunParts]


def to_device(views: list[dict[str, Any]], device: torch.device) -> list[dict[str, Any]]:
    return [
        {
            k: (v.to(device, non_blocking=True) if torch.is_tensor(v) and k not in HOST_KEYS else v)
            for k, v in view.items()
        }
        for view in views
    ]


def as_float(value: Any) -> float:
    return float(value.detach().float().item()) if torch.is_tensor(value) else float(value)


def _autocast(device: torch.device, train_params: DictConfig) -> contextlib.AbstractContextManager:
    if not train_params.amp:
        return contextlib.nullcontext()
    if train_params.amp_dtype != "bf16":
        raise MapaConfigError(
            f"train_params.amp_dtype {train_params.amp_dtype!r}: only bf16 is supported (or amp=0)"
        )
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _fp32(preds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (v.float() if torch.is_tensor(v) and v.is_floating_point() else v) for k, v in p.items()}
        for p in preds
    ]


def forward_loss(
    model: nn.Module, views: list[dict[str, Any]], loss_fn: LossFn, device, train_params
) -> dict[str, Any]:
    """Forward in bf16 (if amp), the loss in fp32 outside autocast, scaled by 2/N for N > 2 views.

    Returns {"loss": total, <term>: value, ...}; terms the batch has no labels for are listed under "_skipped"."""
    with _autocast(device, train_params):
        preds = model(views)
    result = loss_fn(_fp32(preds), views)
    out = dict(result.as_dict()) if hasattr(result, "as_dict") else dict(result)
    skipped = getattr(result, "skipped", None)
    n = len(views)
    if n > 2:
        out["loss"] = out["loss"] * (2.0 / n)
    if skipped:
        out["_skipped"] = sorted(skipped)
    return out


def loss_values(out: dict[str, Any]) -> dict[str, float]:
    """Plain floats of a `forward_loss` result (the skipped list left out)."""
    return {k: as_float(v) for k, v in out.items() if not k.startswith("_")}


def _set_epoch(loader: Any, epoch: int) -> None:
    for part in (getattr(loader, "dataset", None), getattr(loader, "batch_sampler", None)):
        if part is not None and hasattr(part, "set_epoch"):
            part.set_epoch(epoch)


def validate(accelerator, model, loaders: dict[str, Any], loss_fn: LossFn, train_params) -> dict[str, float]:
    """Every rank evaluates its shard; the per-batch losses of all ranks are gathered, then averaged and medianed."""
    from accelerate.utils import gather_object

    model.eval()
    results: dict[str, float] = {}
    medians = []
    with torch.no_grad():
        for name, loader in loaders.items():
            _set_epoch(loader, 0)
            rows = []
            for views in loader:
                out = forward_loss(
                    model, to_device(views, accelerator.device), loss_fn, accelerator.device, train_params
                )
                rows.append(loss_values(out))
            rows = gather_object(rows) if accelerator.num_processes > 1 else rows
            for key in sorted({k for r in rows for k in r}):
                values = [r[key] for r in rows if key in r and math.isfinite(r[key])]
                if values:
                    results[f"{name}_{key}_avg"] = sum(values) / len(values)
                    results[f"{name}_{key}_med"] = statistics.median(values)
            if f"{name}_loss_med" in results:
                medians.append(results[f"{name}_loss_med"])
    model.train()
    if medians:
        results["val_loss_med"] = sum(medians) / len(medians)
    return results


def dump_batch(
    output_dir: Path, rank: int, views: list[dict[str, Any]], out: dict[str, Any], state, i: int
) -> Path:
    """Save this rank's batch (tensors on the CPU) and loss terms before an unstable run stops, for inspection."""
    folder = output_dir / "unstable"
    folder.mkdir(parents=True, exist_ok=True)
    cpu_views = [
        {k: (v.detach().cpu() if torch.is_tensor(v) else v) for k, v in view.items()} for view in views
    ]
    path = folder / f"rank_{rank}.pt"
    values = {k: as_float(v) for k, v in out.items() if not k.startswith("_")}
    torch.save(
        {"views": cpu_views, "loss": values, "step": state.step, "epoch": state.epoch, "iteration": i}, path
    )
    return path


def _instability(accelerator, loss: torch.Tensor, train_params) -> bool:
    """True on every rank when any rank's loss is non-finite or above max_loss_value (one all-reduce)."""
    value = loss.detach().float()
    bad = not torch.isfinite(value).item() or (
        bool(train_params.check_loss_instability) and value.item() > float(train_params.max_loss_value)
    )
    flag = torch.tensor([1.0 if bad else 0.0], device=accelerator.device)
    if accelerator.num_processes > 1:
        flag = accelerator.reduce(flag, reduction="sum")
    return bool(flag.item() > 0)


def train(
    cfg: DictConfig, build_parts: PartsBuilder | None = None, stop_after_steps: int | None = None
) -> TrainResult:
    """Run (or resume) the stage described by `cfg`. `stop_after_steps` ends early after that many optimizer
    steps of this process (without a final checkpoint), for tests and smoke runs."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, set_seed

    if build_parts is None:
        from mapa_train.train.parts import build_parts
    tp = cfg.train_params
    check_schedule(tp.schedule_type)
    output_dir = Path(cfg.run.output_dir).absolute()
    trackers = check_trackers(tp.log_with or [])

    # -- build ----------------------------------------------------------------------------------------------------
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(),  # CPU processes under torchrun form a gloo group only with cpu=True
        log_with=trackers or None,
        project_dir=str(output_dir),
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )
    rank, world = accelerator.process_index, accelerator.num_processes
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "config.yaml").write_text(to_yaml(cfg))
    accelerator.wait_for_everyone()
    run_log = RunLog(output_dir, accelerator.is_main_process)
    set_seed(int(tp.seed) + rank)  # torch, numpy and random, one stream per rank (spec 4.3 step 2)
    torch.backends.cudnn.benchmark = not tp.disable_cudnn_benchmark
    parts = build_parts(cfg, rank, world)
    model = parts.model
    param_groups = build_param_groups(model, tp)  # freezes lr-0 submodules before wrapping
    optimizer = build_optimizer(param_groups)
    sampler = parts.train_loader.batch_sampler
    iters = len(sampler) if not tp.iters_per_epoch else min(len(sampler), int(tp.iters_per_epoch))
    if iters < 1:
        raise MapaConfigError(
            f"{output_dir}: the training sampler yields no batch per rank (dataset too small?)"
        )
    accum = int(tp.accum_iter)
    epochs = int(tp.epochs)

    # -- prepare --------------------------------------------------------------------------------------------------
    model, optimizer = accelerator.prepare(model, optimizer)
    bare = accelerator.unwrap_model(model)
    config_yaml = to_yaml(cfg)

    # -- resume ---------------------------------------------------------------------------------------------------
    state = ckpt.TrainState()
    last = ckpt.latest_checkpoint(output_dir) if tp.resume else None
    if last is not None:
        state, sampler_state = ckpt.load_step_checkpoint(
            last, model=bare, optimizer=optimizer, rank=rank, world_size=world
        )
        sampler.load_state_dict(sampler_state)
        run_log.echo(
            f"resumed from {last}: step {state.step}, epoch {state.epoch}, iteration {state.position}"
        )
    for line in start_summary(
        cfg, world, iters, parts.view_counts, describe_groups(param_groups), parts.notes
    ):
        run_log.echo(line)
    estimate = estimate_memory(bare, cfg, world, parts.view_counts)
    run_log.echo(estimate.line())
    if trackers:
        accelerator.init_trackers(
            cfg.run.stage,
            config=flat_config(OmegaConf.to_container(cfg)),
            init_kwargs=tracker_init_kwargs(trackers, output_dir),
        )

    def save(keep: bool) -> None:
        ckpt.save_step_checkpoint(
            output_dir,
            model=bare,
            optimizer=optimizer,
            state=state,
            sampler_state=sampler.state_dict(position=state.position),
            config_yaml=config_yaml,
            rank=rank,
            world_size=world,
            barrier=accelerator.wait_for_everyone,
            keep=keep,
        )

    # -- loop -----------------------------------------------------------------------------------------------------
    losses: list[float] = []
    model.train()
    while state.epoch < epochs:
        epoch = state.epoch
        skipped_terms: dict[str, int] = {}
        means = RunningMeans.from_state(state.epoch_means) if state.position else RunningMeans()
        _set_epoch(parts.train_loader, epoch)
        sampler.set_epoch(epoch)
        optimizer.zero_grad()
        # A DataLoader draws its worker base seed from the global torch RNG when iterated; keep that draw out of
        # the RNG stream the model uses, so a run resumed mid-epoch sees the same stream as the uninterrupted one.
        rng = torch.get_rng_state()
        batches: Iterable = iter(parts.train_loader)
        torch.set_rng_state(rng)
        for i, views in enumerate(batches, start=state.position):
            if i >= iters:
                break
            if i % accum == 0:
                lrs = apply_schedule(optimizer, epoch + i / iters, epochs)
            stepping = (i + 1) % accum == 0 or i + 1 == iters
            try:
                out = forward_loss(
                    model, to_device(views, accelerator.device), parts.train_loss, accelerator.device, tp
                )
                loss = out["loss"]
                if _instability(accelerator, loss, tp):
                    state.skipped_steps += 1
                    run_log.echo(
                        f"epoch {epoch} it {i}: loss {as_float(loss):.4g} is non-finite or above "
                        f"{tp.max_loss_value} on some rank (skipped so far: {state.skipped_steps})"
                    )
                    run_log.record(
                        event="unstable_loss",
                        step=state.step,
                        epoch=epoch,
                        iteration=i,
                        loss=as_float(loss),
                        skipped_steps=state.skipped_steps,
                    )
                    if tp.instability_policy == "stop" or state.skipped_steps > int(tp.max_skipped_steps):
                        dump_batch(output_dir, rank, views, out, state, i)
                        raise MapaTrainingError(
                            f"{output_dir}: stopping at step {state.step} (epoch {epoch}, iteration {i}): unstable "
                            f"loss with instability_policy={tp.instability_policy}, {state.skipped_steps} skipped; "
                            f"each rank's batch is in {output_dir / 'unstable'}"
                        )
                    optimizer.zero_grad()
                    state.position = i + 1
                    continue
                sync = contextlib.nullcontext() if stepping else accelerator.no_sync(model)
                with sync:
                    accelerator.backward(loss / accum)
            except torch.OutOfMemoryError as exc:  # on whichever rank it happens
                raise MapaTrainingError(
                    f"{output_dir}: epoch {epoch} iteration {i}, rank {rank}: {oom_message(cfg, views, estimate)}"
                ) from exc
            values = loss_values(out)
            for name in out.get("_skipped", ()):
                skipped_terms[name] = skipped_terms.get(name, 0) + 1
            means.update(values)
            state.position = i + 1
            if not stepping:
                continue
            grad_norm = None
            try:
                if float(tp.clip_grad) > 0:
                    grad_norm = as_float(accelerator.clip_grad_norm_(model.parameters(), float(tp.clip_grad)))
                optimizer.step()  # the first step allocates AdamW's moments
            except torch.OutOfMemoryError as exc:
                raise MapaTrainingError(
                    f"{output_dir}: optimizer step {state.step + 1}, rank {rank}: {oom_message(cfg, views, estimate)}"
                ) from exc
            optimizer.zero_grad()
            if (
                not losses and torch.cuda.is_available()
            ):  # the first step of this process: measured vs estimated
                run_log.echo(
                    f"measured peak memory after the first step: {torch.cuda.max_memory_allocated() / GIB:.1f} GiB "
                    f"allocated on rank {rank} (estimate {estimate.total / GIB:.1f} GiB)"
                )
            state.step += 1
            losses.append(values["loss"])
            if state.step % int(tp.print_freq) == 0 or state.step == 1:
                lr_text = " ".join(f"lr_{k}={v:.3g}" for k, v in lrs.items())
                if (
                    torch.cuda.is_available()
                ):  # the measured peak so far (the first line shows one step's need)
                    lr_text += f" max_mem {torch.cuda.max_memory_allocated() / 2**30:.2f}GiB"
                run_log.echo(
                    f"epoch {epoch} [{i + 1}/{iters}] step {state.step} loss {values['loss']:.4f} "
                    f"(avg {means.means()['loss']:.4f}) {lr_text}"
                    + (f" grad_norm {grad_norm:.3f}" if grad_norm is not None else "")
                )
                logged = {f"train_{k}": v for k, v in values.items()}
                logged.update({f"train_lr_{k}": v for k, v in lrs.items()})
                if grad_norm is not None:
                    logged["train_grad_norm"] = grad_norm
                if trackers:
                    accelerator.log(logged, step=state.step)
            run_log.record(
                event="step",
                step=state.step,
                epoch=epoch,
                iteration=i,
                **{f"train_{k}": v for k, v in values.items()},
                **({"grad_norm": grad_norm} if grad_norm is not None else {}),
            )
            every = int(tp.checkpoint_every_steps)
            if every and state.step % every == 0 and state.position < iters:
                state.epoch_means = means.state()
                save(keep=False)
            if stop_after_steps is not None and len(losses) >= stop_after_steps:
                accelerator.wait_for_everyone()
                return TrainResult(output_dir, state, losses, None)

        # -- end of epoch: validate, save ----------------------------------------------------------------------
        state.epoch, state.position, state.epoch_means = epoch + 1, 0, {}
        results: dict[str, float] = {}
        if parts.val_loaders and int(tp.eval_freq) > 0 and state.epoch % int(tp.eval_freq) == 0:
            results = validate(accelerator, model, parts.val_loaders, parts.val_loss, tp)
        new_best = "val_loss_med" in results and results["val_loss_med"] < state.best_so_far
        if new_best:
            state.best_so_far = results["val_loss_med"]
        keep = bool(tp.keep_freq) and state.epoch % int(tp.keep_freq) == 0
        if (tp.save_freq and state.epoch % int(tp.save_freq) == 0) or keep or state.epoch == epochs:
            save(keep=keep)
        if new_best and accelerator.is_main_process:
            ckpt.save_model_checkpoint(output_dir, "best", bare, state, config_yaml, results)
        epoch_means = {f"train_{k}": v for k, v in means.means().items()}
        run_log.record(
            event="epoch",
            epoch=epoch,
            step=state.step,
            **epoch_means,
            **results,
            **({"skipped_terms": skipped_terms} if skipped_terms else {}),
        )
        if skipped_terms:
            run_log.echo(f"epoch {epoch}: loss terms skipped for lack of labels (batches): {skipped_terms}")
        run_log.echo(
            f"epoch {epoch} done: step {state.step}, train loss {epoch_means.get('train_loss', float('nan')):.4f}"
            + "".join(f", {k} {v:.4f}" for k, v in results.items() if k.endswith("loss_med"))
        )
        if trackers and results:
            accelerator.log(results, step=state.step)
        accelerator.wait_for_everyone()

    # -- end ------------------------------------------------------------------------------------------------------
    final = None
    if accelerator.is_main_process:
        final = ckpt.save_model_checkpoint(output_dir, "final", bare, state, config_yaml)
        run_log.echo(f"final checkpoint: {final}")
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return TrainResult(output_dir, state, losses, final)
