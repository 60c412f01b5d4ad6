"""What every rule sees of one scene: its folder, its raw metadata (if it parsed) and lenient views of both.

The context never raises on bad data. It parses `scene_meta.json` once, remembers why that failed if it did (the
`meta` rule reports it), and offers the frames and modality leaves that are well-formed enough for the other rules
to look at. Each rule reports the faults of its own area, so a fault is reported once.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wai.scene.cameras import camera_values
from wai.scene.meta import SCENE_META, SCENE_META_DISTORTED
from wai.scene.modalities import FRAME_VALUE_KEYS, SCENE_VALUE_KEYS, ModalityLeaf, TreeFault, walk_tree
from wai.validate.problem import Problem


@dataclass(frozen=True)
class FrameEntry:
    """A frame entry that is a JSON object: its index in `frames`, a printable name and the raw dict."""

    index: int
    name: str
    raw: dict[str, Any]


class SceneContext:
    """One scene folder prepared for the rules. Create with `SceneContext.load`."""

    def __init__(self, path: Path, meta: dict[str, Any] | None, meta_fault: str | None) -> None:
        self.path = path
        self.name = path.name
        self.meta = meta
        self.meta_fault = meta_fault
        #: (NaN, inf, negative, total) pixel counts of each depth file the decode rule read, by relative path, so
        #: the depth-values rule does not decode every depth map a second time.
        self.depth_counts: dict[str, tuple[int, int, int, int]] = {}
        self._camera_values: dict[int, dict[str, Any]] = {}

    @classmethod
    def load(cls, path: str | Path) -> SceneContext:
        """Read `<path>/scene_meta.json`; a missing, unreadable or malformed file becomes `meta_fault`."""
        path = Path(path)
        meta_path = path / SCENE_META
        if not meta_path.is_file():
            if (path / SCENE_META_DISTORTED).is_file():
                why = f"no {SCENE_META} (only {SCENE_META_DISTORTED}): conversion not finished, undistort the scene"
            else:
                why = f"no {SCENE_META}: conversion not finished (expected one per scene folder)"
            return cls(path, None, why)
        try:
            text = meta_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return cls(path, None, f"cannot read {SCENE_META}: {exc}")
        try:
            meta = json.loads(text)
        except json.JSONDecodeError as exc:
            return cls(path, None, f"malformed JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
        if not isinstance(meta, dict):
            return cls(path, None, f"expected a JSON object at the top level, got {type(meta).__name__}")
        return cls(path, meta, None)

    def issue(
        self, message: str, *, frame: str | None = None, file: str | None = None, field: str | None = None
    ) -> Problem:
        """A problem in this scene; the runner fills in the rule name."""
        return Problem(rule="", message=message, scene=self.name, frame=frame, file=file, field=field)

    # --- lenient views ----------------------------------------------------------------------------------------

    @functools.cached_property
    def frames(self) -> list[FrameEntry]:
        """Every frame entry that is an object (the schema rule reports the others)."""
        raw = self.meta.get("frames") if self.meta is not None else None
        if not isinstance(raw, list):
            return []
        out = []
        for i, frame in enumerate(raw):
            if isinstance(frame, dict):
                name = frame.get("frame_name")
                label = (
                    str(name)
                    if isinstance(name, (str, int, float)) and not isinstance(name, bool)
                    else f"#{i}"
                )
                out.append(FrameEntry(i, label, frame))
        return out

    @functools.cached_property
    def frame_by_name(self) -> dict[str, FrameEntry]:
        """`{name: entry}`; on duplicate names the first entry wins (the frames rule reports duplicates)."""
        out: dict[str, FrameEntry] = {}
        for entry in self.frames:
            out.setdefault(entry.name, entry)
        return out

    @property
    def frame_count(self) -> int:
        """Length of the `frames` list (0 when it is missing or not a list)."""
        raw = self.meta.get("frames") if self.meta is not None else None
        return len(raw) if isinstance(raw, list) else 0

    @functools.cached_property
    def _frame_tree(self) -> tuple[list[ModalityLeaf], list[TreeFault]]:
        return walk_tree(self._tree("frame_modalities"), FRAME_VALUE_KEYS)

    @functools.cached_property
    def _scene_tree(self) -> tuple[list[ModalityLeaf], list[TreeFault]]:
        return walk_tree(self._tree("scene_modalities"), SCENE_VALUE_KEYS)

    def _tree(self, key: str) -> dict[str, Any]:
        """A modality tree, or {} when it is missing or not an object (the keys rule reports that)."""
        tree = self.meta.get(key) if self.meta is not None else None
        return tree if isinstance(tree, dict) else {}

    @property
    def frame_leaves(self) -> list[ModalityLeaf]:
        """Well-formed frame modality leaves (``frame_key`` + ``format``)."""
        return self._frame_tree[0]

    @property
    def frame_tree_faults(self) -> list[TreeFault]:
        return self._frame_tree[1]

    @property
    def scene_leaves(self) -> list[ModalityLeaf]:
        """Well-formed scene modality leaves (``scene_key`` or ``path`` + ``format``)."""
        return self._scene_tree[0]

    @property
    def scene_tree_faults(self) -> list[TreeFault]:
        return self._scene_tree[1]

    def camera_values(self, frame: FrameEntry) -> dict[str, Any]:
        """The frame's camera keys merged over the scene's, exactly as the reader merges them."""
        cached = self._camera_values.get(frame.index)
        if cached is None:
            cached = camera_values(self.meta or {}, frame.raw)
            self._camera_values[frame.index] = cached
        return cached

    def camera_value(self, frame: FrameEntry, key: str) -> Any:
        """One merged camera key of `frame` (None if neither the frame nor the scene has it)."""
        return self.camera_values(frame).get(key)
