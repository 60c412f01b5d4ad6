"""Modality descriptors of `frame_modalities` / `scene_modalities` and how a name resolves to one.

A leaf is ``{"frame_key": k, "format": f}`` (frame modality) or ``{"scene_key"|"path": p, "format": f}`` (scene
modality). A group maps names to leaves or further groups, so ``"pred_depth/moge2"`` walks two levels.

Differences from the reference, on purpose: a name that ends on a group is an error listing its members (the
reference silently takes the last child), a leaf with more than one key besides ``format`` is an error, and a
regex request must match a whole top-level name (the reference's prefix match lets ``depth`` catch
``depth_confidence``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from wai.errors import WaiFormatError

_REGEX_CHARS = set(".|*+?()[]{}^$\\")
_VALUE_KEYS = ("frame_key", "scene_key", "path")


@dataclass(frozen=True)
class ModalityLeaf:
    """A resolved modality: its full name, where its value lives and its codec name."""

    name: str
    kind: Literal["frame_key", "scene_key", "path"]
    value: str
    format: str | None


def is_leaf(node: Any) -> bool:
    return isinstance(node, Mapping) and any(k in node for k in _VALUE_KEYS)


def _as_leaf(name: str, node: Mapping[str, Any], context: str) -> ModalityLeaf:
    keys = [k for k in node if k != "format"]
    if len(keys) != 1 or keys[0] not in _VALUE_KEYS:
        raise WaiFormatError(
            f"{context}: modality '{name}' must have exactly one of {_VALUE_KEYS} besides 'format', got keys {list(node)}"
        )
    value = node[keys[0]]
    if not isinstance(value, str):
        raise WaiFormatError(
            f"{context}: modality '{name}' field '{keys[0]}' must be a string, got {value!r}"
        )
    fmt = node.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise WaiFormatError(f"{context}: modality '{name}' field 'format' must be a string, got {fmt!r}")
    return ModalityLeaf(name=name, kind=keys[0], value=value, format=fmt)  # type: ignore[arg-type]


def iter_leaves(tree: Mapping[str, Any], context: str, prefix: str = "") -> list[ModalityLeaf]:
    """Every leaf of a modality tree, with slash-joined names, in insertion order."""
    out: list[ModalityLeaf] = []
    for key, node in tree.items():
        name = f"{prefix}{key}"
        if is_leaf(node):
            out.append(_as_leaf(name, node, context))
        elif isinstance(node, Mapping):
            out.extend(iter_leaves(node, context, prefix=f"{name}/"))
        else:
            raise WaiFormatError(f"{context}: modality '{name}' must be an object, got {type(node).__name__}")
    return out


def resolve(tree: Mapping[str, Any], name: str, context: str) -> ModalityLeaf:
    """Resolve a modality name (``depth``, ``pred_depth/moge2`` or a regex such as ``depth|rendered_depth``)."""
    if set(name) & _REGEX_CHARS and "/" not in name:
        pattern = re.compile(name)
        for key in tree:
            if pattern.fullmatch(key):
                return resolve(tree, key, context)
        raise WaiFormatError(f"{context}: no modality matches the pattern {name!r}; available: {list(tree)}")
    node: Any = tree
    walked: list[str] = []
    for part in name.split("/"):
        if not isinstance(node, Mapping) or is_leaf(node) or part not in node:
            available = list(node) if isinstance(node, Mapping) and not is_leaf(node) else []
            raise WaiFormatError(
                f"{context}: unknown modality '{name}' (no '{part}' under "
                f"'{'/'.join(walked) or '<top>'}'); available: {available}"
            )
        node = node[part]
        walked.append(part)
    if not is_leaf(node):
        if not isinstance(node, Mapping):
            raise WaiFormatError(f"{context}: modality '{name}' must be an object, got {type(node).__name__}")
        members = [f"{name}/{k}" for k in node]
        raise WaiFormatError(f"{context}: modality '{name}' is a group; name one of {members}")
    return _as_leaf(name, node, context)


def nest_modality(tree: dict[str, Any], group: str, method: str, leaf: dict[str, Any]) -> None:
    """Add ``tree[group][method] = leaf``; a flat leaf already under `group` is wrapped first (reference rule).

    A flat ``pred_depth`` with frame key ``metric3dv2_depth`` becomes ``{"metric3dv2": {...}}`` before the new
    method is added, so older scenes keep their data reachable.
    """
    existing = tree.get(group)
    if existing is not None and is_leaf(existing):
        old_key = existing.get("frame_key") or existing.get("scene_key") or existing.get("path") or group
        tree[group] = {str(old_key).split("_")[0]: existing}
    tree.setdefault(group, {})[method] = leaf
