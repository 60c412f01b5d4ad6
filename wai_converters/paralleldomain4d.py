"""`wai convert paralleldomain4d`: Parallel Domain 4D (the GCD release), synthetic driving scenes in DGP layout.

Raw layout (``--src`` holds the scene folders, e.g. ``scene_000000``)::

    <src>/<scene>/scene_<sha1>.json              DGP scene: "data" entries; those with datum.image give
                                                 filename rgb/<camera>/<ts>.png, annotations["6"] (the depth
                                                 npz) and pose {translation {x,y,z}, rotation {qw,qx,qy,qz}}:
                                                 camera-to-world in PD's LFU world
    <src>/<scene>/calibration/<sha1>.json        names (camera names) zipped with intrinsics ({fx, fy, cx, cy})
    <src>/<scene>/rgb/<camera>/<ts>.png          RGB(A)
    <src>/<scene>/depth/<camera>/<ts>.npz        array "data", metres; 500 or more is invalid

Frames follow the scene file's order, named ``<ts>_<camera>``; ``images/<frame>.png`` links the raw PNG and
``depth/<frame>.exr`` holds the depth (values of 500 or more, NaN and inf 0). The first ``scene_*.json`` and the
first calibration file (by name) are used, as the reference's first match. An image entry whose RGB or depth file
does not exist is left out and reported (the reference drops it silently).

Poses: ``P @ T`` with T the raw camera-to-world and P the world-side axis change "LFU -> RDF" of the reference,
``[[0,0,1,0],[1,0,0,0],[0,1,0,0],[0,0,0,1]]`` (a proper rotation), recorded as ``pd_world_lfu_to_rdf``.

On purpose, unlike the reference: frame paths are relative to the scene folder (the reference writes absolute
paths, which break when the dataset moves; WAI readers join either with the scene folder alike).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

from wai.camera import Camera, CameraModel
from wai.camera.conventions import quaternion_to_rotation
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SceneWriter
from wai.stages import SceneResult, StageState
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import (
    clean_depth,
    expect_shape,
    image_size,
    listed,
    read_json,
    require_dir,
    subdirectories,
)

logger = logging.getLogger(__name__)

#: Depth at or beyond this many metres is invalid.
MAX_DEPTH = 500.0
#: DGP annotation id of depth.
DEPTH_ANNOTATION = "6"
#: Left-multiplied onto the raw camera-to-world: PD's LFU world axes to the reference's RDF ones.
LFU_TO_RDF = np.array(
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


@dataclasses.dataclass
class ParallelDomain4DConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True, metadata={"help": "Decode every linked PNG to catch truncated or mis-sized files."}
    )


@dataclasses.dataclass(frozen=True)
class DGPImage:
    """One image datum of a DGP scene file: its camera, timestamp stem, files and raw camera-to-world pose."""

    camera: str
    timestamp: str
    rgb: Path
    depth: Path | None  # None: the datum has no depth annotation
    cam2world: np.ndarray

    @property
    def frame_name(self) -> str:
        return f"{self.timestamp}_{self.camera}"


def _number(node: Any, key: str, path: Path, scene: str, field: str) -> float:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path), field=f'{field}.{key}')}: expected a number, got {value!r}"
        )
    return float(value)


def _image_datum(entry: Any, index: int, base: Path, path: Path, scene: str) -> DGPImage | None:
    """The image datum of one ``data`` entry (None for other sensors), checked field by field."""
    datum = entry.get("datum") if isinstance(entry, dict) else None
    if not isinstance(datum, dict) or "image" not in datum:
        return None
    image = datum["image"]
    field = f"data[{index}].datum.image"
    filename = image.get("filename") if isinstance(image, dict) else None
    parts = Path(filename).parts if isinstance(filename, str) else ()
    if len(parts) != 3 or parts[0] != "rgb":
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path), field=f'{field}.filename')}: expected 'rgb/<camera>/<ts>.png', "
            f"got {filename!r}"
        )
    annotations = image.get("annotations")
    depth = annotations.get(DEPTH_ANNOTATION) if isinstance(annotations, dict) else None
    pose = image.get("pose")
    translation = pose.get("translation") if isinstance(pose, dict) else None
    rotation = pose.get("rotation") if isinstance(pose, dict) else None
    t = [_number(translation, k, path, scene, f"{field}.pose.translation") for k in ("x", "y", "z")]
    q = [_number(rotation, k, path, scene, f"{field}.pose.rotation") for k in ("qw", "qx", "qy", "qz")]
    if np.linalg.norm(q) < 1e-9:
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path), field=f'{field}.pose.rotation')}: zero quaternion"
        )
    cam2world = np.eye(4)
    cam2world[:3, :3] = quaternion_to_rotation(np.array(q))
    cam2world[:3, 3] = t
    depth_path = base / depth if isinstance(depth, str) else None
    return DGPImage(parts[1], Path(parts[2]).stem, base / filename, depth_path, cam2world)


def read_scene_file(path: Path, base: Path, scene: str) -> list[DGPImage]:
    """The image data of a DGP scene file, in file order."""
    data = read_json(path, "DGP scene file", scene=scene)
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path), field='data')}: expected a list of data entries"
        )
    found = [_image_datum(entry, i, base, path, scene) for i, entry in enumerate(entries)]
    return [image for image in found if image is not None]


def read_calibration(path: Path, scene: str) -> dict[str, tuple[int, Any]]:
    """Camera name -> (index, its raw intrinsics entry) from a DGP calibration file; entries are checked only when
    a camera is used (the file also calibrates lidars)."""
    data = read_json(path, "calibration file", scene=scene)
    names = data.get("names") if isinstance(data, dict) else None
    intrinsics = data.get("intrinsics") if isinstance(data, dict) else None
    if not isinstance(names, list) or not isinstance(intrinsics, list) or len(names) != len(intrinsics):
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: expected lists 'names' and 'intrinsics' of equal length"
        )
    return {str(name): (i, values) for i, (name, values) in enumerate(zip(names, intrinsics, strict=True))}


def camera_intrinsics(entry: tuple[int, Any], path: Path, scene: str) -> dict[str, float]:
    """{fx, fy, cx, cy} of one calibration entry (skew and distortion are not used, as in the reference)."""
    index, values = entry
    return {k: _number(values, k, path, scene, f"intrinsics[{index}]") for k in ("fx", "fy", "cx", "cy")}


def read_depth_npz(path: Path, *, scene: str, frame: str) -> np.ndarray:
    """(H, W) float32 depth from the npz array ``data``."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "data" not in archive.files:
                raise WaiFormatError(
                    f"{where(scene=scene, frame=frame, file=str(path))}: no array 'data' (found {archive.files})"
                )
            depth = np.asarray(archive["data"])
    except (OSError, ValueError, EOFError) as exc:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot read depth npz: {exc}"
        ) from exc
    if depth.ndim == 3 and depth.shape[-1] == 1:
        depth = depth[..., 0]
    if depth.ndim != 2:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: expected an (H, W) depth map, got {depth.shape}"
        )
    return depth.astype(np.float32)


