"""Forward+backward speed and peak activation memory of registered models, with and without checkpointing.

Activation memory is the peak during one forward+backward step minus the memory held just before it (model,
gradients and inputs already built), after a warm-up step. On CUDA: `torch.cuda.max_memory_allocated`. On CPU each
measurement runs in a fresh subprocess, freed heap pages are returned to the OS after the warm-up, the resident
high-water mark is reset (`/proc/self/clear_refs`) and the step's peak RSS (`VmHWM`) minus the RSS before it is
reported (where the mark cannot be reset, the first step is measured against the process peak instead).
"""

from __future__ import annotations

import ctypes
import gc
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch

from mapa_train.models.mapanything.task import get_task
from mapa_train.models.registry import build_model


@dataclass
class BenchResult:
    """One measurement: seconds per forward+backward step, peak activation MiB, images per second."""

    model: str
    views: int
    height: int
    width: int
    checkpointing: bool
    dtype: str
    step_s: float
    peak_activation_mib: float
    images_per_s: float


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mib() -> float:
    """The process's resident high-water mark (`VmHWM`) in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def _reset_peak_rss() -> bool:
    """Reset `VmHWM` to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        _peak_rss_mib()
    except (OSError, RuntimeError):
        return False
    return True


def _release_free_heap() -> None:
    """Hand freed heap pages back to the OS (glibc `malloc_trim`), so the warm-up step's leftovers are neither
    counted in the baseline nor silently reused by the measured step."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def _make_views(
    num_views: int, height: int, width: int, device: torch.device, dtype: torch.dtype
) -> list[dict]:
    return [{"img": torch.randn(1, 3, height, width, device=device, dtype=dtype)} for _ in range(num_views)]


def measure(
    name: str,
    num_views: int,
    height: int,
    width: int,
    checkpointing: bool,
    device: str = "cpu",
    bf16: bool = False,
) -> BenchResult:
    """One forward+backward step of `name` (images-only task, batch 1 per view) measured in this process."""
    torch.manual_seed(0)
    dev = torch.device(device)
    model = build_model(name).to(dev).train()
    model.set_gradient_checkpointing(checkpointing, checkpointing, checkpointing)
    views = _make_views(num_views, height, width, dev, torch.float32)
    task = get_task("images_only")
    amp = torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16)

    def step() -> None:
        with amp:
            out = model(views, task=task)
            loss = sum(o["pts3d"].float().square().mean() + o["conf"].float().mean() for o in out)
        loss.backward()
        model.zero_grad(set_to_none=False)

    if dev.type == "cuda":
        step()  # warm-up: kernels, grads allocated
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    else:
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        step()  # warm-up: kernel caches, oneDNN primitives, thread pools
        gc.collect()
        _release_free_heap()
        if _reset_peak_rss():
            base = _rss_mib()
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
            peak = _peak_rss_mib() - base
        else:  # no resettable high-water mark: only a first step can be measured, against the process peak
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - _rss_mib()
            start = time.perf_counter()
            step()
            elapsed = time.perf_counter() - start
    dtype = "bf16" if bf16 else "fp32"
    return BenchResult(
        name, num_views, height, width, checkpointing, dtype, elapsed, peak, num_views / elapsed
    )


def measure_in_subprocess(
    name: str, num_views: int, height: int, width: int, checkpointing: bool
) -> BenchResult:
    """`measure` on CPU in a fresh interpreter (clean peak RSS)."""
    code = (
        "import json,sys; from dataclasses import asdict; from mapa_train.models.benchmark import measure; "
        f"print(json.dumps(asdict(measure({name!r}, {num_views}, {height}, {width}, {checkpointing}))))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark of {name} at {num_views} views failed:\n{proc.stderr[-2000:]}")
    return BenchResult(**json.loads(proc.stdout.strip().splitlines()[-1]))


def saved_for_backward_mib(model: torch.nn.Module, forward: Callable[[], Any]) -> tuple[float, Any]:
    """MiB of distinct tensor storage (parameters excluded) that autograd keeps for the backward pass of what
    `forward()` runs: the activation memory that checkpointing trades for recomputation. Deterministic and cheap
    (no subprocess, no allocator statistics); the storages are counted when they are saved, before backward frees
    them. Returns (MiB, whatever `forward()` returned)."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    held: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params and storage.nbytes() > 0:
            held[storage.data_ptr()] = max(held.get(storage.data_ptr(), 0), storage.nbytes())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        result = forward()
    return sum(held.values()) / 2**20, result


def format_result(r: BenchResult) -> str:
    """One aligned line per measurement."""
    ckpt = "ckpt" if r.checkpointing else "plain"
    return (
        f"{r.model:18s} {r.views:3d}v {r.height}x{r.width} {ckpt:5s} {r.dtype:4s} "
        f"{r.step_s * 1000:9.1f} ms/step {r.images_per_s:8.2f} img/s {r.peak_activation_mib:9.1f} MiB"
    )


def as_dict(r: BenchResult) -> dict:
    """The result as a JSON-ready dict."""
    return asdict(r)
