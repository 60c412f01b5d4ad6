"""The leading keys of a `scene_meta.json` that a converter writes itself (rather than through `SceneWriter`), in
the reference's order, so that every such converter starts its file the same way."""

from __future__ import annotations

from typing import Any

from wai.scene.meta import FORMAT_VERSION


def scene_meta_header(
    scene: str, dataset_name: str, *, camera_model: Any, scale_type: str, shared_intrinsics: bool = True
) -> dict[str, Any]:
    """``scene_name``, ``dataset_name``, ``version``, ``last_modified`` (None until written), ``shared_intrinsics``,
    ``camera_model``, ``camera_convention`` (always OpenCV) and ``scale_type``, in that order."""
    return {
        "scene_name": scene,
        "dataset_name": dataset_name,
        "version": FORMAT_VERSION,
        "last_modified": None,
        "shared_intrinsics": shared_intrinsics,
        "camera_model": camera_model,
        "camera_convention": "opencv",
        "scale_type": scale_type,
    }
