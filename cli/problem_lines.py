"""The text lines of a validation report: one per problem, with repeats of one finding in one scene grouped.

A fault that affects every frame the same way (a camera whose size disagrees with all 66 images, say) is one line
naming how many frames it hits and a few of them, not 66 lines that differ only in the frame name.
"""

from __future__ import annotations

from collections.abc import Iterable

from wai.errors import where
from wai.validate import Problem

#: Problems that share rule, scene, field and message are grouped once there are this many.
GROUP_MIN = 3
#: Frame names shown in a grouped line.
SHOWN = 3


def _key(problem: Problem) -> tuple[str, str | None, str | None, str]:
    return problem.rule, problem.scene, problem.field, problem.message


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    """One line per problem, or per group of at least `GROUP_MIN` frame-level repeats, in first-seen order."""
    problems = list(problems)
    groups: dict[tuple[str, str | None, str | None, str], list[Problem]] = {}
    for problem in problems:
        if problem.frame is not None:
            groups.setdefault(_key(problem), []).append(problem)
    lines: list[str] = []
    emitted: set[tuple[str, str | None, str | None, str]] = set()
    for problem in problems:
        key = _key(problem)
        members = groups.get(key, []) if problem.frame is not None else []
        if len(members) < GROUP_MIN:
            lines.append(str(problem))
            continue
        if key in emitted:
            continue
        emitted.add(key)
        frames = [m.frame for m in members]
        shown = ", ".join(f"'{f}'" for f in frames[:SHOWN])
        more = f" and {len(frames) - SHOWN} more" if len(frames) > SHOWN else ""
        location = where(scene=problem.scene, field=problem.field)
        lines.append(f"[{problem.rule}] {location}: {len(frames)} frames ({shown}{more}): {problem.message}")
    return lines
