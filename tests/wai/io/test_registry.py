"""`load` / `store` / `infer_format`: the format table, error messages, atomic writes, JSON/YAML layout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wai.atomic import TMP_MARKER
from wai.errors import WaiFileNotFoundError, WaiFormatError
from wai.io import FORMATS, SUFFIX_FORMATS, infer_format, load, store


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.json", "readable"),
        ("a.YAML", "readable"),
        ("a.yml", "readable"),
        ("a.png", "image"),
        ("a.jpg", "image"),
        ("a.jpeg", "image"),
        ("a.webp", "image"),
        ("a.npy", "numpy"),
        ("a.npz", "numpy"),
        ("a.exr", "scalar"),
        ("a.ply", "mesh"),
        ("a.obj", "mesh"),
        ("a.glb", "mesh"),
    ],
)
def test_infer_format_follows_the_reference_table(name: str, expected: str) -> None:
    assert infer_format(name) == expected


def test_every_inferred_format_is_registered() -> None:
    assert set(SUFFIX_FORMATS.values()) <= set(FORMATS)


def test_infer_format_unknown_suffix() -> None:
    with pytest.raises(WaiFormatError, match=r"notes\.txt.*'\.txt'.*known suffixes: \.json"):
        infer_format("notes.txt")
    with pytest.raises(WaiFormatError, match="ptz.*need torch"):
        infer_format("latent.ptz")


def test_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    known = ", ".join(sorted(FORMATS))
    with pytest.raises(WaiFormatError, match=f"unknown format 'video'; known formats: {known}"):
        load(tmp_path / "x.mp4", "video")
    with pytest.raises(WaiFormatError, match="known formats: binary, depth"):
        store(tmp_path / "x.bin", b"", "bytes")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "scene" / "depth" / "000007.exr"
    with pytest.raises(WaiFileNotFoundError, match=r"depth/000007\.exr.*no such file.*'depth'"):
        load(path, "depth")
    with pytest.raises(FileNotFoundError):
        load(path)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "d.json").mkdir()
    with pytest.raises(WaiFormatError, match="directory"):
        load(tmp_path / "d.json")


def test_wrong_suffix_for_format(tmp_path: Path) -> None:
    with pytest.raises(
        WaiFormatError, match=r"format 'depth' expects a file ending in \.exr, got suffix '\.png'"
    ):
        store(tmp_path / "d.png", np.ones((2, 2)), "depth")


def test_unknown_option_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="qualty"):
        store(tmp_path / "x.jpg", np.zeros((2, 2, 3), np.uint8), "image", qualty=90)


def test_failed_write_keeps_the_old_file_and_no_temporaries(tmp_path: Path, monkeypatch) -> None:
    import wai.io.exr as exr_module

    target = store(tmp_path / "depth" / "0001.exr", np.ones((4, 4)), "depth")
    before = target.read_bytes()
    real_file = exr_module.OpenEXR.File

    class CrashingFile:
        def __init__(self, *args, **kwargs):
            self._inner = real_file(*args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, filename: str) -> None:
            Path(filename).write_bytes(b"\x76\x2f\x31\x01half-written")
            raise RuntimeError("disk full")

    monkeypatch.setattr(exr_module.OpenEXR, "File", CrashingFile)
    with pytest.raises(RuntimeError, match="disk full"):
        store(target, np.full((4, 4), 2.0), "depth")
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.rglob(f"{TMP_MARKER}*")] == []
    np.testing.assert_array_equal(load(target, "depth"), np.ones((4, 4)))


def test_json_layout(tmp_path: Path) -> None:
    data = {"scene_name": "café", "frames": [{"b": np.float32(0.5), "a": np.arange(2)}], "w": np.int64(4)}
    path = store(tmp_path / "scene_meta.json", data)
    text = path.read_bytes().decode("utf-8")
    assert text == (
        '{\n  "scene_name": "café",\n  "frames": [\n    {\n      "b": 0.5,\n      "a": [\n        0,\n        1\n'
        '      ]\n    }\n  ],\n  "w": 4\n}\n'
    )
    assert list(load(path)["frames"][0]) == ["b", "a"]
    assert load(path, as_text=True) == text


def test_json_refuses_nan_and_reports_bad_files(tmp_path: Path) -> None:
    with pytest.raises(WaiFormatError, match=r"meta\.json.*cannot serialise"):
        store(tmp_path / "meta.json", {"x": float("nan")})
    assert not (tmp_path / "meta.json").exists()
    (tmp_path / "broken.json").write_text('{"a": 1,\n  "b": }')
    with pytest.raises(WaiFormatError, match=r"broken\.json.*invalid JSON at line 2"):
        load(tmp_path / "broken.json")
    (tmp_path / "latin.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(WaiFormatError, match="not UTF-8"):
        load(tmp_path / "latin.json")


def test_yaml_keeps_key_order(tmp_path: Path) -> None:
    data = {"zeta": 1, "alpha": {"y": [1, 2], "b": "text"}}
    path = store(tmp_path / "config.yaml", data)
    assert path.read_text().startswith("zeta: 1\nalpha:\n")
    loaded = load(path)
    assert loaded == data and list(loaded) == ["zeta", "alpha"]
    assert json.loads(json.dumps(loaded)) == data


def test_store_returns_a_path_and_accepts_strings(tmp_path: Path) -> None:
    written = store(str(tmp_path / "a" / "b.npy"), np.arange(3))
    assert isinstance(written, Path) and written == tmp_path / "a" / "b.npy"
    np.testing.assert_array_equal(load(str(written)), np.arange(3))


def test_importing_wai_io_does_not_import_torch() -> None:
    code = "import wai.io, sys; assert 'torch' not in sys.modules, 'wai.io imported torch'"
    repo = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=repo
    )
    assert result.returncode == 0, result.stderr
