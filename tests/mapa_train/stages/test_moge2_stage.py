"""The MoGe-2 stage end to end on a small synthetic dataset with a tiny random model: reference paths, keys and
nesting, image-size outputs, validation, resume/overwrite, weight formats, and per-scene failures."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import wai
from cli.mapa_train_cli import main as mapa_train_main
from cli.stage_options import EXIT_WORK_LEFT
from cli.wai_cli import main as wai_main
from mapa_train.errors import MapaCheckpointError, MapaConfigError, MapaWeightsNotFoundError
from mapa_train.models.registry import build_model
from mapa_train.models.weights import save_pretrained
from mapa_train.stages.moge2 import (
    MoGe2StageConfig,
    load_moge2,
    moge2_stage,
    predict_moge2,
    reset_scene,
)
from wai.stages import ProcessLog, SceneLock

WIDTH, HEIGHT, FRAMES = 64, 48, 3
FAST = ["--num-tokens", "24", "--batch-size", "2"]
PATHS = {
    "pred_depth/moge2": ("moge2_depth", "depth", "moge/v0/depth/moge2/{}.exr"),
    "pred_mask/moge2": ("moge2_mask", "binary", "moge/v0/mask/moge2/{}.png"),
    "pred_normals/moge2": ("moge2_normals", "normals", "moge/v0/normals/moge2/{}.exr"),
}


def _tiny(normal_head: bool = True) -> torch.nn.Module:
    """A random tiny MoGe-2 whose mask head says 'valid' everywhere, so depth and normals are exercised."""
    torch.manual_seed(0)
    model = build_model("moge2_tiny", {"pred_head.normal_head": normal_head})
    last = model.mask_head.output_blocks[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(8.0)
    return model


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_pretrained(_tiny(), tmp_path_factory.mktemp("weights") / "moge2_tiny")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "data"
    args = ["convert", "synthetic", "--dst", str(root), "--num-scenes", "2"]
    args += [
        "--min-frames",
        str(FRAMES),
        "--max-frames",
        str(FRAMES),
        "--width",
        str(WIDTH),
        "--height",
        str(HEIGHT),
    ]
    result = CliRunner().invoke(wai_main, args)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def root(converted: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(converted, tmp_path / "data"))


def _predict(root: Path, weights: Path, *extra: str) -> object:
    return CliRunner().invoke(
        mapa_train_main, ["predict-moge2", str(root), "--weights", str(weights), *FAST, *extra]
    )


def test_outputs_follow_the_reference_layout_at_image_size(root: Path, weights: Path) -> None:
    # --resize 32 runs the model at 32x24 and must still write 64x48 files.
    result = _predict(root, weights, "--resize", "32", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "moge: 2 scenes" in result.output and "2 done" in result.output
    for scene_dir in sorted(root.iterdir()):
        meta = json.loads((scene_dir / "scene_meta.json").read_text())
        for modality, (key, fmt, _) in PATHS.items():
            group, method = modality.split("/")
            assert meta["frame_modalities"][group] == {method: {"frame_key": key, "format": fmt}}
        assert ProcessLog(scene_dir).read()["moge"]["state"] == "finished"
        scene = wai.open_scene(scene_dir)
        assert len(scene.frames) == FRAMES
        for frame in scene.frames:
            for key, _, pattern in PATHS.values():
                assert frame.raw[key] == pattern.format(frame.name)
                assert (scene_dir / frame.raw[key]).is_file()
            depth = frame.load("pred_depth/moge2")
            mask = frame.load("pred_mask/moge2")
            normals = frame.load("pred_normals/moge2")
            assert depth.shape == mask.shape == (HEIGHT, WIDTH) == frame.image.shape[:2]
            assert normals.shape == (HEIGHT, WIDTH, 3)
            assert depth.dtype == np.float32 and np.isfinite(depth).all() and (depth >= 0).all()
            assert mask.dtype == bool and mask.any()
            assert (depth[mask] > 0).all() and (depth[~mask] == 0).all()
            np.testing.assert_allclose(np.linalg.norm(normals[mask], axis=-1), 1.0, atol=1e-5)
    check = CliRunner().invoke(wai_main, ["validate", "--deep", "--workers", "1", str(root)])
    assert check.exit_code == 0, check.output


def test_rerun_skips_finished_scenes_and_overwrite_redoes_them(root: Path, weights: Path) -> None:
    assert _predict(root, weights).exit_code == 0
    again = _predict(root, weights)
    assert again.exit_code == 0 and "0 done, 2 skipped" in again.output and "already finished" in again.output
    scene_dir = sorted(root.iterdir())[0]
    stray = scene_dir / "moge" / "v0" / "depth" / "moge2" / "left_over.exr"
    stray.write_bytes(b"old run")
    redo = _predict(root, weights, "--overwrite")
    assert redo.exit_code == 0 and "2 done" in redo.output
    assert not stray.exists()  # reset cleared moge/v0 before the redo
    frame = wai.open_scene(scene_dir).frames[0]
    assert frame.load("pred_depth/moge2").shape == (HEIGHT, WIDTH)


def test_a_scene_locked_by_another_job_is_work_left(root: Path, weights: Path) -> None:
    locked, other = sorted(root.iterdir())
    with SceneLock(locked):
        result = _predict(root, weights)
    assert result.exit_code == EXIT_WORK_LEFT == 3, result.output
    assert f"not finished: 1 scene locked by another job ({locked.name})" in result.output
    assert ProcessLog(other).read()["moge"]["state"] == "finished"
    again = _predict(root, weights)
    assert again.exit_code == 0, again.output
    assert "1 done, 1 skipped" in again.output


def test_missing_weights_is_a_clear_error(root: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.pt"
    result = _predict(root, missing)
    assert result.exit_code != 0
    assert "MoGe-2 weights not found" in result.output and str(missing) in result.output
    assert not (sorted(root.iterdir())[0] / "moge").exists()
    with pytest.raises(MapaWeightsNotFoundError, match="weights not found"):
        predict_moge2(root, missing, progress=False)


def test_distorted_scene_fails_and_the_other_finishes(root: Path, weights: Path) -> None:
    distorted, other = sorted(root.iterdir())
    meta_path = distorted / "scene_meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update(camera_model="OPENCV", k1=0.05, k2=0.0, p1=0.0, p2=0.0)
    meta_path.write_text(json.dumps(meta))
    result = _predict(root, weights)
    assert result.exit_code == 1
    assert "1 done" in result.output and "1 failed" in result.output
    assert (
        f"{distorted.name}: WaiCameraError" in result.output and "undistort the scene first" in result.output
    )
    assert ProcessLog(distorted).read()["moge"]["state"] == "failed"
    assert ProcessLog(other).read()["moge"]["state"] == "finished"
    assert not (distorted / "moge").exists()


def test_model_without_normal_head_writes_no_normals(root: Path, tmp_path: Path) -> None:
    folder = save_pretrained(_tiny(normal_head=False), tmp_path / "no_normals")
    report = predict_moge2(root, folder, device="cpu", num_tokens=24, progress=False)
    assert report.ok and len(report.done) == 2
    scene_dir = sorted(root.iterdir())[0]
    scene = wai.open_scene(scene_dir)
    assert "pred_normals" not in scene.meta["frame_modalities"]
    assert "pred_depth/moge2" in scene.frame_modality_names
    assert not (scene_dir / "moge" / "v0" / "normals").exists()


def test_reset_removes_the_folder_and_the_meta_entries(root: Path, weights: Path) -> None:
    assert predict_moge2(root, weights, num_tokens=24, progress=False).ok
    scene_dir = sorted(root.iterdir())[0]
    reset_scene(scene_dir)
    assert not (scene_dir / "moge").exists()
    scene = wai.open_scene(scene_dir)
    assert set(scene.meta["frame_modalities"]) == {"image", "depth", "mask"}
    assert not any(key.startswith("moge2_") for frame in scene.meta["frames"] for key in frame)
    check = CliRunner().invoke(wai_main, ["validate", "--workers", "1", str(scene_dir)])
    assert check.exit_code == 0, check.output


def test_official_checkpoint_file_loads_into_the_named_variant(tmp_path: Path) -> None:
    source = _tiny()
    path = tmp_path / "model.pt"
    torch.save(
        {"model_config": {"note": "official files carry their config"}, "model": source.state_dict()}, path
    )
    loaded = load_moge2(path, "moge2_tiny", "cpu")
    for name, tensor in source.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor)
    assert not loaded.training
    assert load_moge2(tmp_path, "moge2_tiny").config.name == "moge2_tiny"  # a folder holding model.pt
    with pytest.raises(MapaConfigError, match="not a MoGe-2 variant"):
        load_moge2(path, "vggt_tiny")


def test_bad_settings_fail_before_any_scene(root: Path, weights: Path) -> None:
    with pytest.raises(MapaConfigError, match="not a MoGe-2 variant"):
        predict_moge2(root, weights, model_name="pi3_tiny", progress=False)
    with pytest.raises(MapaConfigError, match="batch_size"):
        predict_moge2(root, weights, batch_size=0, progress=False)
    result = _predict(root, weights, "--device", "tpu-9")
    assert result.exit_code != 0 and "not a torch device" in result.output
    assert not (sorted(root.iterdir())[0] / "moge").exists()


def test_stage_is_picklable_for_workers(weights: Path) -> None:
    stage = moge2_stage(MoGe2StageConfig(weights=weights, num_tokens=24))
    clone = pickle.loads(pickle.dumps(stage))
    assert clone.name == "moge" and clone.requires == ("conversion",)
    assert clone.process.keywords["config"] == stage.process.keywords["config"]


def test_cli_module_stays_light() -> None:
    """The command imports torch only when it runs, so `mapa-train --help` stays fast."""
    code = "import sys, cli.mapa_train_cli; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("model.pt", b"\x00garbage, not a torch file", "torch.load"),
        ("model.safetensors", b"\xff" * 64, "safetensors"),
    ],
)
def test_an_unreadable_weight_file_is_reported_once_before_any_scene(
    root: Path, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    result = _predict(root, bad, "--model", "moge2_tiny")
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: MoGe-2 weights:"), result.output
    assert str(bad) in lines[0] and reason in lines[0]
    assert "expected a folder written by save_pretrained, or an official MoGe-2 model.pt" in lines[0]
    for scene in root.iterdir():
        assert not (scene / "moge").exists() and "moge" not in ProcessLog(scene).read()


def test_a_weight_file_of_another_architecture_is_reported_before_any_scene(
    root: Path, tmp_path: Path
) -> None:
    path = tmp_path / "model.pt"
    torch.save({"model": _tiny(normal_head=False).state_dict()}, path)
    with pytest.raises(
        MapaCheckpointError, match=r"do not fit the moge2_tiny model \(.*missing: normal_head"
    ):
        predict_moge2(root, path, model_name="moge2_tiny", progress=False)
    folder = save_pretrained(build_model("pi3_tiny"), tmp_path / "pi3")
    with pytest.raises(MapaCheckpointError, match="the folder holds a pi3 model"):
        predict_moge2(root, folder, progress=False)
    assert not any((scene / "moge").exists() for scene in root.iterdir())
