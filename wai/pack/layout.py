"""The packed scene store: one zarr (v3) group per scene, ``<store root>/<scene>.zarr``.

Group attributes:
    ``scene_meta``: the scene's `scene_meta.json`, verbatim except for the cameras of a pre-resized store.
    ``wai_pack``:   `PackInfo` as a dict: format version, completion marker, source, resolution, and the table that
                    maps every frame modality, scene modality and covisibility version to its store arrays.

Arrays (every per-frame array has one chunk per frame):
    ``frames/<modality>/data`` + ``shape``: decoded pixels (depth, masks, normals, scalar maps), (N, H, W[, C]) padded
        to the largest frame, in the dtype the codec returns (float32, bool), blosc lz4hc with byte shuffling (a
        half-float depth's zero low mantissa bytes cost almost nothing); ``shape`` (N, ndim) holds each frame's true
        shape (zeros: no data).
    ``frames/<modality>/bytes`` + ``length``: encoded files (images: the original PNG/JPEG bytes), (N, L) uint8 rows
        padded with zeros, zstd; ``length`` (N,) holds each file's byte count.
    ``scene/<modality>/data`` or ``bytes``: scene modalities, the same two ways (one row).
    ``covisibility/<version>``: the (N, N) float32 matrix.

A store is complete once ``wai_pack.complete`` is true: that root ``zarr.json`` is written last, atomically, and a
reader refuses a store without it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

from wai.errors import WaiError, WaiFormatError

FORMAT_VERSION = 1
STORE_SUFFIX = ".zarr"
INFO_KEY = "wai_pack"
META_KEY = "scene_meta"
ROOT_METADATA = "zarr.json"

#: How a modality is stored: decoded pixels ("array") or the encoded file bytes ("encoded").
Kind = Literal["array", "encoded"]
#: Formats stored as decoded arrays; every other format keeps its file bytes.
ARRAY_FORMATS: frozenset[str] = frozenset({"depth", "scalar", "normals", "binary"})
ZSTD_LEVEL_ENCODED = 1
PACK_HINT = "packed scene stores need zarr and fsspec: pip install 'wai-toolkit[pack]'"


@dataclasses.dataclass(frozen=True)
class StoredModality:
    """Where one modality lives in the store: its group, kind, codec name and the original file suffix."""

    group: str
    kind: Kind
    format: str | None
    suffix: str

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class PackInfo:
    """The ``wai_pack`` attribute of a store."""

    scene: str
    source: str
    source_meta_sha256: str
    resolution: tuple[int, int] | None = None
    complete: bool = False
    frames: dict[str, StoredModality] = dataclasses.field(default_factory=dict)
    scene_modalities: dict[str, StoredModality] = dataclasses.field(default_factory=dict)
    covisibility: dict[str, str] = dataclasses.field(default_factory=dict)
    lossy: list[str] = dataclasses.field(default_factory=list)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["resolution"] = list(self.resolution) if self.resolution else None
        return out

    @classmethod
    def from_json(cls, data: Any, location: str) -> PackInfo:
        """Parse the attribute; a store written by another format version or missing fields is an error."""
        if not isinstance(data, dict):
            raise WaiFormatError(
                f"packed store '{location}': no '{INFO_KEY}' attributes (not a wai pack store)"
            )
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise WaiFormatError(
                f"packed store '{location}': store format version {version!r}, this wai reads {FORMAT_VERSION}; "
                "pack the scene again"
            )
        try:
            resolution = data.get("resolution")
            return cls(
                scene=str(data["scene"]),
                source=str(data["source"]),
                source_meta_sha256=str(data["source_meta_sha256"]),
                resolution=tuple(resolution) if resolution else None,  # type: ignore[arg-type]
                complete=bool(data.get("complete")),
                frames={k: StoredModality(**v) for k, v in data["frames"].items()},
                scene_modalities={k: StoredModality(**v) for k, v in data["scene_modalities"].items()},
                covisibility=dict(data["covisibility"]),
                lossy=list(data.get("lossy", [])),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise WaiFormatError(
                f"packed store '{location}': malformed '{INFO_KEY}' attributes ({exc!r})"
            ) from exc


def frame_group(modality: str) -> str:
    """The store group of a frame modality (``pred_depth/moge2`` -> ``frames/pred_depth/moge2``)."""
    return f"frames/{modality}"


def scene_group(modality: str) -> str:
    return f"scene/{modality}"


def covisibility_array(version: str) -> str:
    return f"covisibility/{version}"


def require_zarr() -> Any:
    """Import zarr (and check fsspec) on first use, with a one-line install hint when they are missing."""
    try:
        import fsspec  # noqa: F401
        import zarr
    except ImportError as exc:
        raise WaiError(f"{PACK_HINT} ({exc})") from exc
    return zarr
