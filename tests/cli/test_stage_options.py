"""The shared command-line options of stage commands (`cli/stage_options.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from cli.stage_options import (
    EXIT_WORK_LEFT,
    exit_with_report,
    parse_time_minutes,
    stage_options,
    stage_run_kwargs,
)
from tests.wai.stages import sample_stages
from wai.errors import WaiStageError
from wai.stages import SceneOutcome, SlurmOptions, Stage, StageReport, run_stage


def _command(seen: dict[str, Any]) -> click.Command:
    @stage_options
    @click.command()
    @click.argument("root", type=click.Path(path_type=Path))
    def cmd(root: Path, **options: Any) -> None:
        seen["root"] = root
        seen["kwargs"] = stage_run_kwargs(options)

    return cmd


def test_defaults_give_a_local_run() -> None:
    seen: dict[str, Any] = {}
    result = CliRunner().invoke(_command(seen), ["data"])
    assert result.exit_code == 0, result.output
    assert seen["kwargs"] == {"workers": 1, "shard": None, "overwrite": False, "executor": "local"}


def test_options_map_to_run_stage_arguments(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    result = CliRunner().invoke(_command(seen), ["data", "--workers", "3", "--shard", "1/4", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert seen["kwargs"] == {"workers": 3, "shard": (1, 4), "overwrite": True, "executor": "local"}
    report = run_stage(
        Stage("moge", sample_stages.write_result),
        tmp_path,
        scenes=["a", "b", "c", "d", "e"],
        progress=False,
        **{**seen["kwargs"], "workers": 1},
    )
    assert [o.scene for o in report.done] == ["b"]


def test_slurm_options_build_slurm_settings() -> None:
    seen: dict[str, Any] = {}
    args = [
        "data",
        "--executor",
        "slurm",
        "--slurm-partition",
        "gpu",
        "--slurm-time",
        "1-02:00:00",
        "--slurm-cpus",
        "8",
        "--slurm-gpus",
        "1",
        "--slurm-mem-gb",
        "32",
        "--slurm-scenes-per-job",
        "5",
        "--slurm-account",
        "proj",
    ]
    result = CliRunner().invoke(_command(seen), args)
    assert result.exit_code == 0, result.output
    assert seen["kwargs"]["executor"] == "slurm"
    assert seen["kwargs"]["slurm"] == SlurmOptions(
        partition="gpu", time_min=26 * 60, cpus=8, gpus=1, mem_gb=32.0, scenes_per_job=5, account="proj"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "4/4"], "shard index is 0-based"),
        (["--shard", "x"], "expected 'i/N'"),
        (["--workers", "0"], "0 is not in the range x>=1"),
        (["--executor", "ray"], "'ray' is not one of"),
        (["--executor", "slurm", "--slurm-time", "soon"], "bad time limit 'soon'"),
    ],
)
def test_bad_values_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(_command({}), ["data", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_slurm_flags_without_slurm_executor_are_an_error() -> None:
    with pytest.raises(WaiStageError, match="--slurm-partition: only used with --executor slurm"):
        stage_run_kwargs({"workers": 1, "executor": "local", "slurm_partition": "gpu"})


def test_decorates_a_function_below_click_command() -> None:
    @click.command()
    @click.option("--own", default=1)
    @stage_options
    def cmd(own: int, **options: Any) -> None:
        click.echo(repr(stage_run_kwargs(options)))

    names = [p.name for p in cmd.params]
    assert names[:5] == ["own", "workers", "shard", "overwrite", "executor"]
    result = CliRunner().invoke(cmd, ["--shard", "0/3"])
    assert result.exit_code == 0 and "'shard': (0, 3)" in result.output


def test_decorates_an_existing_command_object() -> None:
    command = click.Command("convert-x", callback=lambda **kw: None, params=[])
    decorated = stage_options(command)
    assert decorated is command
    names = [p.name for p in command.params]
    assert names[:4] == ["workers", "shard", "overwrite", "executor"] and "slurm_time" in names


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90", 90), ("1:30", 2), ("2:00:00", 120), ("2:00:01", 121), ("1-0", 1440), ("1-1:30", 1530), (45, 45)],
)
def test_slurm_time_formats(text: str | int, minutes: int) -> None:
    assert parse_time_minutes(text) == minutes


def test_zero_time_is_rejected() -> None:
    with pytest.raises(WaiStageError, match="at least one minute"):
        parse_time_minutes("0:00")


def _report(*outcomes: tuple[str, str, str]) -> StageReport:
    return StageReport("s", Path("/r"), tuple(SceneOutcome(*o) for o in outcomes))


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ([("a", "finished", ""), ("b", "skipped", "already finished")], None),
        ([("a", "finished", ""), ("b", "skipped", "locked")], EXIT_WORK_LEFT),
        ([("a", "failed", "ValueError: x"), ("b", "skipped", "locked")], 1),
        ([("a", "data_issue", "portrait")], None),
    ],
)
def test_exit_status_says_whether_work_is_left(
    outcomes: list[tuple[str, str, str]], status: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _report(*outcomes)
    if status is None:
        exit_with_report(report)
    else:
        with pytest.raises(SystemExit) as info:
            exit_with_report(report)
        assert info.value.code == status
    assert capsys.readouterr().out.strip() == report.summary()
