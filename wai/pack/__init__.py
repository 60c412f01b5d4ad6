"""Packed scene stores: one zarr (v3) group per scene, read through the same `wai.Scene` interface as a folder.

    from wai.pack import run_pack
    run_pack("data/synthetic", "stores/synthetic", resolution=(518, 392))   # or: wai pack data/synthetic --out ...
    scene = wai.open_scene("stores/synthetic/room_000.zarr")                # or an fsspec URL: s3://..., file://...

Importing this package is light: zarr and fsspec (the `pack` extra) are imported on first use.
"""

from wai.pack.layout import FORMAT_VERSION, STORE_SUFFIX, PackInfo, StoredModality
from wai.pack.reader import PackedStorage, open_packed_scene
from wai.pack.resize import covering_size, parse_resolution
from wai.pack.stage import STAGE_NAME, run_pack, source_scenes
from wai.pack.writer import pack_scene

__all__ = [
    "FORMAT_VERSION",
    "STAGE_NAME",
    "STORE_SUFFIX",
    "PackInfo",
    "PackedStorage",
    "StoredModality",
    "covering_size",
    "open_packed_scene",
    "pack_scene",
    "parse_resolution",
    "run_pack",
    "source_scenes",
]
