"""Where a scene's data lives: the small backend interface behind `Scene` and `Frame`.

A `Scene` parses its metadata once and resolves modality names itself; a `SceneStorage` only fetches the data of one
resolved modality. Two backends implement it: `FolderStorage` (the WAI folder layout, files decoded by `wai.io`) and
`wai.pack.reader.PackedStorage` (a packed zarr store, local or behind an fsspec URL). Both return the same values.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from wai import io
from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.scene.modalities import ModalityLeaf

if TYPE_CHECKING:
    from wai.scene.scene import Frame, Scene


def with_location(exc: WaiError, location: str) -> WaiError:
    """The same error class, with the scene/frame location in front of the codec's message."""
    return type(exc)(f"{location}: {exc}")


class SceneStorage(abc.ABC):
    """Reads the data of one scene's resolved modalities.

    Capability flags:
        writable:  scenes in this storage can be written in place (`Scene.write_frame_modality`, `save_meta`).
        has_files: every modality is a file inside the scene folder (`Frame.path`, `Scene.scene_modality_path`).
    """

    writable: ClassVar[bool] = False
    has_files: ClassVar[bool] = False

    #: The scene's location as a path or URL, for messages.
    location: str

    @abc.abstractmethod
    def load_frame(self, frame: Frame, modality: str, leaf: ModalityLeaf, **options: Any) -> Any:
        """The value of `frame`'s modality `leaf` (requested as `modality`), as `wai.io.load` would decode it."""

    @abc.abstractmethod
    def load_scene_modality(self, scene: Scene, leaf: ModalityLeaf, **options: Any) -> Any:
        """The value of a scene-level modality."""

    @abc.abstractmethod
    def covisibility(self, scene: Scene, version: str) -> np.ndarray:
        """The raw pairwise covisibility matrix of `version` (the scene checks its shape)."""


class FolderStorage(SceneStorage):
    """A WAI scene folder: each modality is a file named in the scene meta, decoded by its `wai.io` codec."""

    writable = True
    has_files = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)

    def load_frame(self, frame: Frame, modality: str, leaf: ModalityLeaf, **options: Any) -> Any:
        path = frame.path(modality)
        try:
            return io.load(path, leaf.format, **options)
        except WaiError as exc:
            raise with_location(exc, where(scene=frame.scene.name, frame=frame.name)) from exc

    def load_scene_modality(self, scene: Scene, leaf: ModalityLeaf, **options: Any) -> Any:
        path = scene.scene_modality_path(leaf.name)
        try:
            return io.load(path, leaf.format, **options)
        except WaiError as exc:
            raise with_location(exc, where(scene=scene.name)) from exc

    def covisibility(self, scene: Scene, version: str) -> np.ndarray:
        # Exactly one `.npy` must be in the folder (the reference's loaders take whichever one the file system lists
        # first; we refuse to guess).
        folder = self.path / "covisibility" / version
        files = sorted(folder.glob("*.npy")) if folder.is_dir() else []
        if not files:
            raise WaiFileNotFoundError(f"{where(scene=scene.name, file=str(folder))}: no covisibility matrix")
        if len(files) > 1:
            names = [f.name for f in files]
            raise WaiFormatError(
                f"{where(scene=scene.name, file=str(folder))}: several matrices {names}; keep one"
            )
        return io.load(files[0], "mmap")
