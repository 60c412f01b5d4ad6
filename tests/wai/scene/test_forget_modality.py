"""`forget_modality` undoes `nest_modality` for one method and leaves the others alone."""

from __future__ import annotations

from wai.scene.modalities import forget_modality, nest_modality


def _meta() -> dict:
    tree = {"pred_depth": {"frame_key": "metric3dv2_depth", "format": "depth"}}
    nest_modality(tree, "pred_depth", "moge2", {"frame_key": "moge2_depth", "format": "depth"})
    frames = [{"frame_name": "a", "moge2_depth": "x.exr", "metric3dv2_depth": "y.exr"}, {"frame_name": "b"}]
    return {"frames": frames, "frame_modalities": tree}


def test_forget_one_method_keeps_the_other() -> None:
    meta = _meta()
    assert forget_modality(meta, "pred_depth", "moge2", "moge2_depth")
    assert meta["frame_modalities"] == {
        "pred_depth": {"metric3dv2": {"frame_key": "metric3dv2_depth", "format": "depth"}}
    }
    assert meta["frames"][0] == {"frame_name": "a", "metric3dv2_depth": "y.exr"}
    assert not forget_modality(meta, "pred_depth", "moge2", "moge2_depth")  # nothing left to drop


def test_last_method_removes_the_group_and_a_flat_leaf_goes_by_frame_key() -> None:
    meta = _meta()
    forget_modality(meta, "pred_depth", "moge2", "moge2_depth")
    assert forget_modality(meta, "pred_depth", "metric3dv2", "metric3dv2_depth")
    assert meta["frame_modalities"] == {}
    flat = {"frames": [], "frame_modalities": {"pred_depth": {"frame_key": "moge2_depth", "format": "depth"}}}
    assert forget_modality(flat, "pred_depth", "moge2", "moge2_depth") and flat["frame_modalities"] == {}
