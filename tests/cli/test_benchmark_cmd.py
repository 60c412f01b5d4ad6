"""`mapa-train benchmark` end to end on converted synthetic scenes (CPU, tiny models), and `benchmark compare`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli.mapa_train_cli import main as mapa_main
from cli.wai_cli import main as wai_main
from mapa_train.benchmark.metrics import ALL_METRICS
from mapa_train.benchmark.sets import read_sets


@pytest.fixture(scope="module")
def bench_root(tmp_path_factory) -> tuple[Path, Path]:
    """Three synthetic scenes (64x48) with covisibility and a two-scene test split."""
    root = tmp_path_factory.mktemp("bench")
    data = root / "synthetic"
    runner = CliRunner()
    convert = ["convert", "synthetic", "--dst", str(data), "--num-scenes", "3", "--min-frames", "5"]
    result = runner.invoke(wai_main, [*convert, "--max-frames", "6", "--width", "64", "--height", "48"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(wai_main, ["covis", str(data)])
    assert result.exit_code == 0, result.output
    scenes = sorted(p.name for p in data.iterdir() if (p / "scene_meta.json").is_file())
    test_list = root / "test.txt"
    test_list.write_text("\n".join(scenes[:2]) + "\n")
    meta = root / "meta"
    splits = [
        "splits",
        str(data),
        "--dataset",
        "synthetic",
        "--out",
        str(meta),
        "--test-list",
        str(test_list),
    ]
    result = runner.invoke(wai_main, splits)
    assert result.exit_code == 0, result.output
    return root, meta


def _run(root: Path, meta: Path, out: Path, model: str, *extra: str):
    args = [
        "benchmark",
        "--model",
        model,
        "--data",
        str(root),
        "--datasets",
        "synthetic",
        "--metadata",
        str(meta),
    ]
    args += ["--sets-per-scene", "2", "--resolution", "56x42", "--out", str(out), *extra]
    return CliRunner().invoke(mapa_main, args, catch_exceptions=False)


def test_tiny_models_write_every_output_on_identical_sets(bench_root, tmp_path):
    root, meta = bench_root
    outs = {}
    for model, extra in (
        ("mapanything_tiny", ("--views", "2,3", "--task", "images_only,calibrated_sfm,depth_completion")),
        ("vggt_tiny", ("--views", "2,3", "--batch-size", "2")),
        ("pi3_tiny", ("--views", "2,3")),
    ):
        out = tmp_path / model
        result = _run(root, meta, out, model, *extra)
        assert result.exit_code == 0, result.output
        assert "benchmark overhead" in result.output and "% of the forward time" in result.output
        assert "pm_rel" in result.output and "Average" in result.output
        outs[model] = out
        rows = pq.read_table(out / "rows.parquet").to_pylist()
        tasks = 3 if model == "mapanything_tiny" else 1
        assert len(rows) == 2 * 2 * 2 * tasks  # 2 test scenes x 2 sets x 2 view counts x tasks
        assert {r["views"] for r in rows} == {2, 3}
        assert all(r["error"] is None for r in rows)
        for r in rows:
            assert set(ALL_METRICS) <= set(r)
            assert math.isfinite(r["pointmaps_abs_rel"]) and 0 <= r["pose_auc_5"] <= 100
            assert 0 <= r["pointmaps_inlier_thres_103"] <= 1 and r["forward_s"] > 0
        summary = json.loads((out / "per_dataset_results.json").read_text())
        per_views = summary["results"][model]["images_only"]
        assert set(per_views) == {"2", "3"}
        assert set(per_views["2"]) == {"synthetic", "Average"}
        assert per_views["2"]["synthetic"]["sets"] == 4
        assert summary["run"]["family"] in {"mapanything", "vggt", "pi3"}
        for metric in ALL_METRICS:
            png = out / "plots" / f"{metric}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same sets for every model (and readable set lists).
    for n in (2, 3):
        lists = [read_sets(outs[m] / "sets" / f"synthetic_{n}v.json") for m in outs]
        assert lists[0] == lists[1] == lists[2]
        assert len(lists[0]) == 4 and all(s.num_views == n for s in lists[0])
    test_scenes = set(np.load(meta / "test" / "synthetic_scene_list_test.npy", allow_pickle=True))
    assert {s.scene for s in lists[0]} == test_scenes

    result = CliRunner().invoke(
        mapa_main,
        [
            "benchmark",
            "compare",
            str(outs["vggt_tiny"]),
            str(outs["pi3_tiny"]),
            "--plots",
            str(tmp_path / "cmp"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "vggt_tiny" in result.output and "pi3_tiny" in result.output and "B-A" in result.output
    assert (tmp_path / "cmp" / "pose_auc_5.png").is_file()


def test_runs_are_deterministic(bench_root, tmp_path):
    root, meta = bench_root
    tables = []
    for name in ("a", "b"):
        result = _run(root, meta, tmp_path / name, "pi3_tiny", "--views", "2")
        assert result.exit_code == 0, result.output
        tables.append(pq.read_table(tmp_path / name / "rows.parquet").drop(["forward_s"]).to_pylist())
    assert tables[0] == tables[1]


def test_moge2_runs_single_view_and_errors_are_clear(bench_root, tmp_path):
    root, meta = bench_root
    result = _run(root, meta, tmp_path / "moge", "moge2_tiny", "--views", "1")
    assert result.exit_code == 0, result.output
    rows = pq.read_table(tmp_path / "moge" / "rows.parquet").to_pylist()
    assert len(rows) == 4 and all(math.isnan(r["pose_auc_5"]) for r in rows)
    assert all(math.isfinite(r["z_depth_abs_rel"]) for r in rows)

    result = _run(root, meta, tmp_path / "x", "moge2_tiny", "--views", "2")
    assert result.exit_code != 0 and "use --views 1" in result.output
    result = _run(root, meta, tmp_path / "x", "vggt_tiny", "--views", "2", "--task", "mvs")
    assert result.exit_code != 0 and "images only" in result.output
    result = _run(root, meta, tmp_path / "x", "no_such_model", "--views", "2")
    assert result.exit_code != 0 and "neither a registered model" in result.output
    result = _run(root, meta, tmp_path / "x", "pi3_tiny", "--views", "2", "--task", "flying")
    assert result.exit_code != 0 and "unknown model task 'flying'" in result.output
    args = ["benchmark", "--model", "pi3_tiny", "--data", str(root), "--datasets", "eth3d"]
    result = CliRunner().invoke(mapa_main, args)
    assert result.exit_code != 0 and "eth3d" in result.output and "not found" in result.output
    result = CliRunner().invoke(mapa_main, ["benchmark", "compare", str(root), str(root)])
    assert result.exit_code != 0 and "rows.parquet" in result.output


def test_converted_eth3d_scannetpp_tav2_fixtures(tmp_path):
    """The three benchmark datasets as `wai convert` writes them from raw fixtures in their release layouts."""
    from tests.wai_converters.fixtures.eth3d import write_eth3d
    from tests.wai_converters.fixtures.scannetpp import write_scannetpp
    from tests.wai_converters.fixtures.tav2_wb import write_tav2_wb
    from wai_converters.testing import run_cli

    raw, data = tmp_path / "raw", tmp_path / "data"
    jobs = (
        ("eth3d", "eth3d", write_eth3d, ()),
        ("scannetpp", "scannetppv2", write_scannetpp, ("undistort", "render")),
        ("tav2_wb", "tav2_wb", write_tav2_wb, ()),
    )
    for converter, folder, write, post in jobs:
        (raw / converter).mkdir(parents=True)
        write(raw / converter)
        result = run_cli(["convert", converter, "--src", raw / converter, "--dst", data / folder])
        assert result.exit_code == 0, result.output
        for command in (*post, "covis"):
            result = run_cli([command, data / folder])
            assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    args = ["benchmark", "--model", "mapanything_tiny", "--data", str(data), "--views", "2"]
    args += ["--sets-per-scene", "1", "--resolution", "56x42", "--out", str(out), "--task", "images_only,mvs"]
    result = CliRunner().invoke(mapa_main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out / "rows.parquet").to_pylist()
    assert {r["dataset"] for r in rows} == {"eth3d", "scannetpp", "tav2_wb"}
    assert all(r["error"] is None and math.isfinite(r["pointmaps_abs_rel"]) for r in rows)
    summary = json.loads((out / "per_dataset_results.json").read_text())["results"]["mapanything_tiny"]
    assert set(summary["mvs"]["2"]) == {"eth3d", "scannetpp", "tav2_wb", "Average"}
    for name in ("eth3d", "scannetpp", "tav2_wb"):
        assert read_sets(out / "sets" / f"{name}_2v.json")
    result = CliRunner().invoke(mapa_main, ["benchmark", "plot", str(out), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "pose_auc_5.png").is_file()


def test_unreadable_sets_are_reported_not_replaced(bench_root, tmp_path):
    """ETH3D's rule: non-finite depth fails the set. The set stays in the results with its reason; no other scene
    takes its place."""
    import shutil

    from wai import io

    root, meta = bench_root
    scene = sorted(np.load(meta / "test" / "synthetic_scene_list_test.npy", allow_pickle=True))[0]
    data = tmp_path / "data"
    shutil.copytree(root / "synthetic" / scene, data / "eth3d" / scene)
    frames = json.loads((data / "eth3d" / scene / "scene_meta.json").read_text())["frames"]
    for frame in frames:
        path = data / "eth3d" / scene / frame["depth"]
        depth = io.load(path, "depth")
        depth[0, 0] = np.nan
        io.store(path, depth, "scalar")  # the depth codec refuses NaN: write the raw float EXR
    out = tmp_path / "out"
    args = ["benchmark", "--model", "pi3_tiny", "--data", str(data), "--datasets", "eth3d", "--views", "2"]
    args += ["--sets-per-scene", "2", "--resolution", "56x42", "--out", str(out)]
    result = CliRunner().invoke(mapa_main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "2 set(s) failed to load" in result.output
    rows = pq.read_table(out / "rows.parquet").to_pylist()
    assert [r["scene"] for r in rows] == [scene, scene]
    assert all("NaN or infinite" in r["error"] and scene in r["error"] for r in rows)
    assert all(math.isnan(r["pointmaps_abs_rel"]) for r in rows)
    summary = json.loads((out / "per_dataset_results.json").read_text())["results"]["pi3_tiny"]
    assert summary["images_only"]["2"]["eth3d"]["failed"] == 2
    assert summary["images_only"]["2"]["eth3d"]["pointmaps_abs_rel"] is None  # NaN is written as null


def test_overlapped_and_inline_runs_give_the_same_rows(bench_root, tmp_path):
    """Loading and scoring in threads (as on an accelerator) changes no result."""
    from mapa_train.benchmark.runner import BenchmarkConfig, run_benchmark

    root, meta = bench_root
    tables = []
    for overlap in (False, True):
        config = BenchmarkConfig(
            model="mapanything_tiny",
            data=root,
            out=tmp_path / str(overlap),
            views=(2, 3),
            tasks=("images_only", "registration_sparse"),
            datasets=("synthetic",),
            sets_per_scene=2,
            metadata=meta,
            resolution=(56, 42),
            overlap=overlap,
        )
        result = run_benchmark(config)
        assert result.timings.forward > 0 and result.timings.metrics > 0
        tables.append([{k: v for k, v in r.items() if k != "forward_s"} for r in result.rows])
    assert len(tables[0]) == 2 * 2 * 2 * 2
    assert tables[0] == tables[1]
