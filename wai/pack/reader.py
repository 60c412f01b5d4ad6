"""Reading packed scene stores: `PackedStorage`, the zarr backend of `wai.Scene`.

`wai.open_scene` hands any packed location here (a local ``*.zarr`` folder or an fsspec URL). The scene meta comes
from the group attributes (one read), the per-frame shape and length tables are read once per modality, and each
`frame.load` reads one chunk. Values equal those of the folder the store was packed from: encoded files are their
original bytes, decoded arrays are stored exactly.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np

from wai import io
from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.io.image import image_from_bytes
from wai.pack.chunks import ChunkReader, object_reader
from wai.pack.layout import (
    INFO_KEY,
    META_KEY,
    ROOT_METADATA,
    STORE_SUFFIX,
    PackInfo,
    StoredModality,
    covisibility_array,
    require_zarr,
)
from wai.scene.meta import check_structure
from wai.scene.modalities import ModalityLeaf
from wai.scene.scene import Scene
from wai.scene.storage import SceneStorage

if TYPE_CHECKING:
    from wai.scene.scene import Frame


def _local_path(location: str | os.PathLike) -> Path | None:
    """The local folder of a plain path or ``file://`` URL; None for other URLs."""
    text = os.fspath(location)
    if text.startswith("file://"):
        return Path(text[len("file://") :])
    return None if "://" in text else Path(text)


def _resolve_location(location: str | os.PathLike) -> str:
    """`location` as given, or ``<path>.zarr`` for a local scene name whose store sits beside it."""
    local = _local_path(location)
    if local is not None and not local.exists():
        sibling = local.with_name(local.name + STORE_SUFFIX)
        if sibling.is_dir():
            return str(sibling)
    return os.fspath(location)


def open_store(location: str) -> Any:
    """A read-only zarr store: a `LocalStore` for a plain path, an `FsspecStore` for a URL (``file://`` included)."""
    zarr = require_zarr()
    if "://" in location:
        from zarr.storage import FsspecStore

        return FsspecStore.from_url(location, read_only=True)
    return zarr.storage.LocalStore(location, read_only=True)


def _scene_name(location: str) -> str:
    name = PurePosixPath(location.rstrip("/").split("://")[-1]).name
    return name.removesuffix(STORE_SUFFIX)


def open_packed_scene(location: str | os.PathLike) -> Scene:
    """Open a packed scene store (local path or fsspec URL) as a `Scene`; an incomplete store is refused."""
    location = _resolve_location(location)
    local = _local_path(location)
    if local is not None and (local / "scene_meta.json").is_file() and not (local / ROOT_METADATA).is_file():
        from wai.scene.scene import open_scene

        return open_scene(local)  # a ``file://`` URL of a scene folder
    zarr = require_zarr()
    name = _scene_name(location)
    try:
        group = zarr.open_group(open_store(location), mode="r")
        attrs = group.attrs.asdict()
    except FileNotFoundError as exc:
        raise WaiFileNotFoundError(
            f"{where(scene=name, file=location)}: no packed scene store there"
        ) from exc
    except ImportError as exc:  # fsspec names the package a protocol needs (s3fs, gcsfs, ...)
        raise WaiError(f"{where(scene=name, file=location)}: {exc}") from exc
    except (ValueError, OSError, KeyError) as exc:
        raise WaiFormatError(
            f"{where(scene=name, file=location)}: cannot open the packed store: {exc}"
        ) from exc
    info = PackInfo.from_json(attrs.get(INFO_KEY), location)
    if not info.complete:
        raise WaiFormatError(
            f"{where(scene=name, file=location)}: incomplete packed store (an interrupted `wai pack`?); "
            "run `wai pack` again"
        )
    meta = attrs.get(META_KEY)
    check_structure(meta, Path(location) / ROOT_METADATA)
    path = local if local is not None else PurePosixPath(location.split("://", 1)[1])
    storage = PackedStorage(group, info, location)
    return Scene(path, meta, storage=storage, name=name)  # type: ignore[arg-type]


