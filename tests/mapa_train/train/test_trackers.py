"""Accelerate trackers of a run: a wandb run (offline) holds the loss history the loop logged, and a tracker whose
package is missing stops the run before it starts, naming the extra to install."""

from __future__ import annotations

import importlib.util
import json
import struct
import time
from pathlib import Path

import pytest

from mapa_train.config.compose import compose
from mapa_train.errors import MapaConfigError, MapaMissingDependencyError
from mapa_train.train.logs import check_trackers, tracker_init_kwargs
from mapa_train.train.loop import train
from tests.mapa_train.train.standins import standin_parts


def cfg_for(tmp_path, trackers: str):
    return compose(
        "tiny_4v",
        [
            f"train_params.log_with={trackers}",
            "train_params.iters_per_epoch=3",
            "train_params.epochs=1",
            "train_params.print_freq=1",
            f"machine.root_experiments_dir={tmp_path}",
        ],
    )


def wandb_records(path: Path) -> list:
    """The protobuf records of an offline `run-*.wandb` file (a LevelDB-style log of 32 KiB blocks after a
    7-byte W&B header; each chunk has a 7-byte header: crc32, length, type full/first/middle/last)."""
    from wandb.proto import wandb_internal_pb2

    data, block = path.read_bytes(), 32768
    assert data[:4] == b":W&B", f"{path} is not a wandb log"
    pos, pending, records = 7, b"", []
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # the block's tail is padding
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if (length == 0 and kind == 0) or pos + 7 + length > len(
            data
        ):  # the end, or a chunk still being written
            break
        chunk, pos = data[pos + 7 : pos + 7 + length], pos + 7 + length
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def finished_records(path: Path, patience_s: float = 120.0) -> list:
    """The records once the wandb service has written the run's exit record (it writes after `finish` returns)."""
    deadline = time.monotonic() + patience_s
    while True:
        records = wandb_records(path)
        if any(r.WhichOneof("record_type") == "exit" for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def items(entries) -> dict:
    """Key -> value of a record's JSON items."""
    return {e.key or "/".join(e.nested_key): json.loads(e.value_json) for e in entries}


def test_wandb_offline_run_holds_the_loss_history(tmp_path, monkeypatch) -> None:
    pytest.importorskip("wandb", reason="wandb is not installed (pip install 'wai-toolkit[wandb]')")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wandb_dir"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "wandb_dir").mkdir()
    result = train(cfg_for(tmp_path / "runs", "[wandb]"), standin_parts)
    assert len(result.losses) == 3
    [log] = sorted((tmp_path / "wandb_dir").glob("wandb/offline-run-*/run-*.wandb"))
    records = finished_records(log)
    history = [items(r.history.item) for r in records if r.WhichOneof("record_type") == "history"]
    rows = [h for h in history if "train_loss" in h]
    assert [h["_step"] for h in rows] == [1, 2, 3]
    assert [h["train_loss"] for h in rows] == pytest.approx(result.losses, rel=1e-6)
    assert all(h["train_lr_default"] >= 0 and h["train_grad_norm"] > 0 for h in rows)
    assert rows[-1]["val_loss_med"] > 0  # the epoch end's validation, at the last step
    [run] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.project == "tiny_4v"
    config = {}
    for r in records:
        if r.WhichOneof("record_type") == "config":
            config.update(items(r.config.update))
    assert config["train_params.max_num_of_imgs_per_gpu"] == 8 and config["dataset.num_views"] == 4


def test_wandb_run_goes_to_the_stage_folder_by_default(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WANDB_DIR", raising=False)
    assert tracker_init_kwargs(["tensorboard", "wandb"], tmp_path) == {"wandb": {"dir": str(tmp_path)}}
    assert tracker_init_kwargs(["tensorboard"], tmp_path) == {}
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "elsewhere"))
    assert tracker_init_kwargs(["wandb"], tmp_path) == {}


def test_a_missing_tracker_package_names_the_extra(tmp_path, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a)
    )
    with pytest.raises(MapaMissingDependencyError, match=r"pip install 'wai-toolkit\[wandb\]'"):
        train(cfg_for(tmp_path, "[tensorboard,wandb]"), standin_parts)
    assert not list(tmp_path.rglob("config.yaml"))  # stopped before the stage folder was written
    assert check_trackers(["tensorboard", "tensorboard"]) == ["tensorboard"]
    with pytest.raises(MapaConfigError, match="unknown tracker 'tensorbord'"):
        check_trackers(["tensorbord"])
