"""`wai covis`: where and how the matrix is written, the reference readers, bad input, and a kill mid-write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from metadata.covisibility import (
    PARAMS_FILE,
    compute_scene_covisibility,
    covisibility_stage,
    load_covisibility,
    resolve_config,
)
from metadata.view_sampling import sample_views
from tests.metadata.test_covisibility import pinhole, pose, wall_depth
from wai.camera import Camera, CameraModel
from wai.errors import WaiFormatError
from wai.stages import ProcessLog, StageState, run_stage

W, H = 32, 24


def write_scene(
    scene_dir: Path, n: int = 4, *, dataset: str = "unit", camera: Camera | None = None, depth: bool = True
) -> Path:
    cam = camera or pinhole(W, H, 20.0)
    with wai.SceneWriter(scene_dir, dataset_name=dataset, camera=cam) as writer:
        for k in range(n):
            c2w = pose(0.3 * k, 0, 0)
            data = {"depth": wall_depth(pinhole(W, H, 20.0), c2w, 3.0)} if depth else {}
            writer.add_frame(f"{k:04d}", c2w, image=np.zeros((H, W, 3), np.uint8), **data)
    return scene_dir


def reference_mmap_read(scene_dir: Path, version: str = "v0") -> np.ndarray:
    """The reference's loader: the first .npy listed, float32 at byte offset 128, the shape from the name."""
    folder = scene_dir / "covisibility" / version
    name = next(f for f in os.listdir(folder) if f.endswith(".npy"))
    dims = tuple(int(d) for d in Path(name).stem.split("--")[1].replace(",", "x").split("x"))
    return np.memmap(folder / name, dtype=np.float32, mode="r", offset=128, shape=dims)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_writes_the_matrix_where_the_reference_reads_it(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_scene(root / "s1", 4)
    write_scene(root / "s2", 3)
    code, out = invoke("covis", str(root))
    assert code == 0, out
    assert "2 done" in out
    for name, n in (("s1", 4), ("s2", 3)):
        scene_dir = root / name
        assert sorted(p.name for p in (scene_dir / "covisibility/v0").iterdir()) == [
            f"pairwise_covisibility--{n}x{n}.npy",
            PARAMS_FILE,
        ]
        mapped = reference_mmap_read(scene_dir)
        np.testing.assert_array_equal(
            mapped, np.load(scene_dir / f"covisibility/v0/pairwise_covisibility--{n}x{n}.npy")
        )
        np.testing.assert_array_equal(mapped, load_covisibility(scene_dir))
        assert np.all(np.diag(mapped) > 0.9)
        meta = json.loads((scene_dir / "scene_meta.json").read_text())
        assert meta["scene_modalities"]["pairwise_covisibility"] == {
            "scene_key": f"covisibility/v0/pairwise_covisibility--{n}x{n}.npy",
            "format": "mmap",
        }
        params = json.loads((scene_dir / "covisibility/v0" / PARAMS_FILE).read_text())
        assert params["config"]["name"] == "gt_depth" and params["frame_count"] == n
        assert params["config"]["params"]["abs_thres"] == 0.1 and params["depth_modality"] == "depth"
        assert ProcessLog(scene_dir).read()["covisibility"]["state"] == "finished"
        assert len(sample_views(mapped, 2, 0)) == 2
    # Rerun: finished scenes are skipped; --overwrite redoes them.
    code, out = invoke("covis", str(root))
    assert code == 0 and "2 skipped" in out
    code, out = invoke("covis", str(root), "--overwrite", "--scenes", "s2")
    assert code == 0 and "1 done" in out
    code, out = invoke("validate", str(root), "--deep")
    assert code == 0, out
    code, out = invoke("covis", str(root), "--scenes", "s1,nope")
    assert code == 2 and "nope" in out and not (root / "nope").exists()


def test_scene_modalities_created_when_missing_and_old_sizes_removed(tmp_path: Path) -> None:
    scene_dir = write_scene(tmp_path / "s", 5)
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    del meta["scene_modalities"]
    (scene_dir / "scene_meta.json").write_text(json.dumps(meta))
    stale = scene_dir / "covisibility/v0/pairwise_covisibility--3x3.npy"
    stale.parent.mkdir(parents=True)
    np.save(stale, np.eye(3, dtype=np.float32))
    result = compute_scene_covisibility(scene_dir)
    assert [p.name for p in stale.parent.glob("*.npy")] == ["pairwise_covisibility--5x5.npy"]
    assert result.path == stale.parent / "pairwise_covisibility--5x5.npy"
    assert "pairwise_covisibility" in wai.open_scene(scene_dir).meta["scene_modalities"]


def test_auto_config_per_dataset() -> None:
    assert resolve_config("auto", "eth3d").target_size == (224, 224)
    assert resolve_config("auto", "scannetppv2").depth_modalities[0] == "rendered_depth"
    dl3dv = resolve_config("auto", "dl3dv")
    assert dl3dv.name == "pred_depth_mvsa" and dl3dv.out_path == "covisibility/v0_mvsa_based"
    assert dl3dv.depth_modalities == ("pred_depth/mvsanywhere",)
    assert resolve_config("auto", "blendedmvs").params.abs_thres == 0.5
    assert resolve_config("auto", "somethingelse").name == "gt_depth"
    with pytest.raises(WaiFormatError, match="unknown covisibility config"):
        resolve_config("nope")


def test_scannetpp_reads_rendered_depth(tmp_path: Path) -> None:
    scene_dir = write_scene(tmp_path / "s", 3, dataset="scannetppv2", depth=False)
    scene = wai.open_scene(scene_dir)
    for frame in scene.frames:
        scene.write_frame_modality(
            "rendered_depth", frame.name, wall_depth(frame.camera, frame.cam2world, 3.0), format="depth"
        )
    scene.save_meta()
    result = compute_scene_covisibility(scene_dir)
    assert result.depth_modality == "rendered_depth" and result.config.name == "gt_depth"


def test_dl3dv_mvs_matrix_goes_where_its_loader_looks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    scene_dir = write_scene(root / "s", 3, dataset="dl3dv", depth=False)
    scene = wai.open_scene(scene_dir)
    for frame in scene.frames:
        scene.write_frame_modality(
            "pred_depth/mvsanywhere",
            frame.name,
            wall_depth(frame.camera, frame.cam2world, 3.0),
            format="depth",
        )
    scene.save_meta()
    # The named config requires the mvsanywhere stage, as the reference's filter does.
    report = run_stage(covisibility_stage("pred_depth_mvsa"), root, progress=False)
    assert report.outcome("s").state == "skipped" and "mvsanywhere" in report.outcome("s").reason
    ProcessLog(scene_dir).set("mvsanywhere", StageState.FINISHED)
    report = run_stage(covisibility_stage("pred_depth_mvsa"), root, progress=False)
    assert report.ok and len(report.done) == 1
    assert not (scene_dir / "covisibility/v0").exists()
    mapped = reference_mmap_read(scene_dir, "v0_mvsa_based")
    assert mapped.shape == (3, 3) and np.all(np.diag(mapped) > 0.9)
    meta = json.loads((scene_dir / "scene_meta.json").read_text())
    assert meta["scene_modalities"]["pairwise_covisibility"]["scene_key"].startswith(
        "covisibility/v0_mvsa_based/"
    )


def test_bad_scenes_fail_with_clear_errors_and_are_counted(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_scene(root / "good", 3)
    write_scene(root / "no_depth", 3, depth=False)
    distorted = Camera(
        CameraModel.OPENCV, W, H, {"fl_x": 20.0, "fl_y": 20.0, "cx": 15.5, "cy": 11.5, "k1": -0.1}
    )
    write_scene(root / "distorted", 3, camera=distorted)
    corrupt = write_scene(root / "corrupt", 3)
    exr = corrupt / "depth/0001.exr"
    exr.write_bytes(exr.read_bytes()[:40])
    code, out = invoke("covis", str(root))
    assert code == 1
    assert "1 done, 0 skipped, 3 failed" in out
    lines = {line.split(":")[0].strip(): line for line in out.splitlines() if line.startswith("  ")}
    assert (
        "no_depth" in lines["no_depth"]
        and "frame_modalities" in lines["no_depth"]
        and "depth" in lines["no_depth"]
    )
    assert (
        "frame '0000'" in lines["distorted"]
        and "camera_model" in lines["distorted"]
        and "OPENCV" in lines["distorted"]
    )
    assert "frame '0001'" in lines["corrupt"] and "depth/0001.exr" in lines["corrupt"]
    assert ProcessLog(root / "corrupt").read()["covisibility"]["state"] == "failed"
    assert not (root / "corrupt/covisibility/v0").exists() or not list(
        (root / "corrupt/covisibility/v0").glob("*.npy")
    )


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[:150]), "truncated"),
        (lambda p: p.write_bytes(b"not an npy file at all" * 10), "not a valid .npy"),
        (lambda p: p.rename(p.with_name("pairwise_covisibility--7x7.npy")), "name says shape"),
    ],
)
def test_a_corrupt_matrix_is_a_clear_error_naming_scene_and_file(
    tmp_path: Path, damage, message: str
) -> None:
    scene_dir = write_scene(tmp_path / "s", 4)
    path = compute_scene_covisibility(scene_dir).path
    damage(path)
    with pytest.raises(WaiFormatError, match=message) as info:
        load_covisibility(scene_dir)
    assert "scene 's'" in str(info.value) and "pairwise_covisibility--" in str(info.value)


