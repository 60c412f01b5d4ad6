"""The conformance tests every converter gets, shipped with the package (as zarr ships `zarr.testing.store`).

A concrete test subclasses `ConverterTest` and supplies only the raw fixture and what it expects::

    class TestBlendedMVS(ConverterTest):
        converter = "blendedmvs"
        expected_scenes = {"5a3ca9cb270f0e3f14d0eddb": 4}

        def make_raw(self, root):
            return write_blendedmvs(root)      # lays out the raw files; returns the known views per scene

The base class converts the fixture through the command line (``wai convert NAME --src RAW --dst OUT``), then
checks the scene and frame counts, the known geometry (intrinsics, relative poses and depth against the views the
fixture was rendered from), multi-view depth consistency (frame i's depth moved into frame j agrees with j's depth
within a pixel), ``wai validate --deep``, that a second run skips every scene, and that each damaged raw input in
`bad_raw` fails (or is reported) with a message naming the file.

Needs pytest and the `cli` package (imported only when a test runs, so importing this module stays light).
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from wai.camera import Camera
from wai.camera.conventions import invert_rigid
from wai.geometry import reproject_depth
from wai.scene import Scene, list_scenes, open_scene
from wai.scene.meta import SCENE_META


@dataclasses.dataclass(frozen=True)
class FixtureView:
    """One view a raw fixture was rendered from: the ground truth the converted frame must match.

    image (H, W, 3) uint8; depth (H, W) float32 z-depth, 0 where invalid; valid (H, W) bool; K (3, 3);
    cam2world (4, 4) OpenCV; camera: the full camera (model and distortion) when it is not a plain pinhole K.
    """

    image: np.ndarray
    depth: np.ndarray
    valid: np.ndarray
    K: np.ndarray
    cam2world: np.ndarray
    camera: Camera | None = None


@dataclasses.dataclass(frozen=True)
class BadRaw:
    """A way to damage a freshly written raw fixture, and what the converter must then say.

    damage: edits the raw root in place (delete a camera file, truncate an image, ...).
    message: a text that must appear in the command's output, typically the damaged file's name.
    fails: True if the run must exit non-zero; False if it must succeed and only report (e.g. missing images).
    """

    name: str
    damage: Callable[[Path], None]
    message: str
    fails: bool = True


@dataclasses.dataclass(frozen=True)
class Converted:
    """A converted fixture: raw and output roots, the command output and the known views (or None)."""

    raw: Path
    root: Path
    output: str
    truth: Mapping[str, Sequence[FixtureView]] | None


def run_cli(args: Sequence[Any]) -> Any:
    """Run the `wai` command in-process with click's CliRunner; returns the click `Result`."""
    from click.testing import CliRunner

    main = importlib.import_module("cli.wai_cli").main
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def option_flags(options: Mapping[str, Any]) -> list[str]:
    """Converter config fields as command-line flags: ``{"num_scenes": 3, "jpeg": False}`` ->
    ``["--num-scenes", "3", "--no-jpeg"]``."""
    flags: list[str] = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + flag[2:])
        else:
            flags += [flag, str(value)]
    return flags


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How view i's depth, moved into view j, compares with j's own depth (fractions of pixels).

    overlap: pixels of j with valid depth that receive a point of i agreeing with j (see `depth_agreement`),
        over all valid pixels of j.
    inliers: agreeing points over agreeing plus conflicting ones (a conflicting point lies in front of the surface
        j sees there, which j would have seen: the two views disagree).
    occluded: points behind the surface j sees there (hidden in j, or a wrong scale), over all that landed.
    """

    overlap: float
    inliers: float
    occluded: float


def depth_agreement(
    depth_i: np.ndarray,
    cam_i: Camera,
    c2w_i: np.ndarray,
    depth_j: np.ndarray,
    cam_j: Camera,
    c2w_j: np.ndarray,
    rtol: float,
) -> Agreement:
    """Compare view i's depth moved into view j (`wai.geometry.reproject_depth`) with j's depth.

    A moved point agrees when its depth lies within the range of j's valid depths in the 3x3 pixels around where
    it lands, widened by `rtol`: it lands within a pixel of j's surface. This tolerates nearest-pixel rounding on
    surfaces seen at grazing angles, where one pixel spans a large depth range.
    """
    moved = reproject_depth(depth_i, cam_i, c2w_i, cam_j, c2w_j)
    target = np.where(np.isfinite(depth_j) & (depth_j > 0), depth_j, 0.0).astype(np.float64)
    h, w = target.shape
    padded = np.pad(target, 1)
    stack = np.stack([padded[dv : dv + h, du : du + w] for dv in range(3) for du in range(3)])
    lo = np.where(stack > 0, stack, np.inf).min(axis=0) * (1.0 - rtol)
    hi = stack.max(axis=0) * (1.0 + rtol)
    landed = (moved > 0) & (target > 0)
    agree = landed & (moved >= lo) & (moved <= hi)
    conflict = landed & (moved < lo)
    occluded = landed & (moved > hi)
    return Agreement(
        overlap=float(agree.sum()) / max(1, int((target > 0).sum())),
        inliers=float(agree.sum()) / max(1, int((agree | conflict).sum())),
        occluded=float(occluded.sum()) / max(1, int(landed.sum())),
    )


class ConverterTest(abc.ABC):
    """Base class of a converter's conformance test. Subclasses name a `converter`, its `expected_scenes` and write
    the raw fixture in `make_raw`; every test method below then runs on that fixture."""

    #: Registry name, as in ``wai convert NAME``.
    converter: ClassVar[str]
    #: Scene name -> frame count the conversion must produce.
    expected_scenes: ClassVar[Mapping[str, int]]
    #: Extra converter config fields (passed as ``--field-name value`` flags).
    options: ClassVar[Mapping[str, Any]] = {}
    #: `wai` commands run on the output root after conversion, before the checks (e.g. ``(("undistort",),)``).
    post_commands: ClassVar[Sequence[Sequence[str]]] = ()
    #: The scene meta file the checks read (after `post_commands`).
    meta_name: ClassVar[str] = SCENE_META
    #: False for converters that write no depth (the depth checks are then skipped, with that reason).
    check_depth: ClassVar[bool] = True
    #: The frame modality holding depth.
    depth_modality: ClassVar[str] = "depth"
    #: Multi-view consistency of each checked pair (see `Agreement`): relative depth tolerance, least overlap,
    #: least inlier fraction, most occluded fraction. Fixtures should render closely spaced views (as
    #: `render_views` does) so that little of one view is hidden in the next.
    depth_rtol: ClassVar[float] = 0.01
    min_overlap: ClassVar[float] = 0.1
    min_inliers: ClassVar[float] = 0.95
    max_occluded: ClassVar[float] = 0.2
    #: At most this many consecutive frame pairs per scene are checked (evenly spread).
    max_pairs: ClassVar[int] = 6
    #: Known-geometry tolerances: intrinsics in pixels, relative poses (rotation entries and translation units).
    intrinsics_atol: ClassVar[float] = 1e-3
    #: Largest median relative depth error against the truth (raise it for depth resampled from another camera).
    depth_median_rtol: ClassVar[float] = 2e-3
    pose_atol: ClassVar[float] = 1e-4
    #: Damaged raw inputs, each converted in a fresh copy of the fixture.
    bad_raw: ClassVar[Sequence[BadRaw]] = ()

    @abc.abstractmethod
    def make_raw(self, root: Path) -> Mapping[str, Sequence[FixtureView]] | None:
        """Write the raw fixture under `root` (the ``--src`` folder). Return the known views of each scene, in the
        converted frame order, or None when the fixture has no separate ground truth."""

    # --- plumbing ---------------------------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "bad_raw_case" in metafunc.fixturenames:
            cases = list(self.bad_raw)
            metafunc.parametrize("bad_raw_case", cases, ids=[c.name for c in cases])

    def convert_args(self, raw: Path, root: Path, *extra: str) -> list[str]:
        """The ``wai convert`` command line for this converter."""
        from wai_converters.registry import get_converter

        args = ["convert", self.converter]
        if get_converter(self.converter).needs_source:
            args += ["--src", str(raw)]
        return [*args, "--dst", str(root), *option_flags(self.options), *extra]

    def convert(self, raw: Path, root: Path, *extra: str) -> Any:
        """Run the conversion (and `post_commands`) through the CLI; returns the conversion's click result."""
        result = run_cli(self.convert_args(raw, root, *extra))
        if result.exit_code == 0:
            for command in self.post_commands:
                post = run_cli([*command, str(root)])
                assert post.exit_code == 0, f"wai {' '.join(command)} failed:\n{post.output}"
        return result

    @pytest.fixture(scope="class")
    @classmethod
    def converted(cls, tmp_path_factory: pytest.TempPathFactory) -> Converted:
        """The fixture converted once per test class (each test gets its own instance, so nothing is kept on it)."""
        self = cls()
        base = tmp_path_factory.mktemp(f"convert_{self.converter}")
        raw = base / "raw"
        raw.mkdir()
        truth = self.make_raw(raw)
        root = base / "wai"
        result = self.convert(raw, root)
        assert result.exit_code == 0, result.output
        return Converted(raw, root, result.output, truth)

    def scenes(self, converted: Converted) -> list[Scene]:
        return [open_scene(converted.root / name, self.meta_name) for name in list_scenes(converted.root)]

    def frame_pairs(self, scene: Scene) -> list[tuple[int, int]]:
        """The (i, j) frame pairs whose depth must agree: consecutive frames, evenly spread, at most `max_pairs`."""
        n = len(scene)
        if n < 2:
            return []
        starts = np.unique(np.linspace(0, n - 2, min(self.max_pairs, n - 1)).round().astype(int))
        return [(int(i), int(i) + 1) for i in starts]

    # --- the tests --------------------------------------------------------------------------------------------

    def test_every_scene_converted(self, converted: Converted) -> None:
        n = len(self.expected_scenes)
        assert f"{n} done, 0 skipped, 0 failed" in converted.output, converted.output

    def test_scene_and_frame_counts(self, converted: Converted) -> None:
        assert list_scenes(converted.root) == sorted(self.expected_scenes)
        counts = {scene.name: len(scene) for scene in self.scenes(converted)}
        assert counts == dict(self.expected_scenes)

    def test_matches_known_geometry(self, converted: Converted) -> None:
        if converted.truth is None:
            pytest.skip(f"the {self.converter} fixture returns no known views")
        assert sorted(converted.truth) == sorted(self.expected_scenes)
        for scene in self.scenes(converted):
            truth = converted.truth[scene.name]
            assert len(truth) == len(scene), scene.name
            self.compare_with_truth(scene, truth)

    def compare_with_truth(self, scene: Scene, truth: Sequence[FixtureView]) -> None:
        """Intrinsics, poses relative to the first frame (so any world transform is allowed) and depth."""
        first_truth = invert_rigid(truth[0].cam2world)
        first = invert_rigid(scene.frames[0].cam2world)
        for frame, view in zip(scene.frames, truth, strict=True):
            where = f"scene {scene.name}, frame {frame.name}"
            camera = frame.camera
            assert (camera.height, camera.width) == view.depth.shape, where
            expected = view.camera.params if view.camera is not None else _pinhole_params(view.K)
            if view.camera is not None and not view.camera.is_pinhole:
                assert camera.model is view.camera.model, where
            for key, value in expected.items():
                assert abs(camera.params.get(key, 0.0) - value) <= self.intrinsics_atol, (where, key)
            np.testing.assert_allclose(
                first @ frame.cam2world, first_truth @ view.cam2world, atol=self.pose_atol, err_msg=where
            )
            assert frame.image.shape == view.image.shape, where
            if self.check_depth:
                depth = np.asarray(frame.load(self.depth_modality), dtype=np.float64)
                ours = np.isfinite(depth) & (depth > 0)
                both = ours & view.valid
                assert both.sum() >= 0.5 * view.valid.sum(), f"{where}: depth missing where the truth has it"
                assert (ours & ~view.valid).sum() <= 0.01 * ours.sum(), (
                    f"{where}: depth where nothing was hit"
                )
                rel = np.abs(depth[both] - view.depth[both]) / view.depth[both]
                assert np.median(rel) < self.depth_median_rtol, (where, float(np.median(rel)))

    def test_depth_consistent_across_views(self, converted: Converted) -> None:
        if not self.check_depth:
            pytest.skip(f"{self.converter} writes no depth at conversion")
        checked = 0
        for scene in self.scenes(converted):
            for i, j in self.frame_pairs(scene):
                a, b = scene.frames[i], scene.frames[j]
                agreement = depth_agreement(
                    a.load(self.depth_modality),
                    a.camera,
                    a.cam2world,
                    b.load(self.depth_modality),
                    b.camera,
                    b.cam2world,
                    self.depth_rtol,
                )
                where = f"scene {scene.name}, frames {a.name} -> {b.name}"
                assert agreement.overlap >= self.min_overlap, (where, agreement)
                assert agreement.inliers >= self.min_inliers, (where, agreement)
                assert agreement.occluded <= self.max_occluded, (where, agreement)
                checked += 1
        assert checked > 0, "no scene has two frames to compare"

    def test_validate_deep(self, converted: Converted) -> None:
        result = run_cli(["validate", "--deep", "--workers", "1", str(converted.root)])
        assert result.exit_code == 0, result.output

    def test_second_run_skips_every_scene(self, converted: Converted) -> None:
        metas = {name: (converted.root / name / self.meta_name) for name in self.expected_scenes}
        before = {name: path.stat().st_mtime_ns for name, path in metas.items()}
        result = run_cli(self.convert_args(converted.raw, converted.root))
        assert result.exit_code == 0, result.output
        n = len(self.expected_scenes)
        assert f"0 done, {n} skipped, 0 failed" in result.output, result.output
        assert {name: path.stat().st_mtime_ns for name, path in metas.items()} == before

    def test_wai_viz_shows_every_scene(self, converted: Converted, tmp_path: Path) -> None:
        """`wai viz --views 2` works on what the converter wrote: two pinhole cameras per scene are logged."""
        rerun = pytest.importorskip("rerun", reason="wai viz needs the viz extra")
        for name in self.expected_scenes:
            out = tmp_path / f"{name}.rrd"
            result = run_cli(
                [
                    "viz",
                    str(converted.root),
                    "--scene",
                    name,
                    "--views",
                    "2",
                    "--max-points",
                    "100",
                    "--save",
                    str(out),
                ]
            )
            assert result.exit_code == 0, result.output
            columns = rerun.chunk.RrdReader(str(out)).store().schema().component_columns()
            pinholes = {c.entity_path for c in columns if c.name.endswith(":Pinhole:resolution")}
            assert len(pinholes) == len(set(self._shown(result.output))) > 0, (name, result.output)

    @staticmethod
    def _shown(output: str) -> list[str]:
        """The frame names a `wai viz` run reports as logged."""
        line = next(ln for ln in output.splitlines() if ": logged " in ln)
        return line.split(": logged ", 1)[1].rsplit(" to ", 1)[0].split(", ")

    def test_bad_raw_input(self, bad_raw_case: BadRaw, tmp_path: Path) -> None:
        raw = tmp_path / "raw"
        raw.mkdir()
        self.make_raw(raw)
        bad_raw_case.damage(raw)
        result = run_cli(self.convert_args(raw, tmp_path / "wai"))
        if bad_raw_case.fails:
            assert result.exit_code != 0, f"{bad_raw_case.name}: conversion succeeded:\n{result.output}"
        else:
            assert result.exit_code == 0, result.output
        assert bad_raw_case.message in result.output, result.output


def _pinhole_params(K: np.ndarray) -> dict[str, float]:
    return {"fl_x": float(K[0, 0]), "fl_y": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2])}
