"""Counted nouns for messages and summaries: ``1 scene``, ``2 scenes``, never ``scene(s)``."""

from __future__ import annotations


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 scene``, ``2 scenes``; `plural_noun` for irregular or multi-word forms (``1 split list``)."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_noun if plural_noun is not None else noun + 's'}"
