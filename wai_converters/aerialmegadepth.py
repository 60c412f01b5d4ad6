"""`wai convert aerialmegadepth`: AerialMegaDepth, MegaDepth scenes localized into Google Earth aerial renderings.

Raw layout (``--src`` is the release root)::

    <src>/aerial_megadepth_all.npz                  arrays images (names, entries may be None) and
                                                    images_scene_name (the scene of each): the frames used
    <src>/aerialmegadepth_segmasks/<scene>/<image_name>.png   ADE20K segmentation (class 2 = sky)
    <src>/<scene>/sfm_output_localization/sfm_superpoint+superglue/localized_dense_metric/
        images/<image_name>                         e.g. 2910735886_d62fbf91c9_o.jpg.jpg (double extension)
        depths/<stem(image_name)>.h5                HDF5 dataset "depth", float, COLMAP scale, 0 = invalid
        sparse-txt/{cameras,images}.txt             COLMAP text model (undistorted pinhole cameras,
                                                    world-to-camera poses); points3D.txt is not read

A scene is every folder of ``--src`` holding ``sfm_output_localization``; its frames are the npz entries naming
it (natural order). A scene the npz does not name is reported skipped, as the reference does. Image, depth and
segmentation mask must exist for every frame (a missing one fails the scene, naming the file). Depth where the
mask's first (blue, as OpenCV decodes it) channel is 2 (sky) is set to 0.

Output: ``images/<image_name>`` (a symlink, double extension kept), ``depth/<stem>.exr``, frame name
``<stem>`` (e.g. ``2910735886_d62fbf91c9_o.jpg``), the per-frame pinhole of ``cameras.txt`` and
inv(world-to-camera) (OpenCV axes on both sides). On purpose, unlike the reference: cx and cy lose 0.5 px, as in
`wai convert colmap` and ETH3D (COLMAP puts the top-left pixel's centre at (0.5, 0.5), WAI at (0, 0)), recorded as
``colmap_pixel_centre`` in ``_applied_transforms``.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import cv2
import numpy as np

from wai.camera import Camera, CameraModel
from wai.camera.conventions import world2cam_to_cam2world
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SceneWriter
from wai.stages import SceneResult, StageState
from wai_converters.base import Converter, ConverterConfig
from wai_converters.colmap_model import read_model
from wai_converters.hdf5_depth import read_h5_depth
from wai_converters.megadepth import load_object_npz
from wai_converters.raw_inputs import (
    check_image_complete,
    clean_depth,
    expect_shape,
    image_size,
    natural_sorted,
    require_file,
)

SELECTION_FILE = "aerial_megadepth_all.npz"
SEGMASK_DIR = "aerialmegadepth_segmasks"
SCENE_MARKER = "sfm_output_localization"
DENSE_DIR = f"{SCENE_MARKER}/sfm_superpoint+superglue/localized_dense_metric"
#: ADE20K class id of "sky" in the segmentation masks.
SKY_CLASS = 2
#: K_wai = COLMAP_PIXEL_CENTRE @ K_colmap.
COLMAP_PIXEL_CENTRE = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
_PINHOLE_MODELS = (CameraModel.SIMPLE_PINHOLE, CameraModel.PINHOLE)


@dataclasses.dataclass
class AerialMegaDepthConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True, metadata={"help": "Decode every linked image to catch truncated or mis-sized files."}
    )


def scene_images(path: Path) -> dict[str, tuple[str, ...]]:
    """Scene name -> its image names from ``aerial_megadepth_all.npz`` (read once per process and file version)."""
    if not path.is_file():
        raise WaiFileNotFoundError(
            f"{where(file=str(path))}: missing AerialMegaDepth frame list (expected at the root of --src)"
        )
    stat = path.stat()
    return _scene_images(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _scene_images(path: Path, _mtime_ns: int, _size: int) -> dict[str, tuple[str, ...]]:
    arrays = load_object_npz(path, ("images", "images_scene_name"), what="AerialMegaDepth frame list")
    images, scenes = arrays["images"], arrays["images_scene_name"]
    if images.shape != scenes.shape:
        raise WaiFormatError(
            f"{where(file=str(path))}: 'images' has shape {images.shape} but 'images_scene_name' {scenes.shape}"
        )
    chosen: dict[str, set[str]] = {}
    for name, scene in zip(images.ravel(), scenes.ravel(), strict=True):
        if isinstance(scene, str) and name is not None:
            chosen.setdefault(str(scene), set()).add(str(name))
    return {scene: tuple(natural_sorted(names)) for scene, names in chosen.items()}


def read_sky_mask(path: Path, shape: tuple[int, int], *, scene: str, frame: str) -> np.ndarray:
    """(H, W) bool: where the ADE20K mask's first channel (as OpenCV decodes it, BGR) is the sky class."""
    require_file(path, "segmentation mask (ADE20K PNG)", scene=scene, frame=frame)
    check_image_complete(path, scene=scene, frame=frame)
    pixels = cv2.imdecode(np.frombuffer(path.read_bytes(), dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot decode the segmentation mask"
        )
    expect_shape(
        pixels[:, :, 0], shape, "segmentation mask (vs. the depth map)", path, scene=scene, frame=frame
    )
    return pixels[:, :, 0] == SKY_CLASS


class AerialMegaDepthConverter(Converter):
    name = "aerialmegadepth"
    description = "AerialMegaDepth: MegaDepth scenes with co-registered Google Earth aerial views, metric-scaled MVS depth."
    config_class = AerialMegaDepthConfig

    config: AerialMegaDepthConfig

    def source_scenes(self) -> list[str]:
        """Sorted names of the folders of ``--src`` that hold ``sfm_output_localization``."""
        src = self.raw_folder()
        return sorted(p.name for p in src.iterdir() if p.is_dir() and (p / SCENE_MARKER).exists())

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        names = scene_images(self.raw_folder() / SELECTION_FILE).get(scene)
        if not names:
            return SceneResult(StageState.SKIPPED, f"{SELECTION_FILE} lists no image of scene '{scene}'")
        dense = self.raw_folder() / scene / DENSE_DIR
        model = read_model(dense / "sparse-txt", points=False)
        cameras_file = model.path / "cameras.txt"
        images_file = model.path / "images.txt"
        by_name = {image.name: image for image in model.images}
        with SceneWriter(
            out_dir, dataset_name="aerialmegadepth", scale_type="colmap", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            writer.record_transform("colmap_pixel_centre", COLMAP_PIXEL_CENTRE)
            for name in names:
                stem = Path(name).stem
                image = by_name.get(name)
                if image is None:
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=stem, file=str(images_file))}: image '{name}' of "
                        f"{SELECTION_FILE} has no pose"
                    )
                image_path = require_file(dense / "images" / name, "image", scene=scene, frame=stem)
                depth_path = dense / "depths" / f"{stem}.h5"
                depth = read_h5_depth(depth_path, scene=scene, frame=stem)
                if self.config.check_images:
                    size = image_size(image_path, scene=scene, frame=stem)
                    expect_shape(
                        depth, size, "depth map (vs. its image)", depth_path, scene=scene, frame=stem
                    )
                mask_path = self.raw_folder() / SEGMASK_DIR / scene / f"{name}.png"
                depth = clean_depth(depth)
                depth[read_sky_mask(mask_path, depth.shape, scene=scene, frame=stem)] = 0.0
                raw = model.cameras[image.camera_id]
                if raw.model not in _PINHOLE_MODELS:
                    raise WaiFormatError(
                        f"{where(scene=scene, file=str(cameras_file))}: camera {image.camera_id} is "
                        f"{raw.model.value}; expected the undistorted SIMPLE_PINHOLE (or PINHOLE) cameras"
                    )
                p = raw.params
                height, width = depth.shape
                camera = Camera(
                    CameraModel.PINHOLE,
                    width,
                    height,
                    {"fl_x": p["fl_x"], "fl_y": p["fl_y"], "cx": p["cx"] - 0.5, "cy": p["cy"] - 0.5},
                )
                cam2world = world2cam_to_cam2world(image.world2cam)
                writer.add_frame(stem, cam2world, camera=camera, image=image_path, depth=depth)
        return SceneResult()
