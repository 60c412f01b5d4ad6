"""`wai viz`: recordings saved to .rrd and read back with the Rerun SDK."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import wai
from cli.wai_cli import main
from tests.realdata import realdata
from tests.wai.viz.rrd import as_array, component_columns, logged
from wai.geometry import project_points

W, H, FRAMES = 64, 48, 8


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("viz") / "synthetic"
    _run(
        "convert", "synthetic", "--dst", dst, "--num-scenes", 2, "--width", W, "--height", H,
        "--min-frames", FRAMES, "--max-frames", FRAMES,
    )  # fmt: skip
    return dst


def _covisible(root: Path) -> Path:
    """A copy-free scene with a covisibility matrix: a chain in which frame i sees only i-1 and i+1."""
    scene = root / "objects_001"
    folder = scene / "covisibility" / "v0"
    if not folder.is_dir():
        m = np.eye(FRAMES, dtype=np.float32)
        for i in range(FRAMES - 1):
            m[i, i + 1] = m[i + 1, i] = 0.6
        folder.mkdir(parents=True)
        np.save(folder / f"pairwise_covisibility--{FRAMES}x{FRAMES}.npy", m)
    return scene


def _pose(values: dict[str, list], entity: str) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = as_array(values[entity]["Transform3D:mat3x3"][0]).reshape(3, 3).T  # Rerun is column-major
    pose[:3, 3] = as_array(values[entity]["Transform3D:translation"][0])
    return pose


def test_views_logs_n_pinholes_with_the_scene_poses(root: Path, tmp_path: Path) -> None:
    scene_dir = _covisible(root)
    out = tmp_path / "views.rrd"
    text = _run("viz", scene_dir, "--views", 4, "--seed", 3, "--max-points", 500, "--save", out)
    assert "computing" not in text
    values = logged(out)
    cameras = sorted(e for e in values if e.startswith("/world/views/") and e.count("/") == 3)
    assert len(cameras) == 4
    scene = wai.open_scene(scene_dir)
    for entity in cameras:
        frame = scene.frame(entity.rsplit("/", 1)[1])
        assert as_array(values[entity]["Pinhole:resolution"][0]).tolist() == [[W, H]]
        K = as_array(values[entity]["Pinhole:image_from_camera"][0]).reshape(3, 3).T
        np.testing.assert_allclose(K, frame.intrinsics, atol=1e-4)
        np.testing.assert_allclose(_pose(values, entity), frame.cam2world, atol=1e-5)
        points = as_array(values[f"/world/points/{frame.name}"]["Points3D:positions"][0])
        assert points.shape == (min(500, int((frame.depth > 0).sum())), 3)
        assert f"{entity}/depth" in values and values[f"{entity}/depth"]["DepthImage:meter"][0] == [1.0]
    # The chain: a 4-view walk is 4 consecutive frames, so the drawn graph has at least 3 edges.
    names = sorted(int(e.rsplit("/", 1)[1]) for e in cameras)
    assert names == list(range(names[0], names[0] + 4))
    strips = values["/world/covisibility"]["LineStrips3D:strips"][0]
    assert len(strips) >= 3
    columns = component_columns(out)
    assert f"{cameras[0]}/mask/mask:SegmentationImage:buffer" in columns


def test_views_are_reproducible_under_a_seed(root: Path, tmp_path: Path) -> None:
    scene_dir = _covisible(root)

    def shown(seed: int, name: str) -> list[str]:
        out = tmp_path / name
        _run("viz", scene_dir, "--views", 3, "--seed", seed, "--max-points", 0, "--save", out)
        return sorted(e for e in logged(out) if e.startswith("/world/views/") and e.count("/") == 3)

    assert shown(5, "a.rrd") == shown(5, "b.rrd")


def test_views_without_covisibility_computes_one_and_says_so(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "fly.rrd"
    text = _run("viz", root / "room_000", "--views", 3, "--max-points", 50, "--save", out)
    assert "no covisibility matrix: computing one on the fly" in text
    assert not (root / "room_000" / "covisibility").exists()
    cameras = [e for e in logged(out) if e.startswith("/world/views/") and e.count("/") == 3]
    assert len(cameras) == 3


def test_whole_scene_plays_along_the_frame_timeline(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "seq.rrd"
    _run("viz", root, "--scene", "room_000", "--max-points", 100, "--save", out)
    values = logged(out)
    camera = values["/world/camera"]
    assert len(camera["Pinhole:resolution"]) == FRAMES
    assert sorted(set(camera["frame"])) == list(range(FRAMES))
    scene = wai.open_scene(root / "room_000")
    clouds = [e for e in values if e.startswith("/world/points/")]
    assert len(clouds) == FRAMES
    trajectory = as_array(values["/world/trajectory"]["LineStrips3D:strips"][0][0])
    np.testing.assert_allclose(trajectory, scene.poses[:, :3, 3], atol=1e-5)


def test_frames_option_shows_exactly_those_frames(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "frames.rrd"
    _run("viz", root / "room_000", "--frames", "000001,000005", "--modalities", "depth", "--save", out)
    values = logged(out)
    cameras = sorted(e for e in values if e.startswith("/world/views/") and e.count("/") == 3)
    assert cameras == ["/world/views/000001", "/world/views/000005"]
    assert not any("/mask/" in e for e in values)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--views", "2", "--frames", "000001"], "not both"),
        ([], "exactly one of --save"),
        (["--spawn", "--save", "x.rrd"], "exactly one of --save"),
        (["--frames", "nope", "--save", "x.rrd"], "nope"),
        (["--modalities", "image,unknown", "--save", "x.rrd"], "unknown"),
    ],
)
def test_bad_options_fail_with_one_line(root: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["viz", str(root / "room_000"), *args])
    assert result.exit_code != 0
    assert message in result.output


def test_root_without_scenes_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["viz", str(tmp_path), "--save", str(tmp_path / "x.rrd")])
    assert result.exit_code != 0 and "neither a scene" in result.output


@pytest.fixture(scope="module")
def real_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real RGB-D kitchen and the instant-ngp fox, imported with `wai convert nerfstudio`."""
    kitchen, fox = realdata("redkitchen_rgbd"), realdata("fox_nerfstudio")
    assert kitchen.parent == fox.parent
    dst = tmp_path_factory.mktemp("viz_real") / "real"
    _run(
        "convert", "nerfstudio", "--src", kitchen.parent, "--scenes", "redkitchen_rgbd,fox_nerfstudio",
        "--dst", dst, "--scale-type", "metric",
    )  # fmt: skip
    return dst


