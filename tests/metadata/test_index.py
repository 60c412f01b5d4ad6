"""The parquet index: contents, covisibility statistics, incremental updates, queries, bad input and the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

import metadata.index.build as build_module
import wai
from cli.wai_cli import main
from metadata.index import build_index, covisibility_stats, open_index
from metadata.scene_lists import scene_list_path, write_scene_list
from tests.factories import make_scene
from wai.errors import WaiFileNotFoundError


def add_covisibility(scene_dir: Path, matrix: np.ndarray) -> None:
    """Write a matrix and register it as the covisibility stage does."""
    scene = wai.open_scene(scene_dir)
    written = wai.store(scene_dir / "covisibility" / "v0" / "pairwise_covisibility.npy", matrix, "mmap")
    rel = written.relative_to(scene_dir).as_posix()
    scene.meta.setdefault("scene_modalities", {})["pairwise_covisibility"] = {
        "scene_key": rel,
        "format": "mmap",
    }
    scene.save_meta()


def chain_matrix() -> np.ndarray:
    """4 frames: 0 and 1 see each other, 2 and 3 see nobody."""
    m = np.eye(4, dtype=np.float32) * 0.8
    m[0, 1], m[1, 0] = 0.5, 0.3  # S01 = 0.4, / 0.8 = 0.5 > 0.25
    m[2, 3] = 0.2  # S23 = 0.1 / 0.8 = 0.125 < 0.25
    return m


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    eth3d, ase = tmp_path / "eth3d", tmp_path / "ase"
    make_scene(eth3d / "courtyard", n_frames=4)
    add_covisibility(eth3d / "courtyard", chain_matrix())
    make_scene(eth3d / "office", n_frames=2, seed=1)
    make_scene(ase / "s0", n_frames=3, seed=2)
    (ase / "not_converted").mkdir()
    return {"eth3d": eth3d, "ase": ase}


def brute_force_stats(m: np.ndarray, threshold: float) -> tuple[float, int, int]:
    """The loaders' normalisation written out pair by pair, components by depth-first search."""
    n = len(m)
    adj = np.zeros((n, n), dtype=bool)
    for i in range(n):
        for j in range(n):
            if i != j:
                adj[i, j] = (m[i, j] + m[j, i]) / 2 / (m[i, i] + 1e-8) > threshold
    und = adj | adj.T
    seen, components = set(), 0
    for start in range(n):
        if start in seen:
            continue
        components += 1
        stack = [start]
        while stack:
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack += [int(x) for x in np.nonzero(und[k])[0]]
    return adj.sum(1).mean(), components, int((~und.any(1)).sum())


def test_covisibility_stats_match_a_pairwise_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    stats = covisibility_stats(chain_matrix())
    assert (stats.mean_degree, stats.components, stats.isolated) == (0.5, 3, 2)
    monkeypatch.setattr("metadata.index.graph_stats.BLOCK_ROWS", 7)  # several row blocks
    rng = np.random.default_rng(0)
    m = (rng.random((40, 40)) ** 6).astype(np.float32)
    np.fill_diagonal(m, rng.uniform(0.5, 1.0, 40))
    for threshold in (0.05, 0.25, 0.6):
        stats = covisibility_stats(m, threshold)
        mean, components, isolated = brute_force_stats(m, threshold)
        assert stats.mean_degree == pytest.approx(mean)
        assert (stats.components, stats.isolated) == (components, isolated)


