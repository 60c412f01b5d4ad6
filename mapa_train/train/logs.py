"""What a run records: console lines (rank 0), `log.jsonl` (one JSON object per line) and Accelerate trackers.

Console and JSON lines are written by the main process only; tracker values go through `accelerator.log`, which
also logs on the main process only. Running means are kept per key (the reference's global averages).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from mapa_train.errors import MapaConfigError, MapaMissingDependencyError

#: Tracker name -> (module it needs, the extra that installs it).
TRACKERS = {"tensorboard": ("tensorboard", "train"), "wandb": ("wandb", "wandb")}


class RunningMeans:
    """Sums and counts per key (global averages over an epoch)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def update(self, values: dict[str, float]) -> None:
        for key, value in values.items():
            if math.isfinite(value):
                self.sums[key] += value
                self.counts[key] += 1

    def state(self) -> dict[str, dict[str, float]]:
        return {"sums": dict(self.sums), "counts": dict(self.counts)}

    @classmethod
    def from_state(cls, state: dict[str, dict[str, float]]) -> RunningMeans:
        means = cls()
        means.sums.update(state.get("sums", {}))
        means.counts.update({k: int(v) for k, v in state.get("counts", {}).items()})
        return means

    def means(self) -> dict[str, float]:
        return {k: self.sums[k] / self.counts[k] for k in self.sums if self.counts[k]}


class RunLog:
    """Console + JSON-lines writer of the main process (other ranks get a silent one)."""

    def __init__(self, output_dir: str | Path, is_main: bool, stream: TextIO | None = None) -> None:
        self.is_main = is_main
        self.stream = stream or sys.stdout
        self.path = Path(output_dir) / "log.jsonl"
        self.start = time.time()

    def echo(self, text: str) -> None:
        if self.is_main:
            print(text, file=self.stream, flush=True)

    def record(self, **fields: Any) -> None:
        """Append one JSON line (floats that are not finite become null, so the file stays valid JSON)."""
        if not self.is_main:
            return
        clean = {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in fields.items()}
        clean["time"] = round(time.time() - self.start, 3)
        with open(self.path, "a") as fh:
            fh.write(json.dumps(clean) + "\n")


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a `log.jsonl`."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def flat_config(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config as `a.b.c` keys with str/int/float/bool values (what trackers accept as hparams)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flat_config(value, dotted + "."))
        elif isinstance(value, (bool, int, float, str)):
            out[dotted] = value
        else:
            out[dotted] = str(value)
    return out


def check_trackers(names: Iterable[str]) -> list[str]:
    """The `train_params.log_with` names, checked: each must be a known tracker whose package is installed."""
    out = []
    for name in names:
        name = str(name)
        if name not in TRACKERS:
            raise MapaConfigError(
                f"train_params.log_with: unknown tracker {name!r}; known: {sorted(TRACKERS)} ([] for none)"
            )
        module, extra = TRACKERS[name]
        if importlib.util.find_spec(module) is None:
            raise MapaMissingDependencyError(
                f"train_params.log_with names {name!r}, but the {module} package is not installed: "
                f"pip install 'wai-toolkit[{extra}]' (or drop it: train_params.log_with=[])"
            )
        if name not in out:
            out.append(name)
    return out


def tracker_init_kwargs(names: list[str], output_dir: Path) -> dict[str, dict[str, Any]]:
    """Per-tracker `init_trackers` arguments: a wandb run is written under the stage folder unless WANDB_DIR is set
    (WANDB_MODE=offline keeps it there; `wandb sync` uploads it later)."""
    kwargs: dict[str, dict[str, Any]] = {}
    if "wandb" in names and not os.environ.get("WANDB_DIR"):
        kwargs["wandb"] = {"dir": str(output_dir)}
    return kwargs
