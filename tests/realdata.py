"""Where the shared real captures live, and a skip marker for machines that lack them.

`shared/` sits beside the repository (in CI too, with a copy beside the fresh clone); `WAI_REALDATA` overrides it.
Tests read the captures in place and never copy them into the repository (their licences don't allow it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REALDATA = Path(
    os.environ.get("WAI_REALDATA", Path(__file__).resolve().parents[1].parent / "shared" / "realdata")
)


def realdata(name: str) -> Path:
    """The folder of one capture (e.g. ``"maupertuis_colmap"``); skips the calling test when it is absent."""
    path = REALDATA / name
    if not path.is_dir():
        pytest.skip(f"real capture {name!r} not found under {REALDATA} (set WAI_REALDATA to its folder)")
    return path