def test_index_tables_and_documented_queries(roots: dict[str, Path], tmp_path: Path) -> None:
    meta = tmp_path / "meta"
    write_scene_list(scene_list_path(meta, "eth3d", "test"), ["courtyard", "office"])
    report = build_index([roots["eth3d"], roots["ase"]], meta, datasets=["eth3d", "ase"])
    assert sorted(report.read) == ["ase/s0", "eth3d/courtyard", "eth3d/office"]
    assert report.skipped == {str(roots["ase"] / "not_converted"): "no scene_meta.json"}
    assert (report.scenes, report.frames) == (3, 9)

    index = open_index(meta)
    court = index.scenes(scene="courtyard").to_pylist()[0]
    assert court["dataset"] == "eth3d" and court["split"] == "test" and court["frames"] == 4
    assert (court["width"], court["height"], court["camera_model"]) == (32, 24, "PINHOLE")
    assert court["metric"] is True and court["synthetic"] is False  # eth3d: metric, captured
    assert court["frame_modalities"] == ["image", "depth"]
    assert court["covisibility"] == "covisibility/v0/pairwise_covisibility--4x4.npy"
    assert (court["covis_mean_degree"], court["covis_components"], court["covis_isolated"]) == (0.5, 3, 2)
    assert index.scenes(scene="office")["covisibility"].to_pylist() == [None]
    assert index.scenes(dataset="ase")["synthetic"].to_pylist() == [True]

    assert index.scene_names(metric=True, min_frames=3) == ["s0", "courtyard"]
    assert index.scene_names(dataset="eth3d", split="test") == ["courtyard", "office"]
    assert index.scene_names(split="train") == []
    assert index.scene_names(where=pc.field("covis_components") > 1) == ["courtyard"]
    frames = index.frames(dataset="eth3d", scene="courtyard")
    assert frames["frame"].to_pylist() == ["000000", "000001", "000002", "000003"]
    assert frames["tx"].to_pylist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert frames["fx"].to_pylist() == [30.0] * 4 and frames["cx"].to_pylist() == [15.5] * 4
    assert frames["modalities"].to_pylist()[0] == ["image", "depth"]
    assert index.frames(modality="depth").num_rows == 9 and index.frames(modality="normals").num_rows == 0
    assert index.scene_names(modality="depth") == ["s0", "courtyard", "office"]
    only = index.frames(modality="depth", columns=["scene", "frame"])
    assert only.column_names == ["scene", "frame"] and only.num_rows == 9