def _first(paths: list[Path], what: str, folder: Path, scene: str) -> Path:
    if not paths:
        raise WaiFileNotFoundError(f"{where(scene=scene, file=str(folder))}: missing {what}")
    return sorted(paths)[0]


class ParallelDomain4DConverter(Converter):
    name = "paralleldomain4d"
    description = "Parallel Domain 4D (GCD release): synthetic multi-camera driving scenes, metric depth."
    config_class = ParallelDomain4DConfig

    config: ParallelDomain4DConfig

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        base = Path(self.config.src).absolute() / scene
        scene_file = _first(list(base.glob("scene_*.json")), "DGP scene file scene_*.json", base, scene)
        calib_dir = require_dir(base / "calibration", "calibration", scene=scene)
        calib_file = _first(list(calib_dir.glob("*.json")), "calibration file (*.json)", calib_dir, scene)
        intrinsics = read_calibration(calib_file, scene)
        images = read_scene_file(scene_file, base, scene)
        if not images:
            raise WaiFormatError(f"{where(scene=scene, file=str(scene_file))}: no image data")
        missing: list[str] = []
        with SceneWriter(
            out_dir, dataset_name="paralleldomain4d", scale_type="metric", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            writer.record_transform("pd_world_lfu_to_rdf", LFU_TO_RDF)
            for image in images:
                if image.depth is None:
                    missing.append(
                        f"depth of {image.rgb.relative_to(base)} (no annotation '{DEPTH_ANNOTATION}')"
                    )
                    continue
                gone = [p for p in (image.rgb, image.depth) if not p.is_file()]
                if gone:
                    missing.extend(str(p.relative_to(base)) for p in gone)
                    continue
                name = image.frame_name
                entry = intrinsics.get(image.camera)
                if entry is None:
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=name, file=str(calib_file))}: no intrinsics for camera "
                        f"'{image.camera}' (has {sorted(intrinsics)})"
                    )
                k = camera_intrinsics(entry, calib_file, scene)
                depth = read_depth_npz(image.depth, scene=scene, frame=name)
                if self.config.check_images:
                    size = image_size(image.rgb, scene=scene, frame=name)
                    expect_shape(
                        depth, size, "depth map (vs. its image)", image.depth, scene=scene, frame=name
                    )
                depth = clean_depth(depth)
                depth[depth >= MAX_DEPTH] = 0.0
                height, width = depth.shape
                camera = Camera(
                    CameraModel.PINHOLE,
                    width,
                    height,
                    {"fl_x": k["fx"], "fl_y": k["fy"], "cx": k["cx"], "cy": k["cy"]},
                )
                writer.add_frame(
                    name, LFU_TO_RDF @ image.cam2world, camera=camera, image=image.rgb, depth=depth
                )
        if missing:
            message = f"{len(missing)} file(s) of {scene_file.name} missing, their frames left out: {listed(missing)}"
            logger.warning("scene '%s': %s", scene, message)
            return SceneResult(StageState.FINISHED, message)
        return SceneResult()