class PackedStorage(SceneStorage):
    """A packed zarr store (read-only). Array handles and the small per-frame tables are cached."""

    writable = False
    has_files = False

    def __init__(self, group: Any, info: PackInfo, location: str) -> None:
        self.group = group
        self.info = info
        self.location = location
        self._arrays: dict[str, Any] = {}
        self._tables: dict[str, np.ndarray] = {}
        self._rows: dict[str, ChunkReader] = {}
        self._read_object = object_reader(location)

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes reopen the store; array handles are rebuilt there.
        return {"info": self.info, "location": self.location}

    def __setstate__(self, state: dict[str, Any]) -> None:
        zarr = require_zarr()
        self.__init__(
            zarr.open_group(open_store(state["location"]), mode="r"), state["info"], state["location"]
        )

    def _array(self, key: str) -> Any:
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = self.group[key]
        return array

    def _row(self, key: str, row: int) -> np.ndarray:
        """One frame's chunk of a per-frame array (a direct read for the layout `wai pack` writes)."""
        reader = self._rows.get(key)
        if reader is None:
            reader = self._rows[key] = ChunkReader(self._array(key), key, self._read_object)
        return reader.row(row)

    def _table(self, key: str) -> np.ndarray:
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = np.asarray(self._array(key)[...])
        return table

    def _stored(self, table: dict[str, StoredModality], leaf: ModalityLeaf, scene: str) -> StoredModality:
        stored = table.get(leaf.name)
        if stored is None:
            raise WaiFormatError(
                f"{where(scene=scene, file=self.location)}: modality '{leaf.name}' was not packed into this store"
            )
        return stored

    def _read(self, stored: StoredModality, row: int, label: str, **options: Any) -> Any:
        """Decode row `row` of a stored modality (`label` names it in errors)."""
        try:
            if stored.kind == "array":
                if options:
                    raise WaiFormatError(
                        f"{label}: load options {sorted(options)} do not apply to a packed array"
                    )
                shape = tuple(int(v) for v in self._table(f"{stored.group}/shape")[row])
                data = self._row(f"{stored.group}/data", row)
                data = data[tuple(slice(0, n) for n in shape)]
                # a fresh, writable, contiguous array, as a codec returns (the chunk buffer is read-only)
                if stored.format == "binary":
                    return np.array(data, dtype=bool)
                return np.array(data, dtype=np.float32 if data.dtype == np.float16 else data.dtype)
            length = int(self._table(f"{stored.group}/length")[row])
            blob = self._row(f"{stored.group}/bytes", row)[:length].tobytes()
        except WaiError:
            raise
        except Exception as exc:  # zarr, numcodecs and fsspec raise their own classes for bad chunks
            raise WaiFormatError(
                f"{label}: cannot read the packed data: {type(exc).__name__}: {exc}"
            ) from exc
        if stored.format == "image" and not options:
            return image_from_bytes(blob, label)
        try:
            return decode_through_file(blob, stored, **options)
        except WaiError as exc:
            raise type(exc)(f"{label}: {exc}") from exc

    def load_frame(self, frame: Frame, modality: str, leaf: ModalityLeaf, **options: Any) -> Any:
        frame.entry(modality)  # the same error as a folder scene for a frame without this modality
        scene = frame.scene.name
        stored = self._stored(self.info.frames, leaf, scene)
        label = f"{where(scene=scene, frame=frame.name)}, store '{self.location}', array '{stored.group}'"
        return self._read(stored, frame.index, label, **options)

    def load_scene_modality(self, scene: Scene, leaf: ModalityLeaf, **options: Any) -> Any:
        stored = self._stored(self.info.scene_modalities, leaf, scene.name)
        label = f"{where(scene=scene.name)}, store '{self.location}', array '{stored.group}'"
        return self._read(stored, 0, label, **options)

    def covisibility(self, scene: Scene, version: str) -> np.ndarray:
        if version not in self.info.covisibility:
            raise WaiFileNotFoundError(
                f"{where(scene=scene.name, file=self.location)}: no covisibility matrix for version '{version}' "
                f"(packed versions: {sorted(self.info.covisibility) or 'none'})"
            )
        matrix = self._tables.get(covisibility_array(version))
        if matrix is None:
            matrix = np.asarray(self._array(covisibility_array(version))[...], dtype=np.float32)
            matrix.setflags(write=False)
            self._tables[covisibility_array(version)] = matrix
        return matrix


def decode_through_file(blob: bytes, stored: StoredModality, **options: Any) -> Any:
    """Decode encoded bytes with their `wai.io` codec by way of a temporary file with the original suffix.

    Used for the formats that only decode from a file (meshes, labelled images, 16-bit PNG depth, ...).
    """
    with tempfile.TemporaryDirectory(prefix="wai-pack-") as folder:
        path = Path(folder) / f"data{stored.suffix}"
        path.write_bytes(blob)
        value = io.load(path, stored.format, **options)
        if isinstance(value, np.memmap):
            value = np.array(value)
        return value
