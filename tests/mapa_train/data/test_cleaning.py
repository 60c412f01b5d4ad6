"""Dataset rows' masking and cleaning rules, missing modalities, and bad data (NaN depth, missing or truncated
frames) handled and counted."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest

import wai
from mapa_train.data.cleaning import MissingModalityWarner, read_clean_view
from mapa_train.data.dataset import MixedDataset, SceneDataset
from mapa_train.data.rows import ROWS, TRAINING_13, get_row
from mapa_train.errors import MapaDataError, MapaUnknownNameError
from wai.io.exr import write_exr


def add_moge_masks(scene_dir: Path) -> None:
    scene = wai.open_scene(scene_dir)
    for frame in scene.frames:
        mask = np.zeros(frame.depth.shape, dtype=bool)
        mask[:, : mask.shape[1] // 2] = True
        scene.write_frame_modality("pred_mask/moge2", frame.index, mask, format="binary")
    scene.save_meta()


def test_rows_cover_the_reference_table() -> None:
    assert len(TRAINING_13) == 13 and set(TRAINING_13) <= set(ROWS)
    assert get_row("scannetppv2").depth == "rendered_depth"
    dl3dv = get_row("dl3dv")
    assert dl3dv.depth == "pred_depth/mvsanywhere" and dl3dv.covisibility_version == "v0_mvsa_based"
    assert dl3dv.confidence == "depth_confidence/mvsanywhere" and dl3dv.confidence_threshold == 0.25
    assert get_row("mpsd").covisibility_threshold == 0.15 and get_row("eth3d").covisibility_threshold == 0.025
    assert [n for n in TRAINING_13 if get_row(n).metric is False] == ["blendedmvs", "dl3dv", "megadepth"]
    assert {n for n in TRAINING_13 if get_row(n).clip_percentile} == {
        "mvs_synth",
        "paralleldomain4d",
        "sailvos3d",
        "tav2_wb",
        "unrealstereo4k",
    }
    with pytest.raises(MapaUnknownNameError, match="known: "):
        get_row("nope")


def test_moge2_mask_zeroes_depth_and_is_the_non_ambiguous_mask(synthetic_copy: Path) -> None:
    scene_dir = synthetic_copy / "room_000"
    add_moge_masks(scene_dir)
    frame = wai.open_scene(scene_dir).frames[0]
    clean = read_clean_view(frame, get_row("blendedmvs"), "room_000", MissingModalityWarner())
    half = frame.depth.shape[1] // 2
    assert np.all(clean.depth[:, half:] == 0)
    np.testing.assert_array_equal(clean.depth[:, :half], frame.depth[:, :half])
    np.testing.assert_array_equal(clean.non_ambiguous, frame.load("pred_mask/moge2"))
    data = MixedDataset(
        [(SceneDataset(get_row("blendedmvs"), synthetic_copy, ["room_000"]), 2)],
        num_views=2,
        resolutions=[(112, 84)],
    )
    view = data[(0, 0, 0)][0]
    assert view["is_metric_scale"] is False and view["dataset"] == "BlendedMVS"


def test_missing_mask_warns_once_per_scene_and_counts(
    synthetic_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ds = SceneDataset(get_row("blendedmvs"), synthetic_root, wai.list_scenes(synthetic_root))
    data = MixedDataset([(ds, 4)], num_views=3, resolutions=[(112, 84)])
    with caplog.at_level(logging.WARNING, logger="mapa_train.data.cleaning"):
        views = [data[(i, 0, 0)] for i in range(4)]
    warnings = [r for r in caplog.records if "pred_mask/moge2" in r.getMessage()]
    assert len(warnings) == 2  # two scenes, one warning each
    assert data.stats.skipped_rules == 12  # every frame read skipped the rule
    assert all(v["non_ambiguous_mask"].all() for vs in views for v in vs)
    strict = dataclasses.replace(get_row("blendedmvs"), on_missing="error")
    frame = wai.open_scene(synthetic_root / "room_000").frames[1]
    with pytest.raises(MapaDataError, match=r"scene 'room_000', frame '000001'.*pred_mask/moge2"):
        read_clean_view(frame, strict, "room_000", MissingModalityWarner())


def test_percentile_clip_after_and_before_the_mask(synthetic_copy: Path) -> None:
    scene_dir = synthetic_copy / "room_000"
    frame = wai.open_scene(scene_dir).frames[0]
    raw = frame.depth
    p = np.percentile(raw, 95)
    clean = read_clean_view(frame, get_row("mvs_synth"), "room_000", MissingModalityWarner())
    np.testing.assert_array_equal(clean.depth, np.where(raw > p, 0, raw))
    # The mask was taken before the clip: clipped pixels stay non-ambiguous but invalid.
    np.testing.assert_array_equal(clean.non_ambiguous, raw > 0)
    assert np.count_nonzero(clean.non_ambiguous & (clean.depth == 0)) > 0
    add_moge_masks(scene_dir)
    frame = wai.open_scene(scene_dir).frames[0]
    tav2 = read_clean_view(frame, get_row("tav2_wb"), "room_000", MissingModalityWarner())
    mask = frame.load("pred_mask/moge2")
    np.testing.assert_array_equal(tav2.depth, np.where((raw > p) | ~mask, 0, raw))


def nan_depth(scene_dir: Path, frame_index: int) -> int:
    frame = wai.open_scene(scene_dir).frames[frame_index]
    depth = frame.depth.copy()
    depth[:10, :10] = np.nan
    write_exr(frame.path("depth"), depth, "float32")
    return 100


def test_nan_depth_is_zeroed_and_counted(synthetic_copy: Path) -> None:
    scene_dir = synthetic_copy / "room_000"
    for i in range(6):
        nan_depth(scene_dir, i)
    data = MixedDataset(
        [(SceneDataset(get_row("synthetic"), synthetic_copy, ["room_000"]), 2)],
        num_views=6,
        resolutions=[(112, 84)],
    )
    views = data[(0, 0, 0)]
    assert views[0]["nonfinite_depth"] == 600 and data.stats.nonfinite_depth == 600
    assert all(np.isfinite(v["depthmap"]).all() and np.isfinite(v["pts3d"]).all() for v in views)
    # ETH3D keeps the reference's rule (no nan_to_num): a NaN is an error of the sample, retried elsewhere.
    eth = MixedDataset(
        [(SceneDataset(get_row("eth3d"), synthetic_copy, ["room_000", "objects_001"]), 2)],
        num_views=3,
        resolutions=[(112, 84)],
        seed=1,
    )
    for i in range(2):
        assert eth[(i, 0, 0)][0]["label"] == "objects_001"
    assert eth.stats.retries >= 1


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_broken_frames_are_retried_logged_and_counted(
    synthetic_copy: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    scene_dir = synthetic_copy / "room_000"
    for path in sorted((scene_dir / "images").iterdir()):
        if damage == "missing":
            path.unlink()
        else:
            blob = path.read_bytes()
            path.write_bytes(blob[: len(blob) // 2])
    ds = SceneDataset(get_row("synthetic"), synthetic_copy, ["objects_001", "room_000"])
    data = MixedDataset([(ds, 6)], num_views=3, resolutions=[(112, 84)], seed=3)
    with caplog.at_level(logging.WARNING, logger="mapa_train.data.dataset"):
        labels = [data[(i, 0, 0)][0]["label"] for i in range(6)]
    assert set(labels) == {"objects_001"}
    assert data.stats.retries >= 3 and data.stats.failed == 0
    messages = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert messages and all("scene 'room_000', frame '" in m for m in messages)
    # Every scene broken: the last error is raised after max_retries, and counted.
    only_broken = MixedDataset(
        [(SceneDataset(get_row("synthetic"), synthetic_copy, ["room_000"]), 1)],
        num_views=2,
        resolutions=[(112, 84)],
        max_retries=2,
    )
    with pytest.raises(MapaDataError, match="scene 'room_000', frame"):
        only_broken[(0, 0, 0)]
    assert only_broken.stats.retries == 2 and only_broken.stats.failed == 1
