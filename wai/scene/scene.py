"""`Scene` and `Frame`: the read side of a WAI scene folder.

`open_scene` parses `scene_meta.json` once; frames, cameras, resolved modality descriptors and the pose stack are
derived from that one parse and cached, so a scene with 10,000 frames costs one JSON parse however many frames are
touched. Everything returned is numpy (never torch).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wai import io
from wai.camera import Camera
from wai.errors import WaiCameraError, WaiFileNotFoundError, WaiFormatError, where
from wai.scene.cameras import camera_values, has_own_camera
from wai.scene.meta import SCENE_META, frame_name_index, load_scene_meta, save_scene_meta
from wai.scene.modalities import (
    FRAME_VALUE_KEYS,
    SCENE_VALUE_KEYS,
    ModalityLeaf,
    iter_leaves,
    nest_modality,
    resolve,
)
from wai.scene.paths import resolve_in_scene
from wai.scene.pixels import pixel_size
from wai.scene.storage import FolderStorage, SceneStorage

#: Cache key of the camera shared by every frame without camera keys of its own (never a frame index).
_SCENE_CAMERA = "scene"


class Frame:
    """One posed image of a scene. Cheap to create: it holds the scene and an index, and reads lazily."""

    __slots__ = ("scene", "index")

    def __init__(self, scene: Scene, index: int) -> None:
        self.scene = scene
        self.index = index

    def __repr__(self) -> str:
        return f"Frame(scene={self.scene.name!r}, index={self.index}, name={self.name!r})"

    @property
    def raw(self) -> dict[str, Any]:
        """The frame's entry in `scene_meta.json` (the dict itself: mutate only through a writer)."""
        return self.scene.meta["frames"][self.index]

    @property
    def name(self) -> str:
        return str(self.raw["frame_name"])

    @property
    def cam2world(self) -> np.ndarray:
        """(4, 4) float64 camera-to-world pose, OpenCV axes (x right, y down, z forward)."""
        return self.scene.poses[self.index].copy()

    @property
    def camera(self) -> Camera:
        """The frame's camera model and coefficients (frame values override scene values key by key)."""
        return self.scene.camera(self.index)

    @property
    def intrinsics(self) -> np.ndarray:
        """(3, 3) float64 K. Only for distortion-free cameras: a distorted frame must be undistorted first."""
        camera = self.camera
        if not camera.is_pinhole:
            raise WaiCameraError(
                f"{where(scene=self.scene.name, frame=self.name)}: camera model {camera.model.value} has non-zero "
                "distortion; undistort the scene first or use frame.camera"
            )
        return camera.K

    @property
    def image(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB."""
        return self.load("image")

    @property
    def depth(self) -> np.ndarray:
        """(H, W) float32 z-depth in scene units (metres for metric scenes); 0 marks invalid pixels."""
        return self.load("depth")

    def has(self, modality: str) -> bool:
        """Whether this frame has a file for `modality`."""
        leaf = self.scene.frame_modality(modality)
        return leaf.value in self.raw

    def entry(self, modality: str) -> str:
        """This frame's meta entry for `modality` (a path relative to the scene); an error names a missing one."""
        leaf = self.scene.frame_modality(modality)
        rel = self.raw.get(leaf.value)
        if rel is None:
            raise WaiFormatError(
                f"{where(scene=self.scene.name, frame=self.name, field=leaf.value)}: the frame has no entry for "
                f"modality '{modality}'"
            )
        return rel

    def path(self, modality: str) -> Path:
        """Absolute path of this frame's file for `modality` (checked to stay inside the scene folder).

        Only scenes whose storage has files (folders) have paths; a packed scene's data is read with `load`.
        """
        leaf = self.scene.frame_modality(modality)
        rel = self.entry(modality)
        self.scene.require_files(f"frame '{self.name}', modality '{modality}'")
        return resolve_in_scene(
            self.scene.path, rel, scene=self.scene.name, frame=self.name, field=leaf.value
        )

    def load(self, modality: str, **options: Any) -> Any:
        """Load a modality by name (``"depth"``, ``"pred_depth/moge2"``, ``"depth|rendered_depth"``)."""
        leaf = self.scene.frame_modality(modality)
        return self.scene.storage.load_frame(self, modality, leaf, **options)


class FrameSequence(Sequence[Frame]):
    """`scene.frames`: indexable and iterable, builds `Frame` handles on demand."""

    def __init__(self, scene: Scene) -> None:
        self._scene = scene

    def __len__(self) -> int:
        return len(self._scene.meta["frames"])

    def __getitem__(self, i: int) -> Frame:  # type: ignore[override]
        if isinstance(i, slice):
            return [Frame(self._scene, j) for j in range(*i.indices(len(self)))]  # type: ignore[return-value]
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"scene '{self._scene.name}': frame index {i} out of range for {n} frames")
        return Frame(self._scene, i % n)

    def __iter__(self) -> Iterator[Frame]:
        return (Frame(self._scene, i) for i in range(len(self)))


