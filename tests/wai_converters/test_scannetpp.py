"""`wai convert scannetpp` on a fisheye DSLR fixture in ScanNet++'s layout, then `wai undistort` and `wai render`:
the rendered depth must match the synthetic renderer's exact depth and agree across frames."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

from tests.wai.test_reference_readers import reference_intrinsics, reference_load_meta
from tests.wai_converters.fixtures.scannetpp import FISHEYE, N_FRAMES, SCENE, write_scannetpp
from wai import io, open_scene
from wai.scene import SCENE_META_DISTORTED
from wai_converters.testing import BadRaw, ConverterTest, FixtureView, run_cli


def _dslr(raw: Path) -> Path:
    return raw / SCENE / "dslr"


def _transforms(raw: Path) -> Path:
    return _dslr(raw) / "nerfstudio" / "transforms.json"


def _truncate_image(raw: Path) -> None:
    path = _dslr(raw) / "resized_images" / "DSC01755.JPG"
    path.write_bytes(path.read_bytes()[:300])


def _shrink_image(raw: Path) -> None:
    path = _dslr(raw) / "resized_images" / "DSC01755.JPG"
    cv2.imwrite(str(path), np.zeros((10, 12, 3), np.uint8))


def _short_pose(raw: Path) -> None:
    data = json.loads(_transforms(raw).read_text())
    data["frames"][0]["transform_matrix"] = data["frames"][0]["transform_matrix"][:3]
    _transforms(raw).write_text(json.dumps(data))


def _short_segments(raw: Path) -> None:
    path = raw / SCENE / "scans" / "segments.json"
    path.write_text(json.dumps({"segIndices": [0, 1, 2]}))


pytestmark = pytest.mark.skipif(
    find_spec("embreex") is None, reason="wai render needs embreex: pip install -e '.[render]'"
)


class TestScannetpp(ConverterTest):
    converter = "scannetpp"
    expected_scenes = {SCENE: N_FRAMES + 1}  # the frames plus the test frame that has its image
    post_commands = (("undistort",), ("render",))
    depth_modality = "rendered_depth"  # ray-cast from the mesh by `wai render`, as the trainer reads it
    bad_raw = (
        BadRaw("missing transforms", lambda raw: _transforms(raw).unlink(), "transforms.json"),
        BadRaw("truncated image", _truncate_image, "DSC01755.JPG"),
        BadRaw("image of another size", _shrink_image, "DSC01755.JPG': image is 12x10, transforms.json says"),
        BadRaw(
            "missing image",
            lambda raw: (_dslr(raw) / "resized_images" / "DSC01752.JPG").unlink(),
            "DSC01752.JPG",
        ),
        BadRaw("pose with three rows", _short_pose, "transform_matrix"),
        BadRaw("segments of the wrong length", _short_segments, "segments.json"),
        BadRaw(
            "missing class list",
            lambda raw: (raw.parent / "metadata" / "semantic_classes.txt").unlink(),
            "semantic_classes.txt",
        ),
    )

    def make_raw(self, root: Path) -> Mapping[str, Sequence[FixtureView]]:
        return write_scannetpp(root)

    def test_distorted_meta_as_the_reference_writes_it(self, converted) -> None:
        scene = converted.root / SCENE
        meta = json.loads((scene / SCENE_META_DISTORTED).read_text())
        assert meta["dataset_name"] == "scannetppv2" and meta["camera_model"] == "OPENCV_FISHEYE"
        assert meta["k3"] == pytest.approx(FISHEYE.params["k3"]) and meta["scale_type"] == "metric"
        names = [f["frame_name"] for f in meta["frames"]]
        assert names == sorted(names) and len(names) == N_FRAMES + 1
        first = meta["frames"][0]
        assert first["image_distorted"] == first["file_path"] == f"images_distorted/{names[0]}.jpg"
        assert (scene / first["image_distorted"]).is_symlink()
        assert first["anon_mask_distorted"] == f"anon_masks_distorted/{names[0]}.png"
        assert meta["frames"][1]["is_bad"] is True
        gl2cv = np.diag([1.0, -1.0, -1.0, 1.0]).tolist()
        assert meta["_applied_transform"] == gl2cv and meta["_applied_transforms"] == {"opengl2opencv": gl2cv}
        assert set(meta["frame_modalities"]) == {"image_distorted", "anon_mask_distorted"}
        assert meta["scene_modalities"]["labeled_mesh"] == {
            "scene_key": "labeled_mesh.ply",
            "format": "labeled_mesh",
        }
        log = json.loads((scene / "_process_log.json").read_text())
        assert log["conversion"]["message"] == "skipped 1 test frame without files: DSC01767"
        assert meta["colmap_model"] == "colmap" and (scene / "colmap" / "cameras.txt").is_file()

    def test_loads_the_way_the_reference_scannetpp_loader_reads_it(self, converted) -> None:
        """The reference loader requests `image` and `rendered_depth` from scene_meta.json (spec 12)."""
        scene_dir = converted.root / SCENE
        meta = reference_load_meta(scene_dir)
        assert meta["camera_model"] == "PINHOLE" and meta["shared_intrinsics"] is True
        for frame in meta["frames"]:
            K = reference_intrinsics(meta, frame)
            assert K[0, 2] == pytest.approx((meta["w"] - 1) / 2)
            for name in ("image", "rendered_depth"):
                leaf = meta["frame_modalities"][name]
                assert (scene_dir / frame[leaf["frame_key"]]).is_file()
            assert meta["frame_modalities"]["rendered_depth"]["format"] == "depth"
            with OpenEXR.File(str(scene_dir / frame["rendered_depth"]), separate_channels=True) as exr:
                channel = exr.channels()["Y"].pixels
            assert channel.dtype == np.float16 and channel.shape == (meta["h"], meta["w"])

    def test_undistorted_masks_keep_the_anonymised_area(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        for frame in scene.frames:
            mask = frame.load("anon_mask")
            assert frame.raw["anon_mask"].endswith(".png")
            assert 0.8 < mask.mean() < 1.0  # mostly valid, with the blurred-out face still masked

    def test_mesh_in_the_poses_world_with_semantics(self, converted) -> None:
        scene = open_scene(converted.root / SCENE)
        mesh = scene.load_scene_modality("labeled_mesh")
        assert mesh["is_labeled_mesh"] and len(mesh["faces"]) > 0
        # Every camera centre is inside the room the mesh bounds (a wrong axis change would put them outside).
        lo, hi = mesh["vertices"].min(axis=0), mesh["vertices"].max(axis=0)
        centres = scene.poses[:, :3, 3]
        assert np.all(centres > lo) and np.all(centres < hi)
        classes = io.load(scene.scene_modality_path("mappings/semantic_class"), "readable")
        ids = set(np.unique(mesh["vertices_semantic_class_id"]).tolist())
        names = {classes[str(i)] for i in ids if i}
        assert {"wall", "floor", "ceiling"} <= names
        instances = io.load(scene.scene_modality_path("mappings/instance"), "readable")
        used = np.unique(mesh["vertices_instance_id"])
        assert set(instances) == {str(i) for i in used if i}

    def test_scene_in_the_test_split_drops_its_test_frames(self, tmp_path: Path) -> None:
        raw = tmp_path / "data"
        raw.mkdir()
        write_scannetpp(raw)
        (tmp_path / "splits" / "nvs_test.txt").write_text(f"{SCENE}\n")
        result = run_cli(["convert", "scannetpp", "--src", raw, "--dst", tmp_path / "wai", "--no-mesh"])
        assert result.exit_code == 0, result.output
        meta = json.loads((tmp_path / "wai" / SCENE / SCENE_META_DISTORTED).read_text())
        assert len(meta["frames"]) == N_FRAMES and "labeled_mesh" not in meta["scene_modalities"]
