"""`wai convert megadepth`: MegaDepth (including its Tanks & Temples scenes), one WAI scene per dense reconstruction.

Raw layout (``--src`` holds the scene folders and the pair list)::

    <src>/megadepth_pairs.npz                    arrays scenes ("<scene> <k>"), images (names), pairs (rows
                                                 scene_id, im1, im2, score): which images of each subscene are used
    <src>/<scene>/dense<k>/imgs/<name>.jpg       rectified images
    <src>/<scene>/dense<k>/depths/<stem>.h5      HDF5 dataset "depth", float, COLMAP scale, 0 = invalid
    <src>/<scene>/sparse/manhattan/<k>/{cameras,images}.txt   COLMAP text model of subscene k (SIMPLE_RADIAL
                                                 cameras of the distorted originals; world-to-camera poses)
    <src>/<scene>/images/                        distorted originals (not read)

Every ``dense<k>`` folder is a WAI scene ``<scene>_<k>``. Its frames are the images that a row of
``megadepth_pairs.npz`` pairs within ``"<scene> <k>"`` (natural order); a subscene that no row names is reported
skipped, as the reference does. A selected image missing from ``images.txt`` fails the scene; one whose rectified
image or depth file is missing is left out and reported (the reference leaves it out silently).

Intrinsics: the rectified images carry no camera file, so, as the reference, the pinhole K of each frame is
OpenCV's ``getOptimalNewCameraMatrix`` of the raw camera (K, distortion (k1, 0, 0, 0), raw size) for the depth
map's size with ``alpha=0`` and a centred principal point. OpenCV centres it at ((w-1)/2, (h-1)/2), which is
already WAI's pixel-centre convention, so no half-pixel shift is applied. Poses: inv(world-to-camera), OpenCV
axes on both sides (no axis change).

The npz is read with ``allow_pickle=True`` (its arrays hold Python strings and None), so only point ``--src`` at
a release you trust.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path

import numpy as np

from wai.camera import Camera, CameraModel
from wai.camera.conventions import world2cam_to_cam2world
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SceneWriter
from wai.stages import SceneResult, StageState
from wai_converters.base import Converter, ConverterConfig
from wai_converters.colmap_model import ColmapModel, read_model
from wai_converters.hdf5_depth import read_h5_depth
from wai_converters.raw_inputs import (
    clean_depth,
    expect_shape,
    image_size,
    listed,
    natural_sorted,
    require_file,
)

logger = logging.getLogger(__name__)

PAIRS_FILE = "megadepth_pairs.npz"
DENSE_PREFIX = "dense"
#: Raw COLMAP camera models whose coefficients map onto OpenCV's (k1, k2, p1, p2).
_DISTORTION_KEYS = ("k1", "k2", "p1", "p2")
_SUPPORTED_MODELS = (
    CameraModel.SIMPLE_RADIAL,
    CameraModel.RADIAL,
    CameraModel.SIMPLE_PINHOLE,
    CameraModel.PINHOLE,
    CameraModel.OPENCV,
)


@dataclasses.dataclass
class MegaDepthConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True, metadata={"help": "Decode every linked JPEG to catch truncated or mis-sized files."}
    )


def load_object_npz(path: Path, keys: tuple[str, ...], *, what: str) -> dict[str, np.ndarray]:
    """The arrays `keys` of a release's frame-selection npz (object arrays, hence ``allow_pickle``)."""
    if not path.is_file():
        raise WaiFileNotFoundError(f"{where(file=str(path))}: missing {what} (expected at the root of --src)")
    try:
        with np.load(path, allow_pickle=True) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise WaiFormatError(
                    f"{where(file=str(path))}: {what} has no array(s) {missing} (found {sorted(data.files)})"
                )
            return {k: data[k] for k in keys}
    except (OSError, ValueError, EOFError) as exc:
        raise WaiFormatError(f"{where(file=str(path))}: cannot read {what}: {exc}") from exc


