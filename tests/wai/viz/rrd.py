"""Read a saved Rerun recording back into plain Python: what was logged, per entity and component."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import rerun as rr


def component_columns(path: Path) -> set[str]:
    """Every component column of the recording, as ``<entity>:<Archetype>:<field>``."""
    return {col.name for col in rr.chunk.RrdReader(str(path)).store().schema().component_columns()}


def logged(path: Path) -> dict[str, dict[str, list[Any]]]:
    """entity -> column -> the logged values, in log order (one per row). Columns are components
    (``Pinhole:resolution``) and timelines (``frame``)."""
    out: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for chunk in rr.chunk.RrdReader(str(path)).store().stream():
        batch = chunk.to_record_batch()
        for name in batch.schema.names:
            if name.startswith("rerun.") or name == "log_time":
                continue
            out[chunk.entity_path][name].extend(batch.column(name).to_pylist())
    return out


def as_array(value: Any) -> np.ndarray:
    """A logged component value (nested lists, one element per instance) as a float array."""
    return np.asarray(value, dtype=np.float64)