class Scene:
    """A WAI scene folder opened for reading. Create with `open_scene`."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        meta_name: str = SCENE_META,
        *,
        storage: SceneStorage | None = None,
        name: str | None = None,
    ) -> None:
        self.path = path
        self.meta = meta
        self.meta_name = meta_name
        #: Where the data lives: the scene folder, or a packed store (`wai.pack`).
        self.storage: SceneStorage = storage if storage is not None else FolderStorage(path)
        self._name = name if name is not None else path.name
        self.frames = FrameSequence(self)
        self._leaf_cache: dict[str, ModalityLeaf] = {}
        self._camera_cache: dict[int | str, Camera] = {}

    def __repr__(self) -> str:
        return f"Scene({self.storage.location!r}, frames={len(self)})"

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def name(self) -> str:
        """The scene folder's name (the reference's `scene_name` should equal it; the validator checks); for a
        packed store, its name without ``.zarr``."""
        return self._name

    def require_files(self, what: str) -> None:
        """Raise `WaiFormatError` unless this scene's data are files in a folder (not a packed store)."""
        if not self.storage.has_files:
            raise WaiFormatError(
                f"{where(scene=self.name)}: {what}: the scene is a packed store ({self.storage.location}), which has "
                "no per-modality files; read the data with load()"
            )

    def require_writable(self) -> None:
        """Raise `WaiFormatError` unless this scene can be written in place."""
        if not self.storage.writable:
            raise WaiFormatError(
                f"{where(scene=self.name)}: the scene is a read-only packed store ({self.storage.location}); write "
                "to its scene folder and pack it again"
            )

    @property
    def dataset_name(self) -> str | None:
        return self.meta.get("dataset_name")

    @property
    def scale_type(self) -> str | None:
        return self.meta.get("scale_type")

    @functools.cached_property
    def frame_names(self) -> dict[str, int]:
        """`{frame_name: index}`, the reference's in-memory index."""
        return frame_name_index(self.meta)

    def frame(self, key: str | int) -> Frame:
        """A frame by name (str) or index (int)."""
        if isinstance(key, str):
            try:
                return Frame(self, self.frame_names[key])
            except KeyError:
                raise WaiFormatError(f"{where(scene=self.name)}: no frame named {key!r}") from None
        return self.frames[key]

    @functools.cached_property
    def poses(self) -> np.ndarray:
        """(N, 4, 4) float64 cam2world of every frame; NaN-filled for frames without `transform_matrix`."""
        out = np.full((len(self), 4, 4), np.nan)
        for i, frame in enumerate(self.meta["frames"]):
            matrix = frame.get("transform_matrix")
            if matrix is None:
                continue
            try:
                out[i] = np.asarray(matrix, dtype=np.float64).reshape(4, 4)
            except (ValueError, TypeError) as exc:
                raise WaiFormatError(
                    f"{where(scene=self.name, frame=str(frame['frame_name']), field='transform_matrix')}: "
                    f"expected 4x4 numbers ({exc})"
                ) from exc
        out.setflags(write=False)
        return out

    def camera_values(self, index: int) -> dict[str, Any]:
        """Camera keys of frame `index`, each taken from the frame if present, else from the scene."""
        return camera_values(self.meta, self.meta["frames"][index])

    def camera(self, index: int = 0) -> Camera:
        """The `Camera` of frame `index` (one shared object when the scene has shared intrinsics)."""
        # The scene-level camera and each frame's own camera need distinct keys: frame 0 may override the scene.
        shared = self.meta.get("shared_intrinsics") and not has_own_camera(self.meta["frames"][index])
        key = _SCENE_CAMERA if shared else index
        cam = self._camera_cache.get(key)
        if cam is None:
            frame_name = str(self.meta["frames"][index]["frame_name"])
            cam = Camera.from_meta(self.camera_values(index), where=where(scene=self.name, frame=frame_name))
            self._camera_cache[key] = cam
        return cam

    # --- modalities -------------------------------------------------------------------------------------------

    def frame_modality(self, name: str) -> ModalityLeaf:
        """Resolve a frame modality name to its descriptor (cached)."""
        leaf = self._leaf_cache.get(name)
        if leaf is None:
            tree = self.meta.get("frame_modalities") or {}
            leaf = resolve(tree, name, where(scene=self.name, field="frame_modalities"), FRAME_VALUE_KEYS)
            self._leaf_cache[name] = leaf
        return leaf

    @property
    def frame_modality_names(self) -> list[str]:
        """Every frame modality, groups flattened (``pred_depth/moge2``)."""
        tree = self.meta.get("frame_modalities") or {}
        context = where(scene=self.name, field="frame_modalities")
        return [leaf.name for leaf in iter_leaves(tree, context, FRAME_VALUE_KEYS)]

    @property
    def scene_modality_names(self) -> list[str]:
        tree = self.meta.get("scene_modalities") or {}
        context = where(scene=self.name, field="scene_modalities")
        return [leaf.name for leaf in iter_leaves(tree, context, SCENE_VALUE_KEYS)]

    def scene_modality(self, name: str) -> ModalityLeaf:
        """Resolve a scene modality name to its descriptor."""
        tree = self.meta.get("scene_modalities") or {}
        return resolve(tree, name, where(scene=self.name, field="scene_modalities"), SCENE_VALUE_KEYS)

    def scene_modality_path(self, name: str) -> Path:
        leaf = self.scene_modality(name)
        self.require_files(f"scene modality '{name}'")
        return resolve_in_scene(self.path, leaf.value, scene=self.name, field=f"scene_modalities.{name}")

    def load_scene_modality(self, name: str, **options: Any) -> Any:
        """Load a scene-level modality (mesh, covisibility matrix, mappings) by name."""
        return self.storage.load_scene_modality(self, self.scene_modality(name), **options)

    def covisibility(self, version: str = "v0") -> np.ndarray:
        """The (N, N) float32 pairwise covisibility matrix of `covisibility/<version>/` (memory-mapped from a
        folder, an in-memory array from a packed store).

        Exactly one `.npy` must be in that folder (the reference's loaders take whichever one the file system lists
        first; we refuse to guess).
        """
        matrix = self.storage.covisibility(self, version)
        if matrix.shape != (len(self), len(self)):
            source = f"{self.storage.location}/covisibility/{version}"
            raise WaiFormatError(
                f"{where(scene=self.name, file=source)}: expected a {len(self)}x{len(self)} matrix "
                f"(one row per frame), got {matrix.shape}"
            )
        return matrix

    def write_frame_modality(
        self,
        modality: str,
        frame: str | int,
        data: Any,
        *,
        format: str,
        rel_path: str | None = None,
        frame_key: str | None = None,
        **options: Any,
    ) -> Path:
        """Write one frame's file for `modality` (a name like ``"normals"`` or ``"pred_depth/moge2"``) and record
        it in the in-memory meta; call `save_meta` once after the last frame.

        Defaults follow the reference: the file goes to ``<modality>/<frame_name><suffix>`` and a grouped modality
        ``group/method`` gets the frame key ``<method>_<group without "pred_">`` (``pred_depth/moge2`` ->
        ``moge2_depth``), nesting an older flat entry of the group first.
        """
        self.require_writable()
        target = self.frame(frame)
        codec = io.codec_for(format)
        group, _, method = modality.rpartition("/")
        # Every check comes before the file is written, so a rejected call leaves nothing behind.
        if "/" in group or not method or modality.startswith("/"):
            raise WaiFormatError(
                f"{where(scene=self.name, frame=target.name)}: modality '{modality}': expected 'name' or "
                "'group/name' (one group level at most)"
            )
        if frame_key is None:
            frame_key = f"{method}_{group.removeprefix('pred_')}" if group else modality
        if rel_path is None:
            rel_path = f"{modality}/{target.name}{codec.suffixes[0]}"
        path = resolve_in_scene(self.path, rel_path, scene=self.name, frame=target.name, field=frame_key)
        codec.check_suffix(path, storing=True)
        if codec.per_pixel and isinstance(data, np.ndarray):
            size = pixel_size(data, format)
            if size != target.camera.size:
                camera = target.camera
                raise WaiFormatError(
                    f"{where(scene=self.name, frame=target.name, field=frame_key)}: array of shape {data.shape} is "
                    f"{size[1]}x{size[0]} (WxH) but the camera is {camera.width}x{camera.height}"
                )
        written = Path(io.store(path, data, format, **options))
        target.raw[frame_key] = written.relative_to(self.path).as_posix()
        tree = self.meta.setdefault("frame_modalities", {})
        leaf = {"frame_key": frame_key, "format": format}
        if group:
            nest_modality(tree, group, method, leaf)
        else:
            tree[modality] = leaf
        self._leaf_cache.pop(modality, None)
        return written

    def save_meta(self) -> None:
        """Write `self.meta` back to the scene's meta file (atomic, with backup)."""
        self.require_writable()
        save_scene_meta(self.path / self.meta_name, self.meta)
        self.__dict__.pop("poses", None)
        self.__dict__.pop("frame_names", None)
        self._leaf_cache.clear()
        self._camera_cache.clear()


