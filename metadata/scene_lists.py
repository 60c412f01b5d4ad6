"""Split list files in the reference's exact format: ``<meta>/<split>/<dataset>_scene_list_<split>.npy``.

Each file is `np.save` of a 1-D object array of Python `str` scene names in natural-sort order; the reference's
loaders read it with ``np.load(path, allow_pickle=True)`` and keep the file order.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Literal

import numpy as np

from wai.atomic import atomic_path
from wai.errors import WaiFileNotFoundError, WaiFormatError

Split = Literal["train", "val", "test"]
SPLITS: tuple[Split, ...] = ("train", "val", "test")


def scene_list_path(meta_dir: str | Path, dataset: str, split: Split) -> Path:
    """Where the reference's loaders look for `dataset`'s `split` list."""
    if split not in SPLITS:
        raise WaiFormatError(f"unknown split {split!r}; expected one of {SPLITS}")
    return Path(meta_dir) / split / f"{dataset}_scene_list_{split}.npy"


def write_scene_list(path: str | Path, scenes: list[str]) -> Path:
    """Write `scenes` (already in the wanted order) atomically as a 1-D object array of `str`."""
    array = np.empty(len(scenes), dtype=object)
    array[:] = [str(s) for s in scenes]
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=True)
    return path


def read_scene_list(path: str | Path) -> list[str]:
    """Read a split list; a missing, corrupt or malformed file is an error naming the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise WaiFileNotFoundError(f"file '{path}': split list not found")
    try:
        array = np.load(path, allow_pickle=True)
    except (ValueError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise WaiFormatError(f"file '{path}': not a readable .npy split list ({exc})") from exc
    if not isinstance(array, np.ndarray) or array.ndim != 1:
        shape = getattr(array, "shape", type(array).__name__)
        raise WaiFormatError(f"file '{path}': expected a 1-D array of scene names, got shape {shape}")
    names: list[str] = []
    for i, value in enumerate(array.tolist()):
        if not isinstance(value, str) or not value:
            raise WaiFormatError(
                f"file '{path}', field '[{i}]': expected a non-empty scene name, got {value!r}"
            )
        names.append(value)
    return names
