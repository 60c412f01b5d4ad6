"""The torch path of `covisibility_matrix`: the same float64 arithmetic, on a GPU when one is present.

Imported only when ``backend="torch"`` is selected; `import metadata` never imports torch. The working-size depth
maps move to the device once (N x H x W float32); one source's points and a block of targets are processed at a
time, so device memory stays bounded too.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from metadata.covisibility.compute import normalise_counts, projection_matrices, source_points
from metadata.covisibility.configs import CovisibilityParams
from metadata.covisibility.frames import FrameStack


def resolve_device(device: str | None):  # noqa: ANN201 - torch.device, and torch is imported lazily
    """``None``/``auto``: CUDA if available, else CPU; otherwise the named device."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def covisibility_rows_torch(
    frames: FrameStack,
    params: CovisibilityParams,
    candidates: np.ndarray,
    device: str | None,
    block_elements: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(targets, scores) of each source in order, computed with torch."""
    import torch

    dev = resolve_device(device)
    # Larger blocks pay off on a GPU; on a CPU the numpy block size is already right.
    budget = block_elements * (64 if dev.type == "cuda" else 1)
    h, w = frames.size
    proj = torch.as_tensor(projection_matrices(frames), device=dev)
    flat = torch.as_tensor(frames.depths.reshape(len(frames), h * w), device=dev)
    valid_counts = (flat > 0).sum(dim=1).cpu().numpy()
    lookup_all = torch.where(flat > 0, flat, torch.tensor(float("-inf"), device=dev))
    with torch.no_grad():
        for i in range(len(frames)):
            targets = np.flatnonzero(candidates[i])
            counts = np.zeros(targets.size, dtype=np.int64)
            points_np = source_points(frames, i) if targets.size else np.zeros((3, 0))
            n = points_np.shape[1]
            if n:
                points = torch.as_tensor(points_np, device=dev)
                step = max(1, budget // n)
                for start in range(0, targets.size, step):
                    block = torch.as_tensor(targets[start : start + step], device=dev)
                    t = int(block.numel())
                    p = proj[block]
                    cam = (p[:, :, :3].reshape(3 * t, 3) @ points).reshape(t, 3, n) + p[:, :, 3:]
                    z = cam[:, 2]
                    col = torch.round(cam[:, 0] / z)
                    row = torch.round(cam[:, 1] / z)
                    ok = (z > params.min_depth) & (col >= 0) & (col <= w - 1) & (row >= 0) & (row <= h - 1)
                    index = torch.where(ok, row * w + col, torch.zeros_like(col)).to(torch.int64)
                    d = torch.gather(lookup_all[block], 1, index).to(torch.float64)
                    ok &= (z - d).abs() < params.slack + params.rel_thres * z
                    counts[start : start + t] = ok.sum(dim=1).cpu().numpy()
            yield targets, normalise_counts(counts, h * w, valid_counts[targets], params)