def subscene_images(path: Path) -> dict[str, frozenset[str]]:
    """``"<scene> <k>"`` -> names of the images paired within it, from ``megadepth_pairs.npz`` (read once per
    process and file version)."""
    if not path.is_file():
        raise WaiFileNotFoundError(
            f"{where(file=str(path))}: missing MegaDepth pair list (expected at the root of --src)"
        )
    stat = path.stat()
    return _subscene_images(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _subscene_images(path: Path, _mtime_ns: int, _size: int) -> dict[str, frozenset[str]]:
    arrays = load_object_npz(path, ("scenes", "images", "pairs"), what="MegaDepth pair list")
    scenes, images, pairs = arrays["scenes"], arrays["images"], arrays["pairs"]
    if pairs.dtype == object:  # rows stored as Python tuples
        try:
            pairs = np.array(pairs.tolist(), dtype=np.float64)
        except (TypeError, ValueError):
            pass
    if pairs.dtype.names:
        columns = [np.asarray(pairs[name]) for name in pairs.dtype.names[:3]]
        table = np.stack(columns, axis=-1) if len(columns) == 3 else None
    else:
        table = pairs[:, :3] if pairs.ndim == 2 and pairs.shape[1] >= 3 else None
    if table is None:
        raise WaiFormatError(
            f"{where(file=str(path), field='pairs')}: expected rows (scene_id, im1, im2, score), "
            f"got {pairs.dtype} {pairs.shape}"
        )
    try:
        table = np.asarray(table).astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise WaiFormatError(
            f"{where(file=str(path), field='pairs')}: indices are not integers: {exc}"
        ) from exc
    if len(table) and (
        table.min() < 0 or table[:, 0].max() >= len(scenes) or table[:, 1:].max() >= len(images)
    ):
        raise WaiFormatError(
            f"{where(file=str(path), field='pairs')}: an index is out of range ({len(scenes)} scenes, "
            f"{len(images)} images)"
        )
    # Unique (scene id, image index) pairs first: the release lists millions of pairs over far fewer images.
    codes = np.unique(np.concatenate([table[:, 0] * len(images) + table[:, i] for i in (1, 2)]))
    members = np.stack([codes // max(1, len(images)), codes % max(1, len(images))], axis=1)
    selected: dict[str, set[str]] = {}
    starts = np.flatnonzero(np.diff(members[:, 0])) + 1  # np.unique sorted the rows: one run per scene id
    for run in np.split(members, starts) if len(members) else []:
        key = scenes[run[0, 0]]
        if isinstance(key, str):
            names = {str(n) for n in images[run[:, 1]].tolist() if isinstance(n, str)}
            selected.setdefault(str(key), set()).update(names)
    return {key: frozenset(names) for key, names in selected.items()}


def split_subscene(name: str) -> tuple[str, str]:
    """``"0000_1"`` -> ``("0000", "1")``: the raw scene and subscene index (split at the last underscore)."""
    scene, sep, k = name.rpartition("_")
    if not sep:
        raise WaiFormatError(f"{where(scene=name)}: expected a scene name '<scene>_<k>'")
    return scene, k


def undistorted_camera(raw: Camera, width: int, height: int, *, where_: str) -> Camera:
    """The reference's pinhole for a rectified image of `width` x `height`: OpenCV's optimal new camera matrix of
    the raw (distorted) COLMAP camera with ``alpha=0`` and a centred principal point."""
    import cv2

    if raw.model not in _SUPPORTED_MODELS:
        names = ", ".join(m.value for m in _SUPPORTED_MODELS)
        raise WaiFormatError(
            f"{where_}: camera model {raw.model.value} not supported (expected one of {names})"
        )
    p = raw.params
    K = np.array([[p["fl_x"], 0.0, p["cx"]], [0.0, p["fl_y"], p["cy"]], [0.0, 0.0, 1.0]])
    dist = np.array([p.get(k, 0.0) for k in _DISTORTION_KEYS])
    new_K, _ = cv2.getOptimalNewCameraMatrix(
        K, dist, (raw.width, raw.height), 0, (width, height), centerPrincipalPoint=True
    )
    params = {"fl_x": new_K[0, 0], "fl_y": new_K[1, 1], "cx": new_K[0, 2], "cy": new_K[1, 2]}
    return Camera(CameraModel.PINHOLE, width, height, {k: float(v) for k, v in params.items()})


class MegaDepthConverter(Converter):
    name = "megadepth"
    description = (
        "MegaDepth (with its Tanks & Temples scenes): Internet photo collections with COLMAP MVS depth."
    )
    config_class = MegaDepthConfig

    config: MegaDepthConfig

    def source_scenes(self) -> list[str]:
        """``<scene>_<k>`` for every ``<scene>/dense<k>`` folder (the pair list and other files yield nothing)."""
        src = self.raw_folder()
        names = []
        for scene in sorted(p for p in src.iterdir() if p.is_dir()):
            for dense in scene.iterdir():
                if dense.is_dir() and dense.name.startswith(DENSE_PREFIX):
                    names.append(f"{scene.name}_{dense.name[len(DENSE_PREFIX) :]}")
        return natural_sorted(names)

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        raw_scene, k = split_subscene(scene)
        base = self.raw_folder() / raw_scene
        key = f"{raw_scene} {k}"
        names = subscene_images(self.raw_folder() / PAIRS_FILE).get(key)
        if not names:
            return SceneResult(StageState.SKIPPED, f"no pair of {PAIRS_FILE} is in subscene '{key}'")
        model_dir = base / "sparse" / "manhattan" / k
        model = read_model(model_dir, points=False)
        by_name = {image.name: image for image in model.images}
        images_file = model_dir / "images.txt"
        dense = base / f"{DENSE_PREFIX}{k}"
        missing: list[str] = []
        with SceneWriter(
            out_dir, dataset_name="megadepth", scale_type="colmap", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            for name in natural_sorted(names):
                if name not in by_name:
                    raise WaiFormatError(
                        f"{where(scene=scene, file=str(images_file))}: image '{name}' of {PAIRS_FILE} has no pose"
                    )
                stem = Path(name).stem
                image_path = dense / "imgs" / name
                depth_path = dense / "depths" / f"{stem}.h5"
                gone = [p for p in (image_path, depth_path) if not p.is_file()]
                if gone:
                    missing.extend(str(p.relative_to(base)) for p in gone)
                    continue
                self._add_frame(writer, scene, model, by_name[name], stem, image_path, depth_path)
        if missing:
            message = f"{len(missing)} file(s) missing, their frames left out: {listed(missing)}"
            logger.warning("scene '%s': %s", scene, message)
            return SceneResult(StageState.FINISHED, message)
        return SceneResult()

    def _add_frame(
        self,
        writer: SceneWriter,
        scene: str,
        model: ColmapModel,
        image,
        stem: str,
        image_path: Path,
        depth_path: Path,
    ) -> None:
        depth = read_h5_depth(depth_path, scene=scene, frame=stem)
        height, width = depth.shape
        if self.config.check_images:
            size = image_size(
                require_file(image_path, "image", scene=scene, frame=stem), scene=scene, frame=stem
            )
            expect_shape(depth, size, "depth map (vs. its image)", depth_path, scene=scene, frame=stem)
        camera = undistorted_camera(
            model.cameras[image.camera_id],
            width,
            height,
            where_=where(scene=scene, file=str(model.path / "cameras.txt")),
        )
        cam2world = world2cam_to_cam2world(image.world2cam)
        writer.add_frame(stem, cam2world, camera=camera, image=image_path, depth=clean_depth(depth))
