"""Scaling out: a process pool gives the same result as one process, shards partition the scenes, and the
submitit executor runs a stage end to end."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import pytest

from tests.wai.stages import sample_stages
from wai.allocator import keep_freed_memory
from wai.errors import WaiStageError
from wai.stages import (
    PROCESS_LOG,
    PROCESS_LOG_BACKUP,
    SlurmOptions,
    Stage,
    parse_shard,
    run_stage,
    select_scenes,
)

STAGE = Stage("moge", sample_stages.write_result, reset=sample_stages.remove_out)
NAMES = [f"scene_{i:02d}" for i in range(7)]


def tree_snapshot(root: Path) -> dict[str, object]:
    """Every file under root: bytes, or for process logs the parsed content without dates."""
    snapshot: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        key = str(path.relative_to(root))
        if path.name in (PROCESS_LOG, PROCESS_LOG_BACKUP):
            data = json.loads(path.read_text())
            snapshot[key] = [
                (stage, {k: v for k, v in e.items() if k != "date"}) for stage, e in data.items()
            ]
        else:
            snapshot[key] = path.read_bytes()
    return snapshot


def test_two_workers_give_the_same_tree_as_one(tmp_path: Path) -> None:
    one = run_stage(STAGE, tmp_path / "one", scenes=NAMES, workers=1, progress=False)
    two = run_stage(STAGE, tmp_path / "two", scenes=NAMES, workers=2, progress=False)
    assert one.ok and two.ok and len(two.done) == len(NAMES)
    assert [o.scene for o in two.outcomes] == NAMES  # report in scene order, whatever the completion order
    assert tree_snapshot(tmp_path / "one") == tree_snapshot(tmp_path / "two")
    assert {o.worker for o in one.outcomes} == {os.getpid()}
    assert all(o.worker not in (0, os.getpid()) for o in two.outcomes)


def test_worker_failures_are_reported_per_scene(tmp_path: Path) -> None:
    stage = Stage("covisibility", sample_stages.fail_when_bad)
    report = run_stage(stage, tmp_path, scenes=["a", "bad_b", "c"], workers=2, progress=False)
    assert [o.scene for o in report.done] == ["a", "c"]
    assert report.failed[0].reason == "ValueError: cannot process bad_b"


def test_shards_partition_the_sorted_scene_list(tmp_path: Path) -> None:
    first = run_stage(STAGE, tmp_path, scenes=NAMES, shard=(0, 2), progress=False)
    second = run_stage(STAGE, tmp_path, scenes=NAMES, shard=parse_shard("1/2"), progress=False)
    got = [o.scene for o in first.done] + [o.scene for o in second.done]
    assert sorted(got) == NAMES and len(got) == len(NAMES)
    assert [o.scene for o in first.done] == NAMES[0::2]
    assert select_scenes(tmp_path, shard=(2, 3)) == NAMES[2::3]
    assert len(run_stage(STAGE, tmp_path, progress=False).skipped) == len(NAMES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2/2", r"shard index is 0-based, expected 0 <= i < 2"),
        ("-1/2", r"shard index is 0-based"),
        ("1/0", r"number of shards must be at least 1"),
        ("a/b", r"expected 'i/N' with integers"),
        ("1", r"expected 'i/N'"),
        ("1/2/3", r"expected 'i/N'"),
    ],
)
def test_bad_shard_strings_are_rejected(text: str, message: str) -> None:
    with pytest.raises(WaiStageError, match=rf"bad shard .*{message}"):
        parse_shard(text)


def test_bad_shard_tuple_is_rejected_by_run_stage(tmp_path: Path) -> None:
    with pytest.raises(WaiStageError, match="bad shard 3/3"):
        run_stage(STAGE, tmp_path, scenes=NAMES, shard=(3, 3))


def test_parse_shard_accepts_spaces() -> None:
    assert parse_shard(" 3 / 4 ") == (3, 4)


def test_slurm_parameters_are_valid_for_submitit() -> None:
    submitit = pytest.importorskip("submitit")
    options = SlurmOptions(
        partition="learnfair", time_min=90, cpus=8, gpus=1, account="proj", extra={"qos": "high"}
    )
    params = options.executor_parameters("covisibility")
    assert params["slurm_partition"] == "learnfair" and params["timeout_min"] == 90
    assert params["slurm_additional_parameters"] == {"qos": "high"}
    generic = set(submitit.AutoExecutor._valid_parameters())
    slurm = set(submitit.SlurmExecutor._valid_parameters())
    for key in params:
        assert key in generic or (key.startswith("slurm_") and key[len("slurm_") :] in slurm), key


def test_slurm_without_cluster_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("submitit")
    monkeypatch.setenv("PATH", str(tmp_path / "empty_bin"))
    with pytest.raises(WaiStageError, match="no 'sbatch' command found"):
        run_stage(STAGE, tmp_path / "root", scenes=["a"], executor="slurm", progress=False)


def test_missing_submitit_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "submitit", None)  # makes `import submitit` raise ImportError
    with pytest.raises(WaiStageError, match=r"pip install 'wai-toolkit\[slurm\]'"):
        run_stage(STAGE, tmp_path / "root", scenes=["a"], executor="submitit-local", progress=False)


@pytest.mark.slow
def test_submitit_local_executor_runs_a_stage_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("submitit")
    # the job processes import the sample stages from this repository
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[3]))
    options = SlurmOptions(cpus=1, scenes_per_job=2, time_min=5, poll_s=0.2, log_folder=tmp_path / "jobs")
    names = ["a", "bad_b", "c"]
    stage = Stage("covisibility", sample_stages.fail_when_bad)
    report = run_stage(
        stage, tmp_path / "root", scenes=names, executor="submitit-local", slurm=options, progress=False
    )
    assert [o.scene for o in report.done] == ["a", "c"]
    assert report.failed[0].reason == "ValueError: cannot process bad_b"
    assert (tmp_path / "root" / "c" / "out" / "result.txt").read_text() == "ok\n"
    assert any((tmp_path / "jobs").iterdir())  # submitit's job folders


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the allocator limits are glibc's")
@pytest.mark.parametrize("workers", [1, 2])
def test_processes_that_run_scenes_keep_freed_memory(tmp_path: Path, workers: int) -> None:
    stage = Stage("allocator", sample_stages.record_allocator_setting)
    report = run_stage(stage, tmp_path / "root", scenes=["a", "b"], workers=workers, progress=False)
    assert report.ok
    assert [(tmp_path / "root" / s / "allocator.txt").read_text() for s in ("a", "b")] == ["(32, 64)"] * 2
    assert keep_freed_memory()  # glibc accepted both settings
