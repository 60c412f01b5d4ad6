"""The typed result of a stage run: one outcome per scene, grouped into done, skipped and failed."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Any

from wai.plural import plural
from wai.stages.state import StageState

REASON_FINISHED = "already finished"
REASON_LOCKED = "locked"


@dataclasses.dataclass(frozen=True)
class SceneOutcome:
    """What happened to one scene in this run.

    state:   the state written to the log (``finished``, ``failed``, ``skipped`` or a stage's custom state); a
             scene that the runner skipped without touching its log has state ``skipped`` too.
    reason:  one line: why it was skipped or failed (the first line of the error); empty when finished.
    seconds: time spent on the scene in this run.
    cpu_seconds: CPU time (user and system) of the process that ran the scene, while it did.
    worker:  process id of that process (0: the scene was never dispatched).
    started: when the scene started (seconds since the epoch; 0 when never dispatched).
    """

    scene: str
    state: str
    reason: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    worker: int = 0
    started: float = 0.0

    @property
    def category(self) -> str:
        """``done``, ``failed`` or ``skipped`` (custom states count as skipped: the stage chose not to finish)."""
        if self.state == StageState.FINISHED.value:
            return "done"
        if self.state == StageState.FAILED.value:
            return "failed"
        return "skipped"

    def line(self) -> str:
        """``scene_x finished (1.2 s)``, ``scene_y failed (0.1 s): ValueError: ...``, ``scene_z skipped: locked``.

        The time is left out for scenes that were never dispatched (skipped from their log alone)."""
        text = f"{self.scene} {self.state}"
        if self.seconds > 0:
            text += f" ({self.seconds:.1f} s)"
        return f"{text}: {self.reason}" if self.reason else text

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def first_line(text: str) -> str:
    """The first non-empty line of `text`, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


@dataclasses.dataclass(frozen=True)
class StageReport:
    """All scene outcomes of one `run_stage` call, in scene order."""

    stage: str
    root: Path
    outcomes: tuple[SceneOutcome, ...]

    @property
    def done(self) -> list[SceneOutcome]:
        return [o for o in self.outcomes if o.category == "done"]

    @property
    def skipped(self) -> list[SceneOutcome]:
        return [o for o in self.outcomes if o.category == "skipped"]

    @property
    def failed(self) -> list[SceneOutcome]:
        return [o for o in self.outcomes if o.category == "failed"]

    @property
    def left(self) -> list[SceneOutcome]:
        """Scenes this run could not take because another job held their lock: work left for a later run."""
        return [o for o in self.skipped if o.state == StageState.SKIPPED.value and o.reason == REASON_LOCKED]

    @property
    def ok(self) -> bool:
        """True when no scene failed (scenes left locked do not count as failures; see `complete`)."""
        return not self.failed

    @property
    def complete(self) -> bool:
        """True when no scene failed and none was left because it was locked."""
        return not self.failed and not self.left

    def outcome(self, scene: str) -> SceneOutcome:
        """The outcome of one scene; KeyError if the scene was not part of the run."""
        for item in self.outcomes:
            if item.scene == scene:
                return item
        raise KeyError(f"scene '{scene}' was not part of stage '{self.stage}' run on {self.root}")

    def summary(self) -> str:
        """Human-readable totals, skip reasons with counts, and every failure with its reason."""
        lines = [
            f"{self.stage}: {plural(len(self.outcomes), 'scene')} in {self.root}: {len(self.done)} done, "
            f"{len(self.skipped)} skipped, {len(self.failed)} failed"
        ]
        skipped = self.skipped
        if skipped:
            counts = collections.Counter(
                o.reason if o.state == StageState.SKIPPED.value else o.state for o in skipped
            )
            lines.append("skipped: " + ", ".join(f"{n} {reason}" for reason, n in counts.most_common()))
            for item in skipped:
                if item.state != StageState.SKIPPED.value:
                    lines.append(f"  {item.scene}: {item.state}: {item.reason}")
        if self.failed:
            lines.append("failed:")
            lines.extend(f"  {o.scene}: {o.reason}" for o in self.failed)
        left = self.left
        if left:
            names = ", ".join(o.scene for o in left)
            lines.append(
                f"not finished: {plural(len(left), 'scene')} locked by another job ({names}); "
                "run again when that job has ended"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for ``--json``)."""
        return {
            "stage": self.stage,
            "root": str(self.root),
            "ok": self.ok,
            "complete": self.complete,
            "counts": {
                "done": len(self.done),
                "skipped": len(self.skipped),
                "failed": len(self.failed),
                "left": len(self.left),
            },
            "scenes": [o.to_dict() for o in self.outcomes],
        }
