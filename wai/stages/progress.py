"""Progress display for a stage run: a tqdm bar on a terminal, one plain line per scene otherwise."""

from __future__ import annotations

import sys
from typing import Any

from wai.stages.report import SceneOutcome


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty is not None and isatty())


class Progress:
    """Reports each scene as it completes.

    mode None: a bar when stderr is a terminal, else plain lines (``[3/10] scene_x finished (1.2 s)``) for logs
    and CI. True: always the bar. False: nothing.
    """

    def __init__(self, stage: str, total: int, mode: bool | None = None) -> None:
        self.stage = stage
        self.total = total
        self.count = 0
        self.failed = 0
        if mode is None:
            self.kind = "bar" if _stderr_is_terminal() else "lines"
        else:
            self.kind = "bar" if mode else "off"
        self._bar: Any = None
        if self.kind == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=stage, unit="scene", file=sys.stderr, dynamic_ncols=True)

    def update(self, outcome: SceneOutcome) -> None:
        """Count one scene and show it."""
        self.count += 1
        if outcome.category == "failed":
            self.failed += 1
        if self._bar is not None:
            if outcome.category == "failed":
                self._bar.write(f"{self.stage}: {outcome.line()}", file=sys.stderr)
            self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
        elif self.kind == "lines":
            print(f"[{self.count}/{self.total}] {outcome.line()}", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Finish the bar (no-op for plain lines)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