def test_real_rgbd_views_drawn_from_a_covisibility_computed_on_the_fly(
    real_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kitchen.rrd"
    text = _run("viz", real_root / "redkitchen_rgbd", "--views", 3, "--max-points", 2000, "--save", out)
    assert "computing one on the fly" in text
    values = logged(out)
    scene = wai.open_scene(real_root / "redkitchen_rgbd")
    cameras = sorted(e for e in values if e.startswith("/world/views/") and e.count("/") == 3)
    assert len(cameras) == 3
    for entity in cameras:
        frame = scene.frame(entity.rsplit("/", 1)[1])
        np.testing.assert_allclose(_pose(values, entity), frame.cam2world, atol=1e-5)
        assert as_array(values[entity]["Pinhole:resolution"][0]).tolist() == [[640, 480]]
        points = as_array(values[f"/world/points/{frame.name}"]["Points3D:positions"][0])
        assert points.shape == (2000, 3)
        # A kitchen seen by a Kinect: every back-projected point is within a few metres of its camera.
        assert np.linalg.norm(points - frame.cam2world[:3, 3], axis=1).max() < 8.0


def test_distorted_capture_without_depth_is_shown_before_undistortion(
    real_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fox.rrd"
    text = _run("viz", real_root / "fox_nerfstudio", "--views", 4, "--save", out)
    assert "not undistorted yet" in text and "no depth, so no covisibility" in text
    values = logged(out)
    cameras = [e for e in values if e.startswith("/world/views/") and e.count("/") == 3]
    assert len(cameras) == 4
    assert not any(e.startswith("/world/points/") and values[e]["Points3D:positions"][0] for e in values)


def test_as_training_shows_the_trainers_sample(root: Path, tmp_path: Path) -> None:
    scene_dir = _covisible(root)
    out = tmp_path / "train.rrd"
    text = _run(
        "viz", scene_dir, "--views", 3, "--as-training", "--resolution", "112x84", "--max-points", 300,
        "--save", out,
    )  # fmt: skip
    assert "logged the training sample" in text
    values = logged(out)
    cameras = sorted(e for e in values if e.startswith("/world/views/") and e.count("/") == 3)
    assert len(cameras) == 3
    scene = wai.open_scene(scene_dir)
    for entity in cameras:
        frame = scene.frame(entity.rsplit("_", 1)[1])
        assert as_array(values[entity]["Pinhole:resolution"][0]).tolist() == [[112, 84]]
        np.testing.assert_allclose(_pose(values, entity), frame.cam2world, atol=1e-5)
        K = as_array(values[entity]["Pinhole:image_from_camera"][0]).reshape(3, 3).T
        # 64x48 to 112x84 is a pure scale of 1.75 about the pixel-centre grid.
        np.testing.assert_allclose(K[0, 0], 1.75 * frame.intrinsics[0, 0], rtol=1e-4)
        assert f"{entity}/mask/valid_mask" in values
        # The sample's points back-project onto the scene: projected into the original frame, they meet its depth.
        points = as_array(values[f"/world/points/{entity.rsplit('/', 1)[1]}"]["Points3D:positions"][0])
        uv, z, _ = project_points(points, frame.camera, frame.cam2world)
        px = np.rint(uv).astype(int)
        inside = (px[:, 0] >= 0) & (px[:, 0] < W) & (px[:, 1] >= 0) & (px[:, 1] < H)
        depth = frame.depth[px[inside, 1], px[inside, 0]]
        agree = np.abs(depth - z[inside]) < 0.05 * depth
        assert inside.mean() > 0.95 and agree.mean() > 0.8


def test_as_training_needs_views(root: Path) -> None:
    result = CliRunner().invoke(main, ["viz", str(root / "room_000"), "--as-training", "--save", "x.rrd"])
    assert result.exit_code != 0 and "--as-training needs --views" in result.output
