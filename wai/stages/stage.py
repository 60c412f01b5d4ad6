"""A processing stage: a name in the process log, a function that does one scene, and what it depends on.

Stages are plain Python objects handed to `run_stage`, not scripts launched by path. With a process pool or a
cluster executor they are pickled, so `process` and `reset` must be module-level functions, picklable callable
objects, or `functools.partial`s of those.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from wai.errors import WaiStageError
from wai.stages.state import SceneResult


@dataclasses.dataclass(frozen=True)
class Stage:
    """One per-scene processing step.

    name:     key in `_process_log.json` (``"conversion"``, ``"covisibility"``, ...).
    process:  does the work for one scene folder; returns None (finished) or a `SceneResult`.
    requires: stages that must be ``finished`` in a scene's log before this one runs there.
    reset:    called before a scene is redone (after a failure, a killed run, or with overwrite), to remove what a
              previous attempt left; the process log and lock must be kept.
    """

    name: str
    process: Callable[[Path], SceneResult | None]
    requires: tuple[str, ...] = ()
    reset: Callable[[Path], None] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise WaiStageError(f"a stage name must be a non-empty string, got {self.name!r}")
        if not callable(self.process):
            raise WaiStageError(f"stage '{self.name}': process must be callable, got {self.process!r}")
        if self.reset is not None and not callable(self.reset):
            raise WaiStageError(f"stage '{self.name}': reset must be callable or None, got {self.reset!r}")
        requires = (self.requires,) if isinstance(self.requires, str) else tuple(self.requires)
        for name in requires:
            if not isinstance(name, str) or not name:
                raise WaiStageError(f"stage '{self.name}': requires holds {name!r}, expected stage names")
        if self.name in requires:
            raise WaiStageError(f"stage '{self.name}' cannot require itself")
        object.__setattr__(self, "requires", requires)
