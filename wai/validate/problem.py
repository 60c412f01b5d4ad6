"""What a validation run produces: one `Problem` per fault found, gathered in a `ValidationReport`."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from wai.errors import where
from wai.plural import plural


@dataclass(frozen=True)
class Problem:
    """One fault: the rule that found it, where it is, and what was expected.

    `file` is relative to the scene folder where it names a file inside the scene; `scene` is None only for
    problems of the dataset root itself (for example a root with no scene folders).
    """

    rule: str
    message: str
    scene: str | None = None
    frame: str | None = None
    file: str | None = None
    field: str | None = None

    @property
    def location(self) -> str:
        """``scene 's1', frame '0007', file 'depth/0007.exr'`` (only the parts that are set)."""
        return where(scene=self.scene, frame=self.frame, file=self.file, field=self.field)

    def __str__(self) -> str:
        location = self.location
        return f"[{self.rule}] {location}: {self.message}" if location else f"[{self.rule}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationReport:
    """The result of checking a scene or a dataset root.

    `scenes` lists every scene folder that was checked, in name order; `problems` are ordered by scene, then by rule
    (in the order of the rule table).
    """

    root: str
    deep: bool
    scenes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems

    @property
    def scenes_with_problems(self) -> list[str]:
        """Names of the checked scenes that have at least one problem, in scene order."""
        bad = {p.scene for p in self.problems}
        return [name for name in self.scenes if name in bad]

    @property
    def counts_by_rule(self) -> dict[str, int]:
        """Problem count per rule name, most frequent first."""
        return dict(Counter(p.rule for p in self.problems).most_common())

    def summary(self) -> str:
        """Two lines: scenes checked / ok / with problems, and the problem count by rule."""
        bad = len(self.scenes_with_problems)
        mode = "deep" if self.deep else "shallow"
        head = (
            f"checked {plural(len(self.scenes), 'scene')} ({mode}): {len(self.scenes) - bad} ok, {bad} with problems; "
            f"{plural(len(self.problems), 'problem')}"
        )
        if not self.problems:
            return head
        by_rule = ", ".join(f"{rule}: {n}" for rule, n in self.counts_by_rule.items())
        return f"{head}\nproblems by rule: {by_rule}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for scripts."""
        return {
            "root": self.root,
            "deep": self.deep,
            "ok": self.ok,
            "scenes_checked": len(self.scenes),
            "scenes_ok": len(self.scenes) - len(self.scenes_with_problems),
            "scenes_with_problems": self.scenes_with_problems,
            "problem_counts": self.counts_by_rule,
            "problems": [p.to_dict() for p in self.problems],
        }
