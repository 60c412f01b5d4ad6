"""The `--src` rule of the generic importers (`colmap`, `nerfstudio`): one capture folder (one scene, named after
the folder) or a folder whose sub-folders are captures (one scene each)."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import NoReturn

from wai.errors import WaiFileNotFoundError
from wai_converters.base import Converter


class CaptureConverter(Converter):
    """A converter of captures; a subclass says what a capture looks like and what to raise when there is none."""

    def _src(self) -> Path:
        src = self.config.src
        if src is None or not Path(src).is_dir():
            raise WaiFileNotFoundError(f"{self.name}: --src '{src}' is not a folder")
        return Path(src).resolve()

    @abc.abstractmethod
    def _is_capture(self, path: Path) -> bool:
        """Whether the folder `path` is itself a capture."""

    @abc.abstractmethod
    def _no_captures(self, src: Path) -> NoReturn:
        """Raise the error for a `--src` that is no capture and has no sub-folders, saying where it looked."""

    def source_scenes(self) -> list[str]:
        """`--src` itself when it is a capture, else every sub-folder (one that is no capture then fails with the
        reason when it is converted, rather than silently dropping out)."""
        src = self._src()
        if self._is_capture(src):
            return [src.name]
        scenes = sorted(p.name for p in src.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        if not scenes:
            self._no_captures(src)
        return scenes

    def capture_dir(self, scene: str) -> Path:
        """The capture folder of `scene`: `--src` itself or its sub-folder of that name."""
        src = self._src()
        return src if self._is_capture(src) and scene == src.name else src / scene