def test_rerun_reads_only_changed_scenes(
    roots: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = tmp_path / "meta"
    calls: list[str] = []
    real = build_module.read_scene_rows

    def counting(folder: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(folder.name)
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(build_module, "read_scene_rows", counting)
    build_index([roots["eth3d"], roots["ase"]], meta, datasets=["eth3d", "ase"])
    assert sorted(calls) == ["courtyard", "office", "s0"]

    calls.clear()
    again = build_index([roots["eth3d"], roots["ase"]], meta, datasets=["eth3d", "ase"])
    assert calls == [] and again.read == [] and len(again.reused) == 3 and again.frames == 9

    scene = wai.open_scene(roots["eth3d"] / "office")
    scene.meta["frames"].pop()
    scene.save_meta()
    st = os.stat(roots["eth3d"] / "office" / "scene_meta.json")
    os.utime(roots["eth3d"] / "office" / "scene_meta.json", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    calls.clear()
    third = build_index([roots["eth3d"]], meta, datasets=["eth3d"])  # ase's rows stay as they are
    assert calls == ["office"] and third.read == ["eth3d/office"]
    index = open_index(meta)
    assert index.scenes(scene="office")["frames"].to_pylist() == [1]
    assert index.frames(scene="office").num_rows == 1 and index.frames().num_rows == 8

    import shutil

    shutil.rmtree(roots["ase"] / "s0")
    calls.clear()
    fourth = build_index([roots["ase"]], meta, datasets=["ase"])
    assert calls == [] and fourth.removed == ["ase/s0"]
    assert open_index(meta).scene_names() == ["courtyard", "office"]
    assert len(list((meta / "index").glob("*.parquet"))) == 2  # old generations are deleted


def test_bad_input_is_reported_and_counted(roots: dict[str, Path], tmp_path: Path) -> None:
    (roots["ase"] / "broken").mkdir()
    (roots["ase"] / "broken" / "scene_meta.json").write_text("{not json")
    make_scene(roots["ase"] / "wrong_n", n_frames=3, seed=3)
    add_covisibility(roots["ase"] / "wrong_n", np.eye(5, dtype=np.float32))
    report = build_index([roots["ase"]], tmp_path / "meta", datasets=["ase"])
    assert list(report.failed) == [str(roots["ase"] / "broken")]
    assert "scene_meta.json" in report.failed[str(roots["ase"] / "broken")]
    assert "malformed JSON" in report.failed[str(roots["ase"] / "broken")]
    assert len(report.problems) == 1 and "scene 'wrong_n'" in report.problems[0]
    assert "pairwise_covisibility--5x5.npy" in report.problems[0] and "3 frames" in report.problems[0]
    row = open_index(tmp_path / "meta").scenes(scene="wrong_n").to_pylist()[0]
    assert row["covis_components"] is None  # indexed without statistics
    with pytest.raises(WaiFileNotFoundError, match="no index under"):
        open_index(tmp_path / "nowhere")


def test_crash_while_writing_keeps_the_old_index(
    roots: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = tmp_path / "meta"
    build_index([roots["eth3d"]], meta, datasets=["eth3d"])

    def crash(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "atomic_write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index([roots["eth3d"], roots["ase"]], meta, datasets=["eth3d", "ase"], rebuild=True)
    assert open_index(meta).scene_names() == ["courtyard", "office"]


def test_scene_meta_dataset_name_and_duplicate_names(roots: dict[str, Path], tmp_path: Path) -> None:
    report = build_index([roots["ase"]], tmp_path / "meta")  # no --dataset: the meta's dataset_name ("unit")
    assert report.read == ["unit/s0"]
    make_scene(tmp_path / "other" / "courtyard", n_frames=2)
    with pytest.raises(wai.WaiFormatError, match="in two roots"):
        build_index([roots["eth3d"], tmp_path / "other"], tmp_path / "meta2", datasets=["eth3d", "eth3d"])


def test_cli_build_query_info(roots: dict[str, Path], tmp_path: Path) -> None:
    meta = tmp_path / "meta"
    runner = CliRunner()
    args = [
        "index",
        str(roots["eth3d"]),
        str(roots["ase"]),
        "--out",
        str(meta),
        "--dataset",
        "eth3d",
        "--dataset",
        "ase",
    ]
    out = runner.invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "3 scenes, 9 frames indexed: 3 read" in out.output and "skipped" in out.output
    again = runner.invoke(main, args)
    assert "0 read, 3 unchanged" in again.output

    q = runner.invoke(main, ["index", "query", str(meta), "--metric", "--min-frames", "3", "--json"])
    assert q.exit_code == 0, q.output
    assert [r["scene"] for r in json.loads(q.output)] == ["s0", "courtyard"]
    text = runner.invoke(main, ["index", "query", str(meta), "--dataset", "eth3d"])
    assert "courtyard" in text.output and "2 scenes" in text.output
    frames = runner.invoke(main, ["index", "query", str(meta), "--scene", "office", "--frames", "--json"])
    assert [r["frame"] for r in json.loads(frames.output)] == ["000000", "000001"]

    info = runner.invoke(main, ["index", "info", str(meta), "--json"])
    summary = {s["dataset"]: s for s in json.loads(info.output)}
    assert summary["eth3d"]["scenes"] == 2 and summary["eth3d"]["frames"] == 6
    assert summary["eth3d"]["with_covisibility"] == 1 and summary["ase"]["synthetic"] is True
    bad = runner.invoke(main, ["index", "info", str(tmp_path / "none")])
    assert bad.exit_code != 0 and "no index under" in bad.output
    mismatch = runner.invoke(
        main, ["index", str(roots["eth3d"]), "--out", str(meta), "--dataset", "a", "--dataset", "b"]
    )
    assert mismatch.exit_code != 0 and "1 ROOT but 2 --dataset names; give one per ROOT" in mismatch.output


def test_threshold_change_rereads_and_new_split_lists_apply_without_rereading(
    roots: dict[str, Path], tmp_path: Path
) -> None:
    meta = tmp_path / "meta"
    build_index([roots["eth3d"]], meta, datasets=["eth3d"])
    assert open_index(meta).scenes(scene="courtyard")["split"].to_pylist() == [None]
    write_scene_list(scene_list_path(meta, "eth3d", "val"), ["courtyard"])
    same = build_index([roots["eth3d"]], meta, datasets=["eth3d"])
    assert same.read == [] and open_index(meta).scenes(scene="courtyard")["split"].to_pylist() == ["val"]

    strict = build_index([roots["eth3d"]], meta, datasets=["eth3d"], covis_threshold=0.6)
    assert sorted(strict.read) == ["eth3d/courtyard", "eth3d/office"]
    row = open_index(meta).scenes(scene="courtyard").to_pylist()[0]
    assert row["covis_threshold"] == pytest.approx(0.6)
    assert (row["covis_mean_degree"], row["covis_components"], row["covis_isolated"]) == (0.0, 4, 4)
    assert open_index(meta).covis_threshold == pytest.approx(0.6)


def test_manifest_naming_a_missing_table_is_an_error(roots: dict[str, Path], tmp_path: Path) -> None:
    meta = tmp_path / "meta"
    build_index([roots["eth3d"]], meta, datasets=["eth3d"])
    next((meta / "index").glob("frames-*.parquet")).unlink()
    with pytest.raises(
        WaiFileNotFoundError, match=r"frames-.*\.parquet': named by the index manifest but missing"
    ):
        open_index(meta)
    (meta / "index" / "manifest.json").write_text("{oops")
    with pytest.raises(wai.WaiFormatError, match="manifest.json.*malformed index manifest"):
        open_index(meta)
