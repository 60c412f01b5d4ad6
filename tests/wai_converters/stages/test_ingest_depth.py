"""`wai ingest-depth`: depth maps made elsewhere (EXR, 16-bit PNG, NPY, PFM) become pred_depth/<name>."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.wai_converters.stages.depth_scene import H, W, true_depth, write_pfm, write_scene
from wai import io, open_scene
from wai.stages import ProcessLog
from wai_converters.testing import run_cli


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Path, list]:
    """A root with scenes s0 and s1, and a folder of their depth maps in four formats."""
    root, source = tmp_path / "wai", tmp_path / "mvs"
    views = {}
    for s in ("s0", "s1"):
        views[s] = write_scene(root / s, n=3, seed=5 + int(s[1]))
        folder = source / s
        folder.mkdir(parents=True)
        d0, d1, d2 = (true_depth(v) for v in views[s])
        io.store(folder / "f0.exr", d0, "scalar")
        cv2.imwrite(str(folder / "f1.png"), np.rint(d1 * 1000).astype(np.uint16))  # millimetres
        small = cv2.resize(d2, (W // 2, H // 2), interpolation=cv2.INTER_NEAREST)
        (write_pfm(folder / "f2.pfm", small) if s == "s0" else np.save(folder / "f2.npy", small))
    return root, source, views


def test_every_format_lands_as_pred_depth(dataset) -> None:
    root, source, views = dataset
    result = run_cli(["ingest-depth", root, "--from", source, "--name", "mvsanywhere"])
    assert result.exit_code == 0, result.output
    assert "2 done, 0 skipped, 0 failed" in result.output
    for s in ("s0", "s1"):
        scene = open_scene(root / s)
        meta = json.loads((root / s / "scene_meta.json").read_text())
        assert meta["frame_modalities"]["pred_depth"] == {
            "mvsanywhere": {"frame_key": "mvsanywhere_depth", "format": "depth"}
        }
        for frame, view in zip(scene.frames, views[s], strict=True):
            assert frame.raw["mvsanywhere_depth"] == f"mvsanywhere/v0/depth/{frame.name}.exr"
            depth = frame.load("pred_depth/mvsanywhere")
            assert depth.shape == (H, W) and np.all(np.isfinite(depth))
            truth = true_depth(view)
            ok = (truth > 0) & (depth > 0)
            tol = 2e-3 if frame.name != "f2" else 0.5  # f2 was written at half resolution
            assert np.median(np.abs(depth[ok] - truth[ok]) / truth[ok]) < tol, (s, frame.name)
            assert ok.sum() >= 0.9 * (truth > 0).sum()
        assert ProcessLog(root / s).state("mvsanywhere") == "finished"


def test_scale_multiplies_and_rerun_skips_then_overwrite_redoes(dataset) -> None:
    root, source, _ = dataset
    assert run_cli(["ingest-depth", root, "--from", source, "--name", "metric3d"]).exit_code == 0
    again = run_cli(["ingest-depth", root, "--from", source, "--name", "metric3d", "--scale", "2"])
    assert "0 done, 2 skipped" in again.output
    before = open_scene(root / "s0").frames[0].load("pred_depth/metric3d")
    redo = run_cli(
        ["ingest-depth", root, "--from", source, "--name", "metric3d", "--scale", "2", "--overwrite"]
    )
    assert redo.exit_code == 0 and "2 done" in redo.output, redo.output
    after = open_scene(root / "s0").frames[0].load("pred_depth/metric3d")
    np.testing.assert_allclose(after, 2 * before, rtol=1e-3)


def test_missing_frame_file_fails_naming_the_frame(dataset) -> None:
    root, source, _ = dataset
    (source / "s1" / "f1.png").unlink()
    result = run_cli(["ingest-depth", root, "--from", source])
    assert result.exit_code != 0
    assert "1 done, 0 skipped, 1 failed" in result.output and "f1" in result.output and "s1" in result.output
    assert "mvsanywhere_depth" not in (root / "s1" / "scene_meta.json").read_text()


def test_other_aspect_ratio_fails_naming_the_file(dataset) -> None:
    root, source, _ = dataset
    io.store(source / "s0" / "f0.exr", np.ones((H, H), np.float32), "scalar")
    result = run_cli(["ingest-depth", root, "--from", source, "--scenes", "s0"])
    assert result.exit_code != 0 and "f0.exr" in result.output and "aspect ratio" in result.output


def test_bad_options_fail_before_any_scene(dataset) -> None:
    root, source, _ = dataset
    result = run_cli(["ingest-depth", root, "--from", source, "--scale", "-1"])
    assert result.exit_code != 0 and "--scale" in result.output
    result = run_cli(["ingest-depth", root, "--from", source, "--name", "a/b"])
    assert result.exit_code != 0 and "--name" in result.output
