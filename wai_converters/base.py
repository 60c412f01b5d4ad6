"""What every converter is: a typed config, a list of source scenes, and a function that writes one WAI scene.

Converters return nothing special: they write through `wai.SceneWriter`, which saves `scene_meta.json` last, and
the stage runner records their progress in each scene's `_process_log.json` under the stage name `conversion`.
"""

from __future__ import annotations

import abc
import dataclasses
import shutil
from pathlib import Path
from typing import Any, ClassVar

from wai.errors import WaiError, WaiFileNotFoundError, where


@dataclasses.dataclass
class ConverterConfig:
    """Fields every converter config has. Subclasses add their own, each with ``metadata={"help": ...}``."""

    src: Path | None = dataclasses.field(default=None, metadata={"help": "Folder of the raw dataset."})


class Converter(abc.ABC):
    """One dataset, one converter. Subclasses set `name`, `description`, `config_class` and implement two methods.

    Option values are checked once, before any scene starts: `run_converter` (and so `wai convert`) calls
    `check_config`, which subclasses extend (calling ``super().check_config()``) to refuse values that cannot work.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    config_class: ClassVar[type[ConverterConfig]] = ConverterConfig
    needs_source: ClassVar[bool] = True

    def __init__(self, config: ConverterConfig) -> None:
        self.config = config

    def check_config(self) -> None:
        """Raise `WaiError` naming the option (``--fov-x``, ``--src``) for a value that cannot work.

        The base checks that a converter that reads raw data was given an existing `--src` folder.
        """
        if not self.needs_source:
            return
        src = self.config.src
        if src is None:
            raise WaiError(f"{self.name}: --src is required (the folder of the raw dataset)")
        if not Path(src).is_dir():
            what = "is a file, not a folder" if Path(src).exists() else "does not exist"
            raise WaiError(f"{self.name}: --src '{src}' {what} (expected the folder of the raw dataset)")

    def raw_folder(self) -> Path:
        """`--src` as an absolute path; `WaiFileNotFoundError` naming it when it is not a folder."""
        src = Path(self.config.src).absolute()
        if not src.is_dir():
            raise WaiFileNotFoundError(f"{where(file=str(src))}: raw dataset folder not found")
        return src

    @abc.abstractmethod
    def source_scenes(self) -> list[str]:
        """Names of the scenes this converter will write (also the output folder names)."""

    @abc.abstractmethod
    def convert_scene(self, scene: str, out_dir: Path) -> None:
        """Write one WAI scene into `out_dir` (which exists and holds at most a process log)."""

    def reset(self, out_dir: Path) -> None:
        """Before a scene is converted again (after a crash or with --overwrite), remove all but its process log."""
        for child in out_dir.iterdir():
            if child.name.startswith("_process_log") or child.name == "_scene.lock":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def __call__(self, out_dir: Path) -> Any:
        """Stage entry point: convert the scene whose output folder is `out_dir`."""
        return self.convert_scene(out_dir.name, out_dir)
