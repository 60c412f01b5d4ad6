"""The two tables of the parquet index, and what we know about the reference's datasets.

``scenes``: one row per scene (dataset, scene, root, split, frame count, resolution, camera model, metric and
synthetic flags, modalities, covisibility statistics, and the `scene_meta.json` signature that incremental
updates compare). ``frames``: one row per frame (dataset, scene, frame name and index, size, camera model and
pinhole coefficients, pose translation, the modalities the frame has a file for).
"""

from __future__ import annotations

import pyarrow as pa

_STRINGS = pa.list_(pa.string())

SCENES_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("scene", pa.string()),
        ("root", pa.string()),
        ("split", pa.string()),  # train / val / test from the split lists in the same META folder, else null
        ("frames", pa.int32()),
        ("width", pa.int32()),  # the most common frame size
        ("height", pa.int32()),
        ("resolutions", _STRINGS),  # every "WxH" that occurs
        ("camera_model", pa.string()),  # the most common camera model
        ("camera_models", _STRINGS),
        ("scale_type", pa.string()),
        ("metric", pa.bool_()),
        ("synthetic", pa.bool_()),  # null where unknown
        ("frame_modalities", _STRINGS),
        ("scene_modalities", _STRINGS),
        ("covisibility", pa.string()),  # the matrix' path relative to the scene, null if none
        ("covis_threshold", pa.float32()),
        ("covis_mean_degree", pa.float32()),  # neighbours per frame above the threshold
        ("covis_components", pa.int32()),  # connected components of the (undirected) neighbour graph
        ("covis_isolated", pa.int32()),  # frames with no neighbour at all
        ("meta_mtime_ns", pa.int64()),
        ("meta_size", pa.int64()),
    ]
)

FRAMES_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("scene", pa.string()),
        ("frame", pa.string()),
        ("index", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("camera_model", pa.string()),
        ("fx", pa.float64()),
        ("fy", pa.float64()),
        ("cx", pa.float64()),
        ("cy", pa.float64()),
        ("tx", pa.float64()),  # camera centre (cam2world translation)
        ("ty", pa.float64()),
        ("tz", pa.float64()),
        ("modalities", _STRINGS),  # frame modalities this frame has a file for
    ]
)

#: (metric, synthetic) of the reference's datasets, as its training dataset classes set them.
DATASET_FLAGS: dict[str, tuple[bool, bool]] = {
    "ase": (True, True),
    "blendedmvs": (False, False),
    "dl3dv": (False, False),
    "dynamicreplica": (True, True),
    "megadepth": (False, False),
    "mpsd": (True, False),
    "mvs_synth": (True, True),
    "paralleldomain4d": (True, True),
    "sailvos3d": (True, True),
    "scannetppv2": (True, False),
    "spring": (True, True),
    "tav2_wb": (True, True),
    "unrealstereo4k": (True, True),
    "eth3d": (True, False),
    "aerialmegadepth": (True, False),
}
