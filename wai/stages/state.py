"""What a stage did to one scene: a state from a small enum, or a custom state string with a message.

The reference let stage functions return ``None``, a bare string or a ``(state, message)`` tuple, and its wrapper
recorded the last two wrongly. Here a stage returns a `SceneResult` (or ``None`` for "finished"), and the runner
records exactly the state and message it carries.
"""

from __future__ import annotations

import dataclasses
from enum import Enum

from wai.errors import WaiStageError


class StageState(str, Enum):
    """The states the runner itself writes into a scene's process log."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    SKIPPED = "skipped"


def normalize_state(state: StageState | str) -> StageState | str:
    """Return the enum member for a known state string, the stripped string for a custom one.

    Raises `WaiStageError` for an empty or non-string state.
    """
    if isinstance(state, StageState):
        return state
    if not isinstance(state, str) or not state.strip():
        raise WaiStageError(f"a stage state must be a non-empty string or StageState, got {state!r}")
    try:
        return StageState(state)
    except ValueError:
        return state.strip()


@dataclasses.dataclass(frozen=True)
class SceneResult:
    """What a stage's `process` returns for one scene.

    `state` is a `StageState` or a custom string such as ``"data_issue"`` (recorded as is, and redone on the next
    run like any state other than ``finished``); `message` says why, and is stored in the process log.
    """

    state: StageState | str = StageState.FINISHED
    message: str = ""

    def __post_init__(self) -> None:
        state = normalize_state(self.state)
        if state is StageState.RUNNING:
            raise WaiStageError("a stage cannot return the state 'running'; it is written by the runner")
        if not isinstance(self.message, str):
            raise WaiStageError(f"SceneResult.message must be a string, got {type(self.message).__name__}")
        object.__setattr__(self, "state", state)

    @property
    def state_name(self) -> str:
        """The state as the string written to disk."""
        return self.state.value if isinstance(self.state, StageState) else self.state
