"""`pack_scene`: write one WAI scene folder into a packed zarr store (layout in `wai.pack.layout`).

Every value is read through the folder `Scene` (so a broken file fails here, naming the scene, frame and file) and
written so that the packed `Scene` returns it unchanged: images keep their file bytes, maps are stored decoded and
exact. The root ``zarr.json`` with ``complete: true`` is written last, atomically; until then readers refuse the store.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from wai import io
from wai.atomic import atomic_write_text
from wai.camera import Camera
from wai.errors import WaiFormatError, where
from wai.pack.layout import (
    ARRAY_FORMATS,
    INFO_KEY,
    META_KEY,
    ROOT_METADATA,
    ZSTD_LEVEL_ENCODED,
    PackInfo,
    StoredModality,
    covisibility_array,
    frame_group,
    require_zarr,
    scene_group,
)
from wai.pack.resize import RESIZE_NOTES, resize_image_bytes, resize_nearest, resized_meta
from wai.scene.scene import Scene, open_scene

#: Room for a re-encoded image row: raw pixel bytes plus slack (PNG and JPEG stay below this).
_ENCODED_SLACK = 65536


def _compressor(level: int) -> Any:
    from zarr.codecs import ZstdCodec

    return ZstdCodec(level=level)


def _array_compressor() -> Any:
    """Decoded maps: blosc, byte shuffle, lz4hc. Stored as the codec's float32, a half-float depth map's low mantissa
    bytes are zeros that cost almost nothing, and it decodes with no float16 conversion, faster than its EXR (zstd
    would save about a third of the bytes but decode four times slower)."""
    from zarr.codecs import BloscCodec

    return BloscCodec(cname="lz4hc", clevel=5, shuffle="shuffle")


class _SceneWriter:
    """Writes the arrays of one scene into an open zarr group."""

    def __init__(self, scene: Scene, group: Any, cameras: list[Camera], resize: bool) -> None:
        self.scene = scene
        self.group = group
        self.cameras = cameras
        self.resize = resize
        self.n = len(scene)

    def frame_modality(self, name: str) -> StoredModality:
        leaf = self.scene.frame_modality(name)
        frames = [f for f in self.scene.frames if f.has(name)]
        suffixes = {Path(f.entry(name)).suffix.lower() for f in frames}
        suffix = sorted(suffixes)[0] if suffixes else ""
        if leaf.format in ARRAY_FORMATS or (
            self.resize and leaf.format != "image" and _per_pixel(leaf.format)
        ):
            stored = StoredModality(frame_group(name), "array", leaf.format, suffix)
            self._arrays(stored, name, frames)
            return stored
        if len(suffixes) > 1 and leaf.format != "image":
            raise WaiFormatError(
                f"{where(scene=self.scene.name, field=leaf.value)}: modality '{name}' mixes file types "
                f"{sorted(suffixes)}; a packed modality keeps one"
            )
        stored = StoredModality(frame_group(name), "encoded", leaf.format, suffix)
        self._encoded(stored, name, frames)
        return stored

    def _arrays(self, stored: StoredModality, name: str, frames: list[Any]) -> None:
        height = max(c.height for c in self.cameras)
        width = max(c.width for c in self.cameras)
        data_array = None
        shapes = np.zeros((self.n, 0), dtype=np.int64)
        for frame in frames:
            data = np.asarray(frame.load(name))
            camera = self.cameras[frame.index]
            if self.resize and data.shape[:2] != camera.size:
                original = self.scene.camera(frame.index)
                if data.shape[:2] != original.size:
                    raise WaiFormatError(
                        f"{where(scene=self.scene.name, frame=frame.name, file=str(frame.path(name)))}: cannot "
                        f"pre-resize modality '{name}': array shape {data.shape} does not match the camera "
                        f"({original.width}x{original.height})"
                    )
                data = resize_nearest(data, camera.width, camera.height)
            if data_array is None:
                shape = (self.n, max(height, data.shape[0]), max(width, data.shape[1]), *data.shape[2:])
                data_array = self.group.create_array(
                    f"{stored.group}/data",
                    shape=shape,
                    chunks=(1, *shape[1:]),
                    dtype=data.dtype,
                    compressors=_array_compressor(),
                    fill_value=0,
                )
                shapes = np.zeros((self.n, data.ndim), dtype=np.int64)
            if data.ndim != len(data_array.shape) - 1 or data.shape[2:] != data_array.shape[3:]:
                raise WaiFormatError(
                    f"{where(scene=self.scene.name, frame=frame.name, file=str(frame.path(name)))}: modality "
                    f"'{name}' has shape {data.shape}, other frames have {data_array.shape[1:]}"
                )
            if data.shape[0] > data_array.shape[1] or data.shape[1] > data_array.shape[2]:
                raise WaiFormatError(
                    f"{where(scene=self.scene.name, frame=frame.name, file=str(frame.path(name)))}: modality "
                    f"'{name}' is {data.shape[1]}x{data.shape[0]}, larger than every camera of the scene"
                )
            if data.dtype != data_array.dtype:
                raise WaiFormatError(
                    f"{where(scene=self.scene.name, frame=frame.name, file=str(frame.path(name)))}: modality "
                    f"'{name}' decodes to {data.dtype}, other frames to {data_array.dtype}"
                )
            padded = np.zeros(data_array.shape[1:], dtype=data_array.dtype)
            padded[tuple(slice(0, n) for n in data.shape)] = data
            data_array[frame.index] = padded
            shapes[frame.index] = data.shape
        if data_array is None:  # no frame has it: an empty table
            shapes = np.zeros((self.n, 2), dtype=np.int64)
        self.group.create_array(f"{stored.group}/shape", data=shapes, chunks=shapes.shape or (1,))

    def _encoded(self, stored: StoredModality, name: str, frames: list[Any]) -> None:
        resize = self.resize and stored.format == "image"
        blobs_size = []
        for frame in frames:
            if resize:
                camera = self.cameras[frame.index]
                blobs_size.append(camera.width * camera.height * 3 + camera.height + _ENCODED_SLACK)
            else:
                blobs_size.append(frame.path(name).stat().st_size)
        row_length = max(blobs_size, default=1)
        array = self.group.create_array(
            f"{stored.group}/bytes",
            shape=(self.n, row_length),
            chunks=(1, row_length),
            dtype="uint8",
            compressors=_compressor(ZSTD_LEVEL_ENCODED),
            fill_value=0,
        )
        lengths = np.zeros(self.n, dtype=np.int64)
        for frame in frames:
            path = frame.path(name)
            if stored.format == "image":
                rgb = frame.load(name)  # decodes: a truncated or wrong-size image fails here, named
                camera = self.scene.camera(frame.index)
                if rgb.shape[:2] != camera.size:
                    raise WaiFormatError(
                        f"{where(scene=self.scene.name, frame=frame.name, file=str(path))}: image is "
                        f"{rgb.shape[1]}x{rgb.shape[0]} but the camera is {camera.width}x{camera.height}"
                    )
            if resize:
                target = self.cameras[frame.index]
                blob = resize_image_bytes(rgb, target.width, target.height, stored.suffix or ".png")
            else:
                blob = path.read_bytes()
            if len(blob) > row_length:
                raise WaiFormatError(
                    f"{where(scene=self.scene.name, frame=frame.name, file=str(path))}: the file changed while "
                    f"packing ({len(blob)} bytes, expected at most {row_length})"
                )
            row = np.zeros(row_length, dtype=np.uint8)
            row[: len(blob)] = np.frombuffer(blob, dtype=np.uint8)
            array[frame.index] = row
            lengths[frame.index] = len(blob)
        self.group.create_array(f"{stored.group}/length", data=lengths, chunks=(self.n,))

    def scene_modality(self, name: str) -> StoredModality:
        leaf = self.scene.scene_modality(name)
        path = self.scene.scene_modality_path(name)
        value = self.scene.load_scene_modality(name)  # fails here, named, for a broken file
        group = scene_group(name)
        if isinstance(value, np.ndarray):
            data = np.ascontiguousarray(value)
            self.group.create_array(
                f"{group}/data", data=data[None], chunks=(1, *data.shape), compressors=_array_compressor()
            )
            shape = np.asarray([data.shape], dtype=np.int64)
            self.group.create_array(f"{group}/shape", data=shape, chunks=shape.shape)
            return StoredModality(group, "array", leaf.format, path.suffix.lower())
        blob = np.frombuffer(path.read_bytes(), dtype=np.uint8)
        self.group.create_array(
            f"{group}/bytes", data=blob[None], chunks=(1, max(1, blob.size)), compressors=_compressor(1)
        )
        self.group.create_array(f"{group}/length", data=np.asarray([blob.size], dtype=np.int64), chunks=(1,))
        return StoredModality(group, "encoded", leaf.format, path.suffix.lower())

    def covisibility(self, version: str) -> None:
        matrix = np.ascontiguousarray(self.scene.covisibility(version), dtype=np.float32)
        rows = max(1, min(self.n, 1024))
        self.group.create_array(
            covisibility_array(version),
            data=matrix,
            chunks=(rows, self.n),
            compressors=_array_compressor(),
        )


def _per_pixel(format: str | None) -> bool:
    return format is not None and format in io.FORMATS and io.FORMATS[format].per_pixel


def meta_digest(scene_dir: Path, meta_name: str) -> str:
    """The SHA-256 of a scene's meta file: a store records it, so a rerun can tell that the source changed."""
    return hashlib.sha256((scene_dir / meta_name).read_bytes()).hexdigest()


