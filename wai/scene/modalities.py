"""Modality descriptors of `frame_modalities` / `scene_modalities`: the one tree walker and leaf record.

A leaf is ``{"frame_key": k, "format": f}`` (frame modality) or ``{"scene_key"|"path": p, "format": f}`` (scene
modality). A group maps names to leaves or further groups, so ``"pred_depth/moge2"`` walks two levels.

`walk_tree` splits a tree into its well-formed leaves and the faults of the rest, collecting all of them; the
reader (`iter_leaves`, `resolve`) raises on a fault, the validator reports every one.

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
VALUE_KEYS: tuple[str, ...] = ("frame_key", "scene_key", "path")
#: The value keys a leaf may use in each tree.
FRAME_VALUE_KEYS: tuple[str, ...] = ("frame_key",)
SCENE_VALUE_KEYS: tuple[str, ...] = ("scene_key", "path")


@dataclass(frozen=True)
class ModalityLeaf:
    """A modality descriptor: its full (slash-joined) name, which value key it uses, the value and its codec name.

    `format` is None for a leaf without one (DL3DV's ``colmap``); such a leaf cannot be loaded by name.
    """

    name: str
    kind: Literal["frame_key", "scene_key", "path"]
    value: str
    format: str | None


@dataclass(frozen=True)
class TreeFault:
    """A malformed entry: the slash-joined modality name ('' for the tree itself) and what is wrong.

    `blocking` is False for faults that cost a reader nothing (an empty group holds nothing to load).
    """

    name: str
    message: str
    blocking: bool = True


def is_leaf(node: Any) -> bool:
    """A node that means to be a leaf: an object naming a format or one of the value keys."""
    return isinstance(node, Mapping) and ("format" in node or any(k in node for k in VALUE_KEYS))


def check_leaf(
    name: str, node: Mapping[str, Any], allowed: tuple[str, ...] = VALUE_KEYS
) -> ModalityLeaf | TreeFault:
    """The leaf record of a leaf-like `node`, or the fault that keeps it from being one."""
    value_keys = [k for k in node if k != "format"]
    if len(value_keys) != 1 or value_keys[0] not in VALUE_KEYS:
        return TreeFault(
            name, f"expected 'format' plus exactly one of {list(allowed)}, got keys {list(node)}"
        )
    kind = value_keys[0]
    if kind not in allowed:
        return TreeFault(name, f"uses '{kind}', expected one of {list(allowed)} here")
    value = node[kind]
    if not isinstance(value, str) or not value:
        return TreeFault(name, f"'{kind}' must be a non-empty string, got {value!r}")
    fmt = node.get("format")
    if fmt is not None and not isinstance(fmt, str):
        return TreeFault(name, f"'format' must be a string, got {fmt!r}")
    return ModalityLeaf(name=name, kind=kind, value=value, format=fmt)  # type: ignore[arg-type]


def walk_tree(tree: Any, allowed: tuple[str, ...] = VALUE_KEYS) -> tuple[list[ModalityLeaf], list[TreeFault]]:
    """Every well-formed leaf of a modality tree and every fault of the rest, both in insertion order."""
    leaves: list[ModalityLeaf] = []
    faults: list[TreeFault] = []
    if not isinstance(tree, Mapping):
        faults.append(TreeFault("", f"expected an object, got {type(tree).__name__}"))
        return leaves, faults

    def visit(node: Mapping[str, Any], prefix: str) -> None:
        for key, child in node.items():
            name = f"{prefix}{key}"
            if not isinstance(child, Mapping):
                faults.append(TreeFault(name, f"expected an object, got {type(child).__name__}"))
            elif is_leaf(child):
                result = check_leaf(name, child, allowed)
                (leaves if isinstance(result, ModalityLeaf) else faults).append(result)  # type: ignore[arg-type]
            elif not child:
                faults.append(TreeFault(name, "is an empty group", blocking=False))
            else:
                visit(child, f"{name}/")

    visit(tree, "")
    return leaves, faults


def _raise(fault: TreeFault, context: str) -> None:
    raise WaiFormatError(f"{context}: modality '{fault.name}' {fault.message}")


def iter_leaves(
    tree: Mapping[str, Any], context: str, allowed: tuple[str, ...] = VALUE_KEYS
) -> list[ModalityLeaf]:
    """Every leaf of a modality tree, in insertion order; the first blocking fault raises `WaiFormatError`."""
    leaves, faults = walk_tree(tree, allowed)
    for fault in faults:
        if fault.blocking:
            _raise(fault, context)
    return leaves


def resolve(
    tree: Mapping[str, Any], name: str, context: str, allowed: tuple[str, ...] = VALUE_KEYS
) -> ModalityLeaf:
    """Resolve a modality name (``depth``, ``pred_depth/moge2`` or a regex such as ``depth|rendered_depth``)."""
    if set(name) & _REGEX_CHARS and "/" not in name:
        pattern = re.compile(name)
        for key in tree:
            if pattern.fullmatch(key):
                return resolve(tree, key, context, allowed)
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
    if not isinstance(node, Mapping):
        _raise(TreeFault(name, f"expected an object, got {type(node).__name__}"), context)
    if not is_leaf(node):
        members = [f"{name}/{k}" for k in node]
        raise WaiFormatError(f"{context}: modality '{name}' is a group; name one of {members}")
    result = check_leaf(name, node, allowed)
    if isinstance(result, TreeFault):
        _raise(result, context)
    return result  # type: ignore[return-value]


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


def forget_modality(meta: dict[str, Any], group: str, method: str, frame_key: str) -> bool:
    """Undo `nest_modality` for one method: drop `frame_key` from every frame and the ``group/method`` leaf (or a
    flat `group` leaf with that frame key, an empty group with it). True if the meta changed."""
    changed = False
    for frame in meta.get("frames") or []:
        if frame_key in frame:
            del frame[frame_key]
            changed = True
    tree = meta.get("frame_modalities")
    node = tree.get(group) if isinstance(tree, dict) else None
    if not isinstance(node, dict):
        return changed
    if is_leaf(node):
        if node.get("frame_key") == frame_key:
            del tree[group]
            changed = True
    elif method in node:
        del node[method]
        changed = True
        if not node:
            del tree[group]
    return changed
