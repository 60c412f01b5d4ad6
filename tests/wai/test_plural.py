"""Counted nouns in messages: singular for one, plural otherwise."""

from __future__ import annotations

from wai.plural import plural


def test_one_is_singular_and_others_are_plural() -> None:
    assert plural(1, "scene") == "1 scene"
    assert [plural(n, "problem") for n in (0, 2)] == ["0 problems", "2 problems"]
    assert plural(3, "listed scene") == "3 listed scenes"
    assert plural(2, "split list", "split lists") == "2 split lists"
    assert plural(2, "index", "indices") == "2 indices"
