"""Training checkpoints: atomic step folders, strict loading, and the lookup of another stage's result.

Layout of `<output_dir>/checkpoints/`:

    step_00001200/   state.pt (model, optimizer, counters), rank_0.pt ... rank_{W-1}.pt (RNG, sampler), meta.json
    best/            model.pt + meta.json (the best validation loss so far)
    final/           model.pt + meta.json (written when the run ends)

"last" is the step folder with the highest step. A folder is written under a temporary name and renamed into place
when every rank has written its part, so a crash or SIGKILL leaves no folder that a resume would accept. Older
step folders are deleted unless their epoch boundary is a multiple of `keep_freq`. Everything is loaded with
``torch.load(weights_only=True)``; model weights must match the model exactly (missing or unexpected keys fail).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mapa_train.errors import MapaCheckpointError, MapaWeightsNotFoundError

STEP_RE = re.compile(r"^step_(\d{8})$")
TMP_PREFIX = ".tmp-"
Barrier = Callable[[], None]


def step_folder_name(step: int) -> str:
    return f"step_{step:08d}"


def checkpoints_dir(output_dir: str | Path) -> Path:
    return Path(output_dir) / "checkpoints"


def step_folders(output_dir: str | Path) -> list[Path]:
    """Complete step folders, oldest first (the names sort by step)."""
    folder = checkpoints_dir(output_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and STEP_RE.match(p.name))


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The "last" checkpoint: the highest step folder, or None."""
    folders = step_folders(output_dir)
    return folders[-1] if folders else None


# -- RNG ----------------------------------------------------------------------------------------------------------


def rng_state() -> dict[str, Any]:
    """torch, CUDA, numpy and Python RNG states in types `weights_only` loading accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 (the global RNG is what we save)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
            "kind": str(kind),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (
            np_state["kind"],
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["gauss"],
        )
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# -- writing ------------------------------------------------------------------------------------------------------


@dataclass
class TrainState:
    """Counters that resume needs besides the tensors."""

    step: int = 0
    epoch: int = 0
    position: int = 0
    """Iterations of `epoch` already done (0 at an epoch boundary)."""
    best_so_far: float = float("inf")
    skipped_steps: int = 0
    epoch_means: dict[str, dict[str, float]] = field(default_factory=dict)
    """Running sums and counts of the current epoch's training values (so a resumed epoch logs the same means)."""

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "epoch_means": {k: dict(v) for k, v in self.epoch_means.items()}}


def _save(obj: Any, path: Path) -> None:
    torch.save(obj, path)
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _publish(tmp: Path, final: Path) -> None:
    """Rename a finished temporary folder onto `final` (an existing one is moved aside first, then deleted)."""
    old = None
    if final.exists():
        old = final.with_name(f"{TMP_PREFIX}old-{uuid.uuid4().hex[:8]}-{final.name}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _shared_tmp(folder: Path, name: str, step: int) -> Path:
    # Every rank derives the same temporary name without communicating.
    return folder / f"{TMP_PREFIX}{name}-{step:08d}"


def save_step_checkpoint(
    output_dir: str | Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    state: TrainState,
    sampler_state: dict[str, Any],
    config_yaml: str,
    rank: int,
    world_size: int,
    barrier: Barrier,
    keep: bool,
) -> Path:
    """Write `step_XXXXXXXX` (collective: every rank calls it). Returns the folder. Non-kept older ones are removed."""
    folder = checkpoints_dir(output_dir)
    name = step_folder_name(state.step)
    tmp = _shared_tmp(folder, name, state.step)
    if rank == 0:
        folder.mkdir(parents=True, exist_ok=True)
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
    barrier()
    _save({"rng": rng_state(), "sampler": sampler_state}, tmp / f"rank_{rank}.pt")
    if rank == 0:
        _save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state.as_dict()},
            tmp / "state.pt",
        )
        meta = {**state.as_dict(), "world_size": world_size, "keep": keep, "config": config_yaml}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    barrier()
    final = folder / name
    if rank == 0:
        _publish(tmp, final)
        for older in step_folders(output_dir)[:-1]:
            if not json.loads((older / "meta.json").read_text()).get("keep"):
                shutil.rmtree(older, ignore_errors=True)
    barrier()
    return final


def save_model_checkpoint(
    output_dir: str | Path,
    kind: str,
    model: nn.Module,
    state: TrainState,
    config_yaml: str,
    extra: dict | None = None,
) -> Path:
    """Write `best/` or `final/` (model weights + meta), atomically. Call on rank 0 only."""
    folder = checkpoints_dir(output_dir)
    tmp = folder / f"{TMP_PREFIX}{kind}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    _save({"model": model.state_dict()}, tmp / "model.pt")
    meta = {**state.as_dict(), **(extra or {}), "config": config_yaml}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    final = folder / kind
    _publish(tmp, final)
    return final


# -- reading ------------------------------------------------------------------------------------------------------


def _load(path: Path) -> Any:
    if not path.is_file():
        raise MapaCheckpointError(f"{path.parent}: checkpoint part {path.name} is missing")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MapaCheckpointError(f"{path}: cannot be read as a checkpoint: {exc}") from exc


def load_model_strict(model: nn.Module, state_dict: dict[str, torch.Tensor], source: Path) -> None:
    """Load weights; any missing or unexpected key, or a shape mismatch, is an error naming them."""
    from mapa_train.models.weights import load_state_dict_with_report

    load_state_dict_with_report(model, state_dict, strict=True, source=str(source))


def load_step_checkpoint(
    folder: Path, *, model: nn.Module, optimizer: torch.optim.Optimizer, rank: int, world_size: int
) -> tuple[TrainState, dict[str, Any]]:
    """Restore model, optimizer and this rank's RNG from a step folder; returns the counters and the sampler state."""
    meta = json.loads((folder / "meta.json").read_text())
    if int(meta["world_size"]) != world_size:
        raise MapaCheckpointError(
            f"{folder}: written by {meta['world_size']} processes, this run has {world_size}; an exact resume "
            "needs the same number (start a new stage with init_from to change it)"
        )
    data = _load(folder / "state.pt")
    load_model_strict(model, data["model"], folder)
    try:
        optimizer.load_state_dict(data["optimizer"])
    except (ValueError, KeyError) as exc:
        raise MapaCheckpointError(
            f"{folder}: the optimizer state does not fit this run's param groups: {exc}"
        ) from exc
    mine = _load(folder / f"rank_{rank}.pt")
    set_rng_state(mine["rng"])
    return TrainState(**data["state"]), mine["sampler"]


def resolve_checkpoint(output_dir: str | Path, which: str) -> Path:
    """The folder of `which` ("last", "best", "final") in a stage's output dir, or an error saying what exists."""
    folder = checkpoints_dir(output_dir)
    if which == "last":
        found = latest_checkpoint(output_dir)
    elif which in ("best", "final"):
        found = folder / which if (folder / which / "meta.json").is_file() else None
    else:
        raise MapaCheckpointError(f"checkpoint kind {which!r}: expected last, best or final")
    if found is None:
        present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise MapaWeightsNotFoundError(
            f"no {which!r} checkpoint in {folder} (found: {present or 'nothing'}); run that stage first"
        )
    return found


def read_model_weights(folder: Path) -> dict[str, torch.Tensor]:
    """Model weights of any checkpoint folder (step, best or final)."""
    file = folder / "state.pt" if (folder / "state.pt").is_file() else folder / "model.pt"
    return _load(file)["model"]
