"""The loss plot of a run: training loss per step (and its running mean) and validation loss per epoch, from the
run's `log.jsonl`. Needs matplotlib (not a dependency of training itself)."""

from __future__ import annotations

from pathlib import Path

from mapa_train.errors import MapaConfigError, MapaMissingDependencyError
from mapa_train.train.logs import read_log


def plot_losses(stage_dir: str | Path, out: str | Path, window: int = 20) -> Path:
    """Write a PNG of `stage_dir/log.jsonl`'s losses to `out`; returns `out`."""
    log_path = Path(stage_dir) / "log.jsonl"
    if not log_path.is_file():
        raise MapaConfigError(f"{stage_dir}: no log.jsonl (is this a stage folder of a run?)")
    rows = read_log(log_path)
    steps = {
        r["step"]: r["train_loss"]
        for r in rows
        if r.get("event") == "step" and r.get("train_loss") is not None
    }
    if not steps:
        raise MapaConfigError(f"{log_path}: no training steps logged yet")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MapaMissingDependencyError("plotting needs matplotlib: pip install matplotlib") from exc
    xs = sorted(steps)
    ys = [steps[x] for x in xs]
    mean = [
        sum(ys[max(0, i - window + 1) : i + 1]) / (i + 1 - max(0, i - window + 1)) for i in range(len(ys))
    ]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, ys, lw=0.6, alpha=0.5, label="train loss (rank 0)")
    ax.plot(xs, mean, lw=1.6, label=f"train loss, mean of {window}")
    val = [
        (r["step"], r["val_loss_med"])
        for r in rows
        if r.get("event") == "epoch" and r.get("val_loss_med") is not None
    ]
    if val:
        ax.plot([v[0] for v in val], [v[1] for v in val], "o-", label="validation loss (median)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title(Path(stage_dir).name)
    ax.legend()
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
