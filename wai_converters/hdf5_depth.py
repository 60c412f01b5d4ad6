"""Depth maps stored as HDF5 (``.h5``, one float dataset ``depth``), as MegaDepth and AerialMegaDepth ship them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from wai.errors import WaiError, WaiFormatError, where
from wai_converters.raw_inputs import require_file

DEPTH_KEY = "depth"
_H5_ERRORS = (OSError, KeyError, ValueError, TypeError)


def read_h5_depth(path: Path, *, scene: str, frame: str, key: str = DEPTH_KEY) -> np.ndarray:
    """(H, W) float32 depth from dataset `key` of an HDF5 file; a missing, cut or mis-shaped file is an error
    naming it. Needs h5py (``pip install 'wai-toolkit[convert]'``)."""
    try:
        import h5py
    except ImportError as exc:
        raise WaiError("reading .h5 depth maps needs h5py: pip install 'wai-toolkit[convert]'") from exc
    require_file(path, "depth map", scene=scene, frame=frame)
    loc = where(scene=scene, frame=frame, file=str(path))
    try:
        with h5py.File(path, "r") as handle:
            if key not in handle:
                raise WaiFormatError(f"{loc}: no HDF5 dataset '{key}' (found {sorted(handle.keys())})")
            depth = np.asarray(handle[key][()])
    except WaiError:
        raise
    except _H5_ERRORS as exc:
        raise WaiFormatError(f"{loc}: cannot read as HDF5 (truncated?): {exc}") from exc
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2 or depth.dtype.kind not in "fiu":
        raise WaiFormatError(
            f"{loc}: dataset '{key}' has shape {depth.shape} ({depth.dtype}), expected (H, W) numbers"
        )
    return depth.astype(np.float32)
