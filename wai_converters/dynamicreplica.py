"""`wai convert dynamicreplica`: Dynamic Replica (stereo videos of animated people and animals in Replica rooms).

Raw layout (``--src`` is the release folder)::

    <src>/frame_annotations_{train,valid,test}.jgz      gzip'd JSON lists of CO3D-style frame annotations
    <src>/<seq>_source_left/images/<seq>_source_left-0000.png
    <src>/<seq>_source_left/depths/<seq>_source_left_0000.geometric.png     float16 bits in a 16-bit PNG, metres
    <src>/<seq>_source_right/...                        the same for the right camera

One WAI scene ``<seq>_source`` per stereo sequence, frames left then right for every frame id found on both sides.
Folders without a ``_left``/``_right`` suffix (the real captures) are not scenes.

Conventions changed here, in `pytorch3d_to_opencv` and `ndc_intrinsics`: annotations give PyTorch3D cameras
(row vectors, ``X_cam = X_world R + T``, camera +X left, +Y up, +Z forward) with focal length and principal point
in NDC units of ``min(W, H) / 2`` pixels. As the reference: the first two columns of R and entries of T are negated,
cam2world = [[R, -R T], [0, 0, 0, 1]], ``f = f_ndc s`` and ``c = size / 2 - p_ndc s`` with ``s = min(W, H) / 2``.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from wai.camera import Camera, CameraModel
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.io.raster import read_raster
from wai.scene import SceneWriter
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import clean_depth, expect_shape, image_size, natural_sorted, require_dir

SPLITS = ("train", "valid", "test")
SIDES = ("left", "right")
_SIDE = re.compile(r"^(?P<scene>.+)_(?P<side>left|right)$")


@dataclasses.dataclass
class DynamicReplicaConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True, metadata={"help": "Decode every linked PNG to catch truncated or mis-sized files."}
    )


def annotation_file(src: Path, split: str) -> Path:
    return src / f"frame_annotations_{split}.jgz"


def read_annotations(src: Path) -> dict[str, dict[str, Any]]:
    """Every record of the three annotation files, keyed ``<sequence_name>_source_<camera_name>-<frame_number>``."""
    records: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        path = annotation_file(src, split)
        if not path.is_file():
            raise WaiFileNotFoundError(f"{where(file=str(path))}: missing (the release has all three splits)")
        try:
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WaiFormatError(f"{where(file=str(path))}: not a gzip'd JSON list ({exc})") from exc
        if not isinstance(data, list):
            raise WaiFormatError(f"{where(file=str(path))}: expected a JSON list of frame annotations")
        for i, record in enumerate(data):
            try:
                key = (
                    f"{record['sequence_name']}_source_{record['camera_name']}-{int(record['frame_number'])}"
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise WaiFormatError(
                    f"{where(file=str(path), field=f'[{i}]')}: needs sequence_name, camera_name, frame_number ({exc})"
                ) from None
            records[key] = {**record, "_file": str(path), "_index": i}
    return records


def ndc_intrinsics(record: dict[str, Any], loc: str) -> Camera:
    """The PINHOLE camera of a record: image.size is [H, W]; focal_length and principal_point are NDC."""
    try:
        height, width = (int(v) for v in record["image"]["size"])
        fx, fy = (float(v) for v in record["viewpoint"]["focal_length"])
        px, py = (float(v) for v in record["viewpoint"]["principal_point"])
    except (KeyError, TypeError, ValueError) as exc:
        raise WaiFormatError(
            f"{loc}, field 'image.size' / 'viewpoint.focal_length' / 'viewpoint.principal_point': {exc!r}"
        ) from None
    s = min(width, height) / 2.0
    params = {"fl_x": fx * s, "fl_y": fy * s, "cx": width / 2.0 - px * s, "cy": height / 2.0 - py * s}
    return Camera(CameraModel.PINHOLE, width, height, params)


def pytorch3d_to_opencv(R: Any, T: Any, loc: str) -> np.ndarray:
    """(4, 4) OpenCV cam2world from PyTorch3D's row-vector world-to-view R (3, 3) and T (3,)."""
    try:
        rot = np.array(R, dtype=np.float64).reshape(3, 3)
        trans = np.array(T, dtype=np.float64).reshape(3)
    except (TypeError, ValueError) as exc:
        raise WaiFormatError(
            f"{loc}, field 'viewpoint.R' / 'viewpoint.T': expected 3x3 and 3 numbers ({exc})"
        ) from None
    if not (np.all(np.isfinite(rot)) and np.all(np.isfinite(trans))):
        raise WaiFormatError(f"{loc}, field 'viewpoint': R or T is not finite")
    flip = np.array([-1.0, -1.0, 1.0])
    rot = rot * flip  # negate the first two columns: +X left, +Y up -> +X right, +Y down
    trans = trans * flip
    c2w = np.eye(4)
    c2w[:3, :3] = rot
    c2w[:3, 3] = -rot @ trans
    return c2w


