"""The runner feeds only the GT inputs a task allows, and picks the precision per device."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from mapa_train.benchmark.runner import autocast_for, load_model, model_inputs
from mapa_train.errors import MapaCheckpointError, MapaConfigError


def _set_views(n: int = 2) -> list[dict]:
    view = {
        "img": np.zeros((3, 4, 6), np.float32),
        "is_metric_scale": True,
        "ray_directions_cam": np.zeros((4, 6, 3), np.float32),
        "depth_along_ray": np.ones((4, 6, 1), np.float32),
        "camera_pose_quats": np.array([0, 0, 0, 1], np.float32),
        "camera_pose_trans": np.zeros(3, np.float32),
        "pts3d": np.zeros((4, 6, 3), np.float32),  # GT that must never reach the model
    }
    return [dict(view) for _ in range(n)]


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("images_only", {"img", "is_metric_scale"}),
        ("calibrated_sfm", {"img", "is_metric_scale", "ray_directions_cam"}),
        ("posed_sfm", {"img", "is_metric_scale", "camera_pose_quats", "camera_pose_trans"}),
        ("mvs", {"img", "is_metric_scale", "ray_directions_cam", "camera_pose_quats", "camera_pose_trans"}),
        ("registration_sparse", {"img", "is_metric_scale", "ray_directions_cam", "depth_along_ray"}),
    ],
)
def test_only_the_task_inputs_reach_the_model(task, expected):
    views = model_inputs([_set_views(), _set_views()], task, torch.device("cpu"))
    assert len(views) == 2
    for view in views:
        assert set(view) == expected
        assert view["img"].shape == (2, 3, 4, 6)


def test_precision_per_device():
    assert isinstance(autocast_for(torch.device("cpu"), "auto"), contextlib.nullcontext)
    assert isinstance(autocast_for(torch.device("cpu"), "fp32"), contextlib.nullcontext)
    ctx = autocast_for(torch.device("cpu"), "bf16")
    assert isinstance(ctx, torch.autocast) and ctx.fast_dtype == torch.bfloat16


def test_model_from_checkpoint_folder(tmp_path):
    from mapa_train.models.registry import build_model
    from mapa_train.models.weights import save_pretrained

    model = build_model("pi3_tiny")
    save_pretrained(model, tmp_path / "ft")
    loaded, label = load_model(str(tmp_path / "ft"))
    assert label == "ft"
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(MapaConfigError, match="neither a registered model"):
        load_model(str(tmp_path / "missing"))


def test_model_from_trainer_checkpoint(tmp_path):
    from mapa_train.models.registry import build_model
    from mapa_train.train.checkpoint import TrainState, save_model_checkpoint

    model = build_model("vggt_tiny")
    config = "model:\n  name: vggt_tiny\n  overrides: {}\n"
    folder = save_model_checkpoint(tmp_path / "stage1", "final", model, TrainState(step=3), config)
    loaded, label = load_model(str(folder))
    assert label == "stage1_final"
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_registered_model_with_a_weights_file(tmp_path):
    from safetensors.torch import save_file

    from mapa_train.models.registry import build_model

    torch.manual_seed(5)
    model = build_model("pi3_tiny")
    save_file(model.state_dict(), str(tmp_path / "w.safetensors"))
    loaded, label = load_model("pi3_tiny", tmp_path / "w.safetensors")
    assert label == "pi3_tiny"
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    save_file({"not.a.key": torch.zeros(2)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(MapaCheckpointError, match="bad.safetensors"):
        load_model("pi3_tiny", tmp_path / "bad.safetensors")
