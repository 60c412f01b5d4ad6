"""`wai convert scannetpp`: ScanNet++ v2, DSLR images (fisheye), as the reference's ``scannetppv2`` converter.

Raw layout (``--src`` is the release's ``data/`` folder; ``splits/`` and ``metadata/`` sit beside it)::

    <release>/data/<scene_id>/dslr/nerfstudio/transforms.json     OPENCV_FISHEYE, OpenGL cam2world, frames + test_frames
    <release>/data/<scene_id>/dslr/resized_images/DSCxxxxx.JPG
    <release>/data/<scene_id>/dslr/resized_anon_masks/DSCxxxxx.png   (optional folder)
    <release>/data/<scene_id>/dslr/colmap/{cameras,images,points3D}.txt   (linked, not parsed)
    <release>/data/<scene_id>/scans/mesh_aligned_0.05.ply [+ segments.json, segments_anno.json]   (optional folder)
    <release>/splits/nvs_test.txt                       scenes whose test frames are held out
    <release>/metadata/semantic_classes.txt             class names, one a line
    <release>/metadata/semantic_benchmark/map_benchmark.csv   class,semantic_map_to,instance_map_to

The scene is written distorted (``scene_meta_distorted.json``, ``images_distorted/``, ``anon_masks_distorted/``,
symlinks to the raw files); `wai undistort` then writes ``scene_meta.json`` and `wai render` the depth.
The one change of convention is here: poses are OpenGL cam2world in the nerfstudio world, turned into OpenCV
cam2world by right-multiplying diag(1, -1, -1, 1) (recorded in ``_applied_transform(s)``); the mesh is moved into
that same world by `SCANNETPP_TO_NERFSTUDIO_WORLD`, so poses and mesh agree without a further transform.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from wai import io
from wai.camera import Camera
from wai.camera.conventions import CONVENTION_TRANSFORMS, opengl_to_opencv
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.plural import plural
from wai.scene import SCENE_META_DISTORTED, save_scene_meta
from wai.scene.meta import read_json
from wai.stages import SceneResult
from wai_converters.base import Converter, ConverterConfig
from wai_converters.meta_header import scene_meta_header
from wai_converters.raw_inputs import check_image_size

logger = logging.getLogger(__name__)

DATASET_NAME = "scannetppv2"
#: Vertices of ScanNet++'s ``mesh_aligned_0.05.ply`` -> the world of its nerfstudio transforms.json (x <-> y, -z).
SCANNETPP_TO_NERFSTUDIO_WORLD = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
#: Camera keys copied from transforms.json (scene level, and per frame where a frame has them).
CAMERA_KEYS = ("fl_x", "fl_y", "cx", "cy", "h", "w", "k1", "k2", "k3", "k4", "p1", "p2")
COLMAP_FILES = ("cameras", "images", "points3D")
MESH = "scans/mesh_aligned_0.05.ply"


@dataclasses.dataclass
class ScannetppConfig(ConverterConfig):
    src: Path | None = dataclasses.field(
        default=None, metadata={"help": "The release's data/ folder (one sub-folder per scene id)."}
    )
    test_split: Path | None = dataclasses.field(
        default=None,
        metadata={
            "help": "Scene list whose test frames are left out (default: <src>/../splits/nvs_test.txt)."
        },
    )
    mesh: bool = dataclasses.field(
        default=True, metadata={"help": "Write labeled_mesh.ply from scans/ (needed by `wai render`)."}
    )


@dataclasses.dataclass(frozen=True)
class Semantics:
    """The release's class list and benchmark mapping (read once per run)."""

    classes: tuple[str, ...]
    remap: dict[
        str, str
    ]  # raw label -> benchmark class (rows whose semantic_map_to is empty keep their label)

    def class_id(self, label: str) -> int:
        """1-based index of the (remapped) label in semantic_classes.txt; 0 when it is not a class."""
        name = self.remap.get(label, label)
        try:
            return self.classes.index(name) + 1
        except ValueError:
            return 0


