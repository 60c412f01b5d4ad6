"""Choosing the torch device a prediction stage runs on.

The reference passed ``device: auto`` straight to `model.to()`, which raises before the first scene. Here ``auto``
is resolved (CUDA, then Apple MPS, then CPU), and an explicit device that this machine lacks is a clear error.
"""

from __future__ import annotations

import torch

from mapa_train.errors import MapaConfigError


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(name: str | torch.device) -> torch.device:
    """``"auto"`` -> the best available device; ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` -> that device,
    checked to exist here. Raises `WaiStageError` naming the request otherwise."""
    if isinstance(name, str) and name.strip().lower() == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise MapaConfigError(
            f"device {name!r}: not a torch device (expected auto, cpu, cuda, cuda:N or mps)"
        ) from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise MapaConfigError(
                f"device {name!r}: no CUDA device is visible here; use --device auto or cpu"
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise MapaConfigError(f"device {name!r}: only {count} CUDA device(s) are visible here")
    elif device.type == "mps" and not _mps_available():
        raise MapaConfigError(f"device {name!r}: Apple MPS is not available here; use --device auto or cpu")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise MapaConfigError(
            f"device {name!r}: unsupported device type '{device.type}' (expected cpu, cuda or mps)"
        )
    return device
