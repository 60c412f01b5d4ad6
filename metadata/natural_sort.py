"""Natural ("human") sort order, as the reference's split lists use (`natsort` default: digit runs compare as
integers), without the dependency."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, str | int], ...]:
    """Sort key: ``scene2`` < ``scene10``. Text and number chunks alternate, text first, so keys always compare."""
    parts = _DIGITS.split(name)
    return tuple((1, int(p)) if i % 2 else (0, p) for i, p in enumerate(parts))


def natural_sorted(names: Iterable[str]) -> list[str]:
    """`names` in natural order (ties between ``01`` and ``1`` broken by the plain string)."""
    return sorted(names, key=lambda n: (natural_key(n), n))
