"""The scene_meta.json header that converters writing their own meta start with."""

from __future__ import annotations

from wai.scene.meta import FORMAT_VERSION
from wai_converters.meta_header import scene_meta_header


def test_header_keys_values_and_order() -> None:
    header = scene_meta_header(
        "s0", "mpsd", camera_model="PINHOLE", scale_type="metric", shared_intrinsics=False
    )
    assert list(header.items()) == [
        ("scene_name", "s0"),
        ("dataset_name", "mpsd"),
        ("version", FORMAT_VERSION),
        ("last_modified", None),
        ("shared_intrinsics", False),
        ("camera_model", "PINHOLE"),
        ("camera_convention", "opencv"),
        ("scale_type", "metric"),
    ]
    assert scene_meta_header("s1", "x", camera_model=None, scale_type="colmap")["shared_intrinsics"] is True