def read_float16_png(path: Path) -> np.ndarray:
    """(H, W) float32 metres from a 16-bit PNG whose uint16 values are IEEE half-float bit patterns."""
    pixels, _ = read_raster(path, "depth")
    if pixels.dtype != np.uint16 or pixels.ndim != 2:
        raise WaiFormatError(
            f"{where(file=str(path))}: expected a single-channel 16-bit PNG (float16 bits), got "
            f"{pixels.dtype} with shape {pixels.shape}"
        )
    return pixels.view(np.float16).astype(np.float32)


def frame_id(name: str) -> str:
    """``<seq>_source_left-0012.png`` -> ``0012``: after the last '-', before the first '.'."""
    return name.rpartition("-")[2].partition(".")[0]


class DynamicReplicaConverter(Converter):
    name = "dynamicreplica"
    description = "Dynamic Replica: synthetic stereo videos of moving people and animals, metric depth."
    config_class = DynamicReplicaConfig

    config: DynamicReplicaConfig

    def __init__(self, config: DynamicReplicaConfig) -> None:
        super().__init__(config)
        self._annotations: dict[str, dict[str, Any]] | None = None

    def _src(self) -> Path:
        return Path(self.config.src).expanduser().resolve()  # type: ignore[arg-type]

    @property
    def annotations(self) -> dict[str, dict[str, Any]]:
        if self._annotations is None:
            self._annotations = read_annotations(self._src())
        return self._annotations

    def source_scenes(self) -> list[str]:
        src = self._src()
        self.annotations  # noqa: B018  (missing or broken annotation files fail the run before any scene)
        names = {m["scene"] for p in src.iterdir() if p.is_dir() and (m := _SIDE.match(p.name))}
        return sorted(names)

    def _ids(self, scene: str) -> dict[str, dict[str, str]]:
        """frame id -> side -> image file name, for ids that both sides have, in natural order."""
        by_side = {}
        for side in SIDES:
            folder = require_dir(self._src() / f"{scene}_{side}" / "images", f"{side} images", scene=scene)
            by_side[side] = {frame_id(p.name): p.name for p in folder.iterdir() if p.suffix.lower() == ".png"}
        common = natural_sorted(set(by_side["left"]) & set(by_side["right"]))
        if not common:
            raise WaiFormatError(
                f"{where(scene=scene, file=str(self._src() / f'{scene}_left' / 'images'))}: "
                "no frame id has an image on both sides"
            )
        return {i: {side: by_side[side][i] for side in SIDES} for i in common}

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        src = self._src()
        with SceneWriter(
            out_dir, dataset_name="dynamicreplica", scale_type="metric", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            for fid, sides in self._ids(scene).items():
                for side in SIDES:
                    image_name = sides[side]
                    name = Path(image_name).stem
                    key = f"{scene}_{side}-{int(fid)}"
                    image = src / f"{scene}_{side}" / "images" / image_name
                    record = self.annotations.get(key)
                    if record is None:
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=name, file=str(image))}: no annotation '{key}' in "
                            f"frame_annotations_{{{','.join(SPLITS)}}}.jgz"
                        )
                    loc = where(scene=scene, frame=name, file=record["_file"], field=f"[{record['_index']}]")
                    camera = ndc_intrinsics(record, loc)
                    cam2world = pytorch3d_to_opencv(
                        record.get("viewpoint", {}).get("R"), record.get("viewpoint", {}).get("T"), loc
                    )
                    try:
                        depth_path = src / record["depth"]["path"]
                    except (KeyError, TypeError):
                        raise WaiFormatError(f"{loc}, field 'depth.path': missing") from None
                    if not depth_path.is_file():
                        raise WaiFileNotFoundError(
                            f"{where(scene=scene, frame=name, file=str(depth_path))}: missing depth"
                        )
                    depth = read_float16_png(depth_path)
                    expect_shape(
                        depth, camera.size, "depth (vs. image.size)", depth_path, scene=scene, frame=name
                    )
                    if self.config.check_images:
                        size = image_size(image, scene=scene, frame=name)
                        if size != camera.size:
                            raise WaiFormatError(
                                f"{where(scene=scene, frame=name, file=str(image))}: image is {size[1]}x{size[0]}, "
                                f"its annotation says {camera.width}x{camera.height}"
                            )
                    writer.add_frame(name, cam2world, camera=camera, image=image, depth=clean_depth(depth))