def open_scene(path: str | Path, meta_name: str = SCENE_META) -> Scene:
    """Open a scene folder (or its `scene_meta.json` directly), or a packed scene store (`wai pack`).

    A packed store is a local ``<scene>.zarr`` folder or an fsspec URL (``s3://bucket/stores/room_000.zarr``,
    ``file:///...``, ``memory://...``); a local path ``root/room_000`` whose folder is missing opens
    ``root/room_000.zarr`` when that exists, so a packed dataset root is addressed by scene name like a folder one.
    Both kinds give the same `Scene` / `Frame` interface and values. Packed stores need the `pack` extra.
    """
    if is_packed_location(path):
        from wai.pack.reader import open_packed_scene

        return open_packed_scene(path)
    path = Path(path)
    if path.is_file():
        path, meta_name = path.parent, path.name
    meta_path = path / meta_name
    if not meta_path.is_file():
        if not path.is_dir():
            raise WaiFileNotFoundError(f"scene folder '{path}' does not exist")
        raise WaiFileNotFoundError(
            f"scene '{path.name}': no '{meta_name}' in '{path}' (conversion not finished?)"
        )
    return Scene(path, load_scene_meta(meta_path), meta_name)


#: The suffix of a packed scene store (a zarr group).
PACKED_SUFFIX = ".zarr"


def is_packed_location(path: str | Path) -> bool:
    """Whether `path` names a packed scene store: a URL, a ``*.zarr`` path or folder with a ``zarr.json``, or a
    missing scene folder whose ``<name>.zarr`` sibling exists."""
    text = str(path)
    if "://" in text:
        return True
    local = Path(path)
    if local.suffix == PACKED_SUFFIX or (local / "zarr.json").is_file():
        return True
    return not local.exists() and local.with_name(local.name + PACKED_SUFFIX).is_dir()