def pack_scene(source: str | Path, store: str | Path, resolution: tuple[int, int] | None = None) -> PackInfo:
    """Pack the scene folder `source` into the store folder `store` (created; it may hold only a process log and a
    lock); `resolution` (W, H) pre-resizes every frame to cover it. Returns the store's `PackInfo`."""
    zarr = require_zarr()
    source, store = Path(source), Path(store)
    scene = open_scene(source)
    if not scene.storage.has_files:
        raise WaiFormatError(f"{where(scene=scene.name, file=str(source))}: already a packed store")
    if resolution is not None:
        meta, cameras = resized_meta(scene, resolution)
    else:
        meta, cameras = scene.meta, [scene.camera(i) for i in range(len(scene))]
    info = PackInfo(
        scene=scene.name,
        source=str(source.resolve()),
        source_meta_sha256=meta_digest(source, scene.meta_name),
        resolution=resolution,
        lossy=list(RESIZE_NOTES) if resolution is not None else [],
    )
    store.mkdir(parents=True, exist_ok=True)
    group = zarr.create_group(zarr.storage.LocalStore(store), attributes={INFO_KEY: info.to_json()})
    writer = _SceneWriter(scene, group, cameras, resize=resolution is not None)
    for name in scene.frame_modality_names:
        info.frames[name] = writer.frame_modality(name)
    for name in scene.scene_modality_names:
        info.scene_modalities[name] = writer.scene_modality(name)
    covis_root = source / "covisibility"
    versions = sorted(p.name for p in covis_root.iterdir() if p.is_dir()) if covis_root.is_dir() else []
    for version in versions:
        writer.covisibility(version)
        info.covisibility[version] = version
    info.complete = True
    _finish(store, info, meta)
    return info


def _finish(store: Path, info: PackInfo, meta: dict[str, Any]) -> None:
    """Write the root group metadata with the scene meta and ``complete: true``, atomically, as the last step."""
    root_path = store / ROOT_METADATA
    root = json.loads(root_path.read_text(encoding="utf-8"))
    root["attributes"] = {INFO_KEY: info.to_json(), META_KEY: meta}
    atomic_write_text(root_path, json.dumps(root, indent=2, ensure_ascii=False) + "\n")
