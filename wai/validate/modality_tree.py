"""A lenient walk over `frame_modalities` / `scene_modalities` that collects every fault instead of stopping.

The reader in `wai.scene.modalities` raises on the first malformed entry, which is right for loading; a checker
wants all of them, and still wants the well-formed leaves so that file checks can run on those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VALUE_KEYS: tuple[str, ...] = ("frame_key", "scene_key", "path")


@dataclass(frozen=True)
class Leaf:
    """A well-formed modality descriptor: slash-joined name, which value key it uses, the value and the codec."""

    name: str
    kind: str
    value: str
    format: str | None


@dataclass(frozen=True)
class TreeFault:
    """A malformed entry: the slash-joined modality name (or '' for the tree itself) and what is wrong."""

    name: str
    message: str


def _is_leaf_like(node: Mapping[str, Any]) -> bool:
    """A node that means to be a leaf: it names a format or one of the value keys."""
    return "format" in node or any(k in node for k in VALUE_KEYS)


def _check_leaf(name: str, node: Mapping[str, Any], allowed: tuple[str, ...]) -> Leaf | TreeFault:
    value_keys = [k for k in node if k != "format"]
    if len(value_keys) != 1 or value_keys[0] not in VALUE_KEYS:
        return TreeFault(
            name,
            f"expected 'format' plus exactly one of {list(allowed)}, got keys {list(node)}",
        )
    kind = value_keys[0]
    if kind not in allowed:
        return TreeFault(name, f"uses '{kind}', expected one of {list(allowed)} here")
    value = node[kind]
    if not isinstance(value, str) or not value:
        return TreeFault(name, f"'{kind}' must be a non-empty string, got {value!r}")
    fmt = node.get("format")
    if fmt is None:
        return TreeFault(name, "has no 'format', so no reader can load it")
    if not isinstance(fmt, str):
        return TreeFault(name, f"'format' must be a string, got {fmt!r}")
    return Leaf(name=name, kind=kind, value=value, format=fmt)


def walk_tree(tree: Any, allowed: tuple[str, ...]) -> tuple[list[Leaf], list[TreeFault]]:
    """Split a modality tree into its well-formed leaves and the faults of the rest, both in insertion order.

    `allowed` names the value keys a leaf may use (``("frame_key",)`` for frame modalities, ``("scene_key",
    "path")`` for scene modalities).
    """
    leaves: list[Leaf] = []
    faults: list[TreeFault] = []
    if not isinstance(tree, Mapping):
        faults.append(TreeFault("", f"expected an object, got {type(tree).__name__}"))
        return leaves, faults

    def visit(node: Mapping[str, Any], prefix: str) -> None:
        for key, child in node.items():
            name = f"{prefix}{key}"
            if not isinstance(child, Mapping):
                faults.append(TreeFault(name, f"expected an object, got {type(child).__name__}"))
            elif _is_leaf_like(child):
                result = _check_leaf(name, child, allowed)
                (leaves if isinstance(result, Leaf) else faults).append(result)  # type: ignore[arg-type]
            elif not child:
                faults.append(TreeFault(name, "is an empty group"))
            else:
                visit(child, f"{name}/")

    visit(tree, "")
    return leaves, faults