def test_a_matrix_whose_size_disagrees_with_the_frames(tmp_path: Path) -> None:
    scene_dir = write_scene(tmp_path / "s", 4)
    target = scene_dir / "covisibility/v0/pairwise_covisibility--3x3.npy"
    target.parent.mkdir(parents=True)
    np.save(target, np.eye(3, dtype=np.float32))
    with pytest.raises(WaiFormatError, match="expected a 4x4 matrix") as info:
        load_covisibility(scene_dir)
    assert "scene 's'" in str(info.value)


CHILD = """
import sys, time, numpy as np
from pathlib import Path
from metadata.covisibility import compute_scene_covisibility
real_save = np.save
def slow_save(fh, array, **kw):
    real_save(fh, array[: len(array) // 2], **kw)  # half the data, then hang until killed
    fh.flush()
    Path(sys.argv[2]).touch()
    time.sleep(600)
np.save = slow_save
compute_scene_covisibility(sys.argv[1])
"""


def test_sigkill_mid_write_leaves_the_old_matrix_and_a_rerun_finishes(tmp_path: Path) -> None:
    root = tmp_path / "root"
    scene_dir = write_scene(root / "s", 4)
    assert run_stage(covisibility_stage(), root, progress=False).ok
    before = np.load(scene_dir / "covisibility/v0/pairwise_covisibility--4x4.npy")
    marker = tmp_path / "writing"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(scene_dir), str(marker)])
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    folder = scene_dir / "covisibility/v0"
    assert [p.name for p in folder.glob("*.npy")] == ["pairwise_covisibility--4x4.npy"]
    np.testing.assert_array_equal(reference_mmap_read(scene_dir), before)
    assert list((scene_dir / "covisibility").glob(".wai-tmp-*"))  # the partial file sits outside v0
    report = run_stage(covisibility_stage(), root, overwrite=True, progress=False)
    assert report.ok
    assert not list(scene_dir.rglob(".wai-tmp-*"))
    np.testing.assert_array_equal(load_covisibility(scene_dir), before)


def test_covisibility_and_view_sampling_import_no_torch() -> None:
    code = "import sys, metadata.covisibility, metadata.view_sampling, cli.covis_cmd; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_workers_run_scenes_in_a_process_pool(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for k in range(3):
        write_scene(root / f"s{k}", 3)
    code, out = invoke("covis", str(root), "--workers", "2", "--config", "gt_depth_224x224")
    assert code == 0 and "3 done" in out, out
    for k in range(3):
        assert load_covisibility(root / f"s{k}").shape == (3, 3)
        params = json.loads((root / f"s{k}/covisibility/v0" / PARAMS_FILE).read_text())
        assert params["working_size"] == [224, 224]
