"""The per-scene process log, `_process_log.json`, in the exact layout the reference's tools read and write.

The file is a JSON object keyed by stage name; each entry holds, in this order, ``state``, ``message``, ``date``
(local time, ``%Y-%m-%d %H:%M:%S``), ``wai_commit_hash``, ``wai_code_state_link`` and ``script_path``. Stages keep
the position where they were first written, and `_process_log_backup.json` holds the previous version.

The reference always writes ``wai_commit_hash`` and ``wai_code_state_link`` as empty strings, and its readers use
only ``state`` (and the date). We write a field only when it carries something: ``wai_commit_hash`` is the git
commit of the checkout `wai` runs from (left out for an installed package), ``script_path`` the running script
(left out for ``python -c``), and ``wai_code_state_link`` is never written. Entries the reference wrote, with all six
fields, read and rewrite unchanged.

Unlike the reference, every write is atomic (a reader sees the old or the new log, never half of one), and an
unreadable log is an error naming the file instead of being silently replaced by an empty one. `repair` is the
explicit way out: it puts the unreadable file aside and restores the backup when that one is readable.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from wai.atomic import atomic_write_bytes
from wai.errors import WaiStageError, where
from wai.stages.state import StageState, normalize_state

PROCESS_LOG = "_process_log.json"
PROCESS_LOG_BACKUP = "_process_log_backup.json"
PROCESS_LOG_CORRUPT = "_process_log_corrupt.json"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

Entries = dict[str, dict[str, Any]]


def default_script_path() -> str:
    """The resolved path of the running script (`sys.argv[0]`), as the reference records it; empty for ``-c``."""
    argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 in ("-c", "-m"):
        return ""
    return str(Path(argv0).resolve())


@functools.lru_cache(maxsize=1)
def code_commit() -> str:
    """The git commit (40 hex digits) of the checkout this `wai` is imported from; empty when it is not one.

    The checkout must be the one holding this package (an installed copy inside some other repository has none).
    """
    package = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    lines = out.stdout.split()
    if len(lines) != 2 or Path(lines[0]).resolve() != package.parent:
        return ""
    return lines[1]


def _parse(raw: bytes, path: Path) -> Entries:
    """Decode a log file's bytes, checking that it is an object of objects."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WaiStageError(f"corrupt process log, {where(file=str(path))}: {exc}") from exc
    if not isinstance(data, dict):
        raise WaiStageError(
            f"corrupt process log, {where(file=str(path))}: expected a JSON object keyed by stage name, "
            f"got {type(data).__name__}"
        )
    for stage, entry in data.items():
        if not isinstance(entry, dict):
            raise WaiStageError(
                f"corrupt process log, {where(file=str(path), field=stage)}: expected an object with a 'state', "
                f"got {type(entry).__name__}"
            )
    return data


def _encode(entries: Entries) -> bytes:
    """Serialise like the reference (2-space indent, UTF-8, no trailing newline)."""
    return json.dumps(entries, indent=2, ensure_ascii=False).encode("utf-8")


class ProcessLog:
    """Read and update one scene's `_process_log.json`.

    Not a lock: callers that update it hold the scene lock (`wai.stages.SceneLock`), as the runner does.
    """

    def __init__(self, scene_dir: str | os.PathLike) -> None:
        self.scene_dir = Path(scene_dir)
        self.path = self.scene_dir / PROCESS_LOG
        self.backup_path = self.scene_dir / PROCESS_LOG_BACKUP
        self.corrupt_path = self.scene_dir / PROCESS_LOG_CORRUPT

    def read(self) -> Entries:
        """All entries in file order; ``{}`` when there is no log yet.

        Raises `WaiStageError` naming the file when the log cannot be parsed.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        return _parse(raw, self.path)

    def entry(self, stage: str) -> dict[str, Any] | None:
        """The raw entry of `stage`, or None when the stage never ran on this scene."""
        return self.read().get(stage)

    def state(self, stage: str) -> StageState | str | None:
        """The recorded state of `stage` (a `StageState` for the standard ones), or None when absent."""
        entry = self.entry(stage)
        if entry is None or not isinstance(entry.get("state"), str) or not entry["state"]:
            return None
        return normalize_state(entry["state"])

    def set(
        self,
        stage: str,
        state: StageState | str,
        message: str = "",
        *,
        script_path: str | None = None,
        date: str | None = None,
        commit: str | None = None,
    ) -> None:
        """Record `state` for `stage`, keeping the stage's position and the previous file as the backup.

        `script_path`, `date` and `commit` default to the running script, the local time now and `code_commit()`;
        an empty script path or commit is left out of the entry. Both files are replaced atomically; the log itself
        is written last (and flushed to disk), so at any moment it is complete.
        """
        if not isinstance(stage, str) or not stage:
            raise WaiStageError(f"a stage name must be a non-empty string, got {stage!r}")
        state = normalize_state(state)
        try:
            old_raw = self.path.read_bytes()
        except FileNotFoundError:
            old_raw = None
        entries = {} if old_raw is None else _parse(old_raw, self.path)
        entry: dict[str, Any] = {
            "state": state.value if isinstance(state, StageState) else state,
            "message": message,
            "date": date if date is not None else time.strftime(DATE_FORMAT, time.localtime()),
        }
        commit = code_commit() if commit is None else commit
        if commit:
            entry["wai_commit_hash"] = commit
        script_path = default_script_path() if script_path is None else script_path
        if script_path:
            entry["script_path"] = script_path
        entries[stage] = entry
        self.scene_dir.mkdir(parents=True, exist_ok=True)
        if old_raw is not None:
            # Atomic but not flushed on its own: the backup only matters once the log is damaged, and `repair`
            # copes with a backup that a power cut left unreadable. The log is flushed, and so is the folder.
            atomic_write_bytes(self.backup_path, old_raw, fsync=False)
        atomic_write_bytes(self.path, _encode(entries))

    def repair(self) -> str | None:
        """Make an unreadable log usable again; return what was done, or None when the log was fine.

        The unreadable file is kept as `_process_log_corrupt.json` for inspection. When the backup is readable it
        becomes the log again (so other stages' history survives); otherwise the log starts empty.
        """
        try:
            self.read()
            return None
        except WaiStageError:
            pass
        os.replace(self.path, self.corrupt_path)
        try:
            backup_raw = self.backup_path.read_bytes()
            _parse(backup_raw, self.backup_path)
        except (FileNotFoundError, WaiStageError):
            return f"moved the unreadable log to {PROCESS_LOG_CORRUPT}; no readable backup, starting empty"
        atomic_write_bytes(self.path, backup_raw)
        return f"moved the unreadable log to {PROCESS_LOG_CORRUPT} and restored {PROCESS_LOG_BACKUP}"