def _read_semantics(release: Path) -> Semantics:
    classes_path = release / "metadata" / "semantic_classes.txt"
    bench_path = release / "metadata" / "semantic_benchmark" / "map_benchmark.csv"
    for path in (classes_path, bench_path):
        if not path.is_file():
            raise WaiFileNotFoundError(f"{where(file=str(path))}: missing (part of every ScanNet++ release)")
    classes = tuple(line.strip() for line in classes_path.read_text().splitlines() if line.strip())
    remap: dict[str, str] = {}
    with bench_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"class", "semantic_map_to"} - set(reader.fieldnames or ())
        if missing:
            raise WaiFormatError(f"{where(file=str(bench_path))}: missing columns {sorted(missing)}")
        for row in reader:
            target = (row.get("semantic_map_to") or "").strip()
            if target and target.lower() != "nan":
                remap[row["class"].strip()] = target
    return Semantics(classes, remap)


def _palette(ids: np.ndarray) -> np.ndarray:
    """A fixed colour per id (0 = black), the same on every machine: golden-ratio hues."""
    ids = np.asarray(ids, dtype=np.int64)
    hue = (ids * 0.618033988749895) % 1.0
    rgb = np.stack([np.abs(((hue * 6 + k) % 6) - 3) - 1 for k in (0, 4, 2)], axis=-1).clip(0, 1)
    colours = np.rint((0.35 + 0.65 * rgb) * 255).astype(np.uint8)
    colours[ids == 0] = 0
    return colours


class ScannetppConverter(Converter):
    name = "scannetpp"
    description = (
        "ScanNet++ v2 DSLR: fisheye images, poses and the laser-scan mesh (then undistort and render)."
    )
    config_class = ScannetppConfig

    config: ScannetppConfig

    def __init__(self, config: ScannetppConfig) -> None:
        super().__init__(config)
        if config.src is None:
            raise WaiFormatError("scannetpp: --src (the release's data/ folder) is required")
        self.src = Path(config.src).expanduser().resolve()
        if not self.src.is_dir():
            raise WaiFileNotFoundError(f"scannetpp: --src '{self.src}' is not a folder")
        release = self.src.parent
        split = Path(config.test_split) if config.test_split else release / "splits" / "nvs_test.txt"
        if not split.is_file():
            raise WaiFileNotFoundError(
                f"{where(file=str(split))}: missing (the NVS test split of the release)"
            )
        self.test_scenes = frozenset(line.strip() for line in split.read_text().splitlines() if line.strip())
        self.semantics = _read_semantics(release)

    def source_scenes(self) -> list[str]:
        return sorted(p.name for p in self.src.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))

    # --- frames ------------------------------------------------------------------------------------------------

    def _frames(
        self, scene: str, transforms: dict[str, Any], path: Path
    ) -> list[tuple[dict[str, Any], bool]]:
        """(raw frame, is test frame) pairs in the reference's order: sorted by file_path."""
        frames = transforms.get("frames")
        if not isinstance(frames, list):
            raise WaiFormatError(f"{where(scene=scene, file=str(path), field='frames')}: expected a list")
        chosen = [(f, False) for f in frames]
        if scene not in self.test_scenes:
            tests = transforms.get("test_frames", [])
            if not isinstance(tests, list):
                raise WaiFormatError(
                    f"{where(scene=scene, file=str(path), field='test_frames')}: expected a list"
                )
            chosen += [(f, True) for f in tests]
        for i, (frame, _) in enumerate(chosen):
            if not isinstance(frame, dict) or not isinstance(frame.get("file_path"), str):
                raise WaiFormatError(
                    f"{where(scene=scene, file=str(path), field=f'frames[{i}].file_path')}: expected a string"
                )
        return sorted(chosen, key=lambda pair: pair[0]["file_path"])

    @staticmethod
    def _pose(frame: dict[str, Any], loc: str) -> np.ndarray:
        try:
            matrix = np.asarray(frame["transform_matrix"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise WaiFormatError(f"{loc}, field 'transform_matrix': expected a 4x4 matrix ({exc})") from None
        if matrix.shape != (4, 4) or not np.all(np.isfinite(matrix)):
            raise WaiFormatError(
                f"{loc}, field 'transform_matrix': expected a finite 4x4 matrix, got shape {matrix.shape}"
            )
        return opengl_to_opencv(matrix)

    # --- scene -------------------------------------------------------------------------------------------------

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        raw = self.src / scene
        dslr = raw / "dslr"
        transforms_path = dslr / "nerfstudio" / "transforms.json"
        transforms = read_json(transforms_path, scene=scene)
        if not isinstance(transforms, dict):
            raise WaiFormatError(f"{where(scene=scene, file=str(transforms_path))}: expected a JSON object")
        meta = scene_meta_header(
            scene, DATASET_NAME, camera_model=transforms.get("camera_model"), scale_type="metric"
        )
        meta.update((k, transforms[k]) for k in CAMERA_KEYS if k in transforms)
        camera = Camera.from_meta(meta, where=where(scene=scene, file=str(transforms_path)))
        image_dir, mask_dir = dslr / "resized_images", dslr / "resized_anon_masks"
        frames_out: list[dict[str, Any]] = []
        skipped: list[str] = []
        for raw_frame, is_test in self._frames(scene, transforms, transforms_path):
            stem = Path(raw_frame["file_path"]).stem
            loc = where(scene=scene, frame=stem, file=str(transforms_path))
            image = image_dir / raw_frame["file_path"]
            mask = (
                mask_dir / raw_frame["mask_path"] if mask_dir.is_dir() and "mask_path" in raw_frame else None
            )
            missing = [p for p in (image, mask) if p is not None and not p.is_file()]
            if missing:
                if is_test:
                    skipped.append(stem)
                    continue
                raise WaiFileNotFoundError(f"{where(scene=scene, frame=stem, file=str(missing[0]))}: missing")
            frame: dict[str, Any] = {"frame_name": stem}
            own = {k: raw_frame[k] for k in CAMERA_KEYS if k in raw_frame}
            frame_camera = Camera.from_meta({**meta, **own}, where=loc) if own else camera
            # decode once: a truncated or wrongly sized DSLR image fails here, naming the file
            check_image_size(image, frame_camera.size, "transforms.json", scene=scene, frame=stem)
            frame["image_distorted"] = self._link(out_dir, f"images_distorted/{stem}.jpg", image)
            frame["file_path"] = frame["image_distorted"]
            if mask is not None:
                frame["anon_mask_distorted"] = self._link(out_dir, f"anon_masks_distorted/{stem}.png", mask)
            frame["transform_matrix"] = self._pose(raw_frame, loc).tolist()
            frame.update(own)
            if "is_bad" in raw_frame:
                frame["is_bad"] = bool(raw_frame["is_bad"])
            frames_out.append(frame)
        message = ""
        if skipped:
            message = f"skipped {plural(len(skipped), 'test frame')} without files: {', '.join(skipped)}"
            logger.warning("scannetpp scene '%s': %s", scene, message)
        if not frames_out:
            raise WaiFormatError(f"{where(scene=scene, file=str(transforms_path))}: no frame has its files")
        meta["frames"] = frames_out
        modalities = {"image_distorted": {"frame_key": "image_distorted", "format": "image"}}
        if all("anon_mask_distorted" in f for f in frames_out):
            modalities["anon_mask_distorted"] = {"frame_key": "anon_mask_distorted", "format": "binary"}
        meta["frame_modalities"] = modalities
        meta["scene_modalities"] = self._scene_modalities(scene, raw, dslr, out_dir)
        if (out_dir / "colmap").is_symlink():
            meta["colmap_model"] = (
                "colmap"  # folder of the DSLR COLMAP text model (cameras, images, points3D)
            )
        gl2cv = CONVENTION_TRANSFORMS["opengl2opencv"].tolist()
        meta["_applied_transform"] = gl2cv
        meta["_applied_transforms"] = {"opengl2opencv": gl2cv}
        save_scene_meta(out_dir / SCENE_META_DISTORTED, meta, backup=False)
        return SceneResult(message=message)

    @staticmethod
    def _link(out_dir: Path, rel: str, source: Path) -> str:
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.exists():
            target.unlink()
        os.symlink(source.resolve(), target)
        return rel

    def _scene_modalities(self, scene: str, raw: Path, dslr: Path, out_dir: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        colmap = dslr / "colmap"
        if colmap.is_dir():
            link = out_dir / "colmap"
            if link.is_symlink():
                link.unlink()
            os.symlink(colmap.resolve(), link, target_is_directory=True)
            # The reference lists these as "readable" scene modalities, which cannot load (they are COLMAP text).
            # We keep the link and name the folder in a plain key instead; read it with pycolmap.
        if self.config.mesh and (raw / "scans").is_dir():
            out.update(self._write_mesh(scene, raw, out_dir))
        return out

    def _write_mesh(self, scene: str, raw: Path, out_dir: Path) -> dict[str, Any]:
        mesh_path = raw / MESH
        if not mesh_path.is_file():
            raise WaiFileNotFoundError(f"{where(scene=scene, file=str(mesh_path))}: missing (scans/ exists)")
        mesh = io.load(mesh_path, "mesh")
        if "faces" not in mesh:
            raise WaiFormatError(f"{where(scene=scene, file=str(mesh_path))}: the mesh has no faces")
        out_mesh: dict[str, Any] = {
            "vertices": (mesh["vertices"].astype(np.float64) @ SCANNETPP_TO_NERFSTUDIO_WORLD.T).astype(
                np.float32
            ),
            "faces": mesh["faces"],
        }
        if "vertices_color" in mesh:
            out_mesh["vertices_color"] = mesh["vertices_color"]
        modalities: dict[str, Any] = {
            "labeled_mesh": {"scene_key": "labeled_mesh.ply", "format": "labeled_mesh"}
        }
        segments = raw / "scans" / "segments.json"
        if segments.is_file():
            class_ids, instance_ids, mappings = self._annotations(scene, raw, len(out_mesh["vertices"]))
            out_mesh["vertices_semantic_class_id"] = class_ids
            out_mesh["vertices_instance_id"] = instance_ids
            out_mesh["vertices_semantic_class_color"] = _palette(class_ids)
            out_mesh["vertices_instance_color"] = _palette(instance_ids)
            modalities["mappings"] = {}
            for name, data in mappings.items():
                rel = f"mappings/{name}_mapping.json"
                io.store(out_dir / rel, data, "readable")
                modalities["mappings"][name] = {"path": rel, "format": "readable"}
        io.store(out_dir / "labeled_mesh.ply", out_mesh, "labeled_mesh")
        return modalities

    def _annotations(
        self, scene: str, raw: Path, n_vertices: int
    ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        seg_path, anno_path = raw / "scans" / "segments.json", raw / "scans" / "segments_anno.json"
        if not anno_path.is_file():
            raise WaiFileNotFoundError(
                f"{where(scene=scene, file=str(anno_path))}: missing (segments.json exists)"
            )
        seg_indices = read_json(seg_path, scene=scene).get("segIndices")
        if not isinstance(seg_indices, list) or len(seg_indices) != n_vertices:
            got = len(seg_indices) if isinstance(seg_indices, list) else type(seg_indices).__name__
            raise WaiFormatError(
                f"{where(scene=scene, file=str(seg_path), field='segIndices')}: expected one segment id per mesh "
                f"vertex ({n_vertices}), got {got}"
            )
        groups = read_json(anno_path, scene=scene).get("segGroups")
        if not isinstance(groups, list):
            raise WaiFormatError(
                f"{where(scene=scene, file=str(anno_path), field='segGroups')}: expected a list"
            )
        segment_of_vertex = np.asarray(seg_indices, dtype=np.int64)
        class_ids = np.zeros(n_vertices, dtype=np.int32)
        instance_ids = np.zeros(n_vertices, dtype=np.int32)
        instances: dict[str, Any] = {}
        for number, group in enumerate(groups, start=1):
            label = str(group.get("label", ""))
            class_id = self.semantics.class_id(label)
            hit = np.isin(segment_of_vertex, np.asarray(group.get("segments", []), dtype=np.int64))
            class_ids[hit] = class_id
            instance_ids[hit] = number
            instances[str(number)] = {"label": label, "semantic_class_id": class_id}
        classes = {str(i): name for i, name in enumerate(self.semantics.classes, start=1)}
        return class_ids, instance_ids, {"semantic_class": classes, "instance": instances}
