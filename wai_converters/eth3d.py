"""`wai convert eth3d`: the ETH3D high-resolution multi-view benchmark (DSLR, 13 training scenes).

Raw layout (``--src`` holds one folder per scene, each with its three 7z archives extracted in place)::

    <src>/<scene>/dslr_calibration_jpg/{cameras,images}.txt          distorted cameras (THIN_PRISM_FISHEYE)
    <src>/<scene>/dslr_calibration_undistorted/{cameras,images}.txt  PINHOLE cameras; world-to-camera poses
    <src>/<scene>/images/dslr_images_undistorted/DSC_0286.JPG        undistorted RGB (used)
    <src>/<scene>/ground_truth_depth/dslr_images/DSC_0286.JPG        NOT a JPEG: raw float32, 4032 x 6048,
                                                                     row-major, metres, inf = invalid

The laser depth is given in the distorted camera. For each undistorted pixel we take its ray (``wai.camera``),
project it into the distorted camera and look up the nearest raw depth pixel (0 where it falls outside or is
invalid). Where ``ground_truth_depth/dslr_images_undistorted/<stem>.exr`` already exists (the reference writes them
into the raw folder) it is linked instead; this converter never writes into ``--src``.

Frames keep the order of the undistorted ``images.txt``. Non-portrait frames link the raw JPEG as
``images/<stem>.png`` (as the reference does; readers decode by content). Images that were shot in portrait are
turned 90 degrees clockwise, with their depth, intrinsics and pose, and written as real PNGs.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from wai import io
from wai.camera import Camera, undistort_image, undistortion_maps
from wai.camera.conventions import rotate_cam2world_90, world2cam_to_cam2world
from wai.errors import WaiError, WaiFormatError, where
from wai.plural import plural
from wai.scene import SceneWriter
from wai.stages.state import SceneResult
from wai_converters.base import Converter, ConverterConfig
from wai_converters.colmap_text import ColmapCamera, read_cameras, read_images
from wai_converters.raw_inputs import read_image, subdirectories

logger = logging.getLogger(__name__)

#: The raw depth maps all have this shape, whatever the camera file says.
RAW_DEPTH_SHAPE = (4032, 6048)
#: Rows of undistorted pixels mapped at once (bounds the memory of the remap tables).
CHUNK_ROWS = 512

#: Images that were taken in portrait orientation and are stored turned; the converter turns them back (clockwise).
PORTRAIT: dict[str, frozenset[str]] = {
    "delivery_area": frozenset(f"DSC_{i:04d}" for i in range(711, 715)),
    "playground": frozenset(f"DSC_{i:04d}" for i in range(587, 593)),
    "relief": frozenset(f"DSC_{i:04d}" for i in range(427, 440)),
    "relief_2": frozenset(f"DSC_{i:04d}" for i in range(458, 469)),
}
CLOCKWISE = 3  # np.rot90 quarter turns (counter-clockwise) that make one clockwise turn


@dataclasses.dataclass
class ETH3DConfig(ConverterConfig):
    """ETH3D needs only ``--src``."""


def read_raw_depth(path: Path, *, scene: str, frame: str) -> np.ndarray:
    """(4032, 6048) float32 laser depth in metres (inf marks invalid), mapped: only the pixels used are read."""
    expected = RAW_DEPTH_SHAPE[0] * RAW_DEPTH_SHAPE[1] * 4
    size = path.stat().st_size
    if size != expected:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: raw depth has {size} bytes, expected {expected} "
            f"(float32, {RAW_DEPTH_SHAPE[0]} rows x {RAW_DEPTH_SHAPE[1]} columns)"
        )
    return np.memmap(path, dtype="<f4", mode="r", shape=RAW_DEPTH_SHAPE)


def depth_maps(distorted: Camera, pinhole: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Remap tables (map_x, map_y), each (H, W) float32, from `pinhole` pixels to `distorted` pixels.

    Built in bands of `CHUNK_ROWS` rows, which bounds the float64 temporaries of the projection.
    """
    bands = []
    for y0 in range(0, pinhole.height, CHUNK_ROWS):
        rows = min(CHUNK_ROWS, pinhole.height - y0)
        bands.append(undistortion_maps(distorted, pinhole=pinhole.cropped(0, y0, pinhole.width, rows))[:2])
    return np.concatenate([b[0] for b in bands]), np.concatenate([b[1] for b in bands])


def undistort_depth(
    raw: np.ndarray, distorted: Camera, pinhole: Camera, maps: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Depth of every `pinhole` pixel: nearest raw pixel along the same ray in the `distorted` camera, 0 outside.

    Both cameras share the pose, so the z-depth carries over unchanged. Invalid raw values (inf, NaN, negative)
    come out as 0. Pass `maps` from `depth_maps` to reuse them across the frames of one camera.
    """
    out = undistort_image(raw, maps if maps is not None else depth_maps(distorted, pinhole), "depth")
    out[~np.isfinite(out) | (out < 0)] = 0.0
    return out


class ETH3DConverter(Converter):
    name = "eth3d"
    description = "ETH3D high-res multi-view benchmark: DSLR images with laser-scan depth (undistorted here)."
    config_class = ETH3DConfig

    config: ETH3DConfig

    def __init__(self, config: ETH3DConfig) -> None:
        super().__init__(config)
        self._maps: dict[tuple[Camera, Camera], tuple[np.ndarray, np.ndarray]] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_maps": {}}  # the tables are rebuilt where they are used, not pickled

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def _depth(
        self, raw: Path, stem: str, basename: str, pinhole: Camera, distorted: ColmapCamera | None, scene: str
    ) -> np.ndarray | Path | None:
        """The undistorted depth: a pre-made EXR to link, an array, or None when the frame has no depth."""
        made = raw / "ground_truth_depth" / "dslr_images_undistorted" / f"{stem}.exr"
        if made.is_file():
            return made
        raw_path = raw / "ground_truth_depth" / "dslr_images" / basename
        if not raw_path.is_file() or distorted is None:
            return None
        camera = distorted.to_camera(
            where_=where(scene=scene, frame=stem, field=f"camera {distorted.camera_id}")
        )
        key = (camera, pinhole)
        if key not in self._maps:
            self._maps.clear()  # one camera pair at a time: full-size tables are 2 x 97 MB
            self._maps[key] = depth_maps(camera, pinhole)
        return undistort_depth(
            read_raw_depth(raw_path, scene=scene, frame=stem), camera, pinhole, self._maps[key]
        )

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        raw = Path(self.config.src).absolute() / scene
        undist = raw / "dslr_calibration_undistorted"
        cameras = read_cameras(undist / "cameras.txt", scene=scene)
        images = read_images(undist / "images.txt", scene=scene)
        jpg_cameras = read_cameras(raw / "dslr_calibration_jpg" / "cameras.txt", scene=scene)
        jpg_images = {
            im.basename: im for im in read_images(raw / "dslr_calibration_jpg" / "images.txt", scene=scene)
        }
        if not (raw / "ground_truth_depth" / "dslr_images").is_dir():
            logger.warning("eth3d scene '%s': no ground_truth_depth/dslr_images folder", scene)
        portrait = PORTRAIT.get(scene, frozenset())
        skipped: list[str] = []
        with SceneWriter(out_dir, dataset_name="eth3d", scale_type="metric", link_mode="symlink") as writer:
            writer.set("camera_model", "PINHOLE")
            for image in images:
                stem = image.basename.rsplit(".", 1)[0]
                image_path = raw / "images" / "dslr_images_undistorted" / image.basename
                if image.camera_id not in cameras:
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=stem, file=str(undist / 'cameras.txt'))}: no camera "
                        f"{image.camera_id} (used by image '{image.name}' in images.txt)"
                    )
                pinhole = cameras[image.camera_id].to_camera(where_=where(scene=scene, frame=stem))
                jpg = jpg_images.get(image.basename)
                distorted = None if jpg is None else jpg_cameras.get(jpg.camera_id)
                if not image_path.is_file():
                    skipped.append(f"{stem} (no undistorted image)")
                    continue
                depth = self._depth(raw, stem, image.basename, pinhole, distorted, scene)
                if depth is None:
                    why = (
                        "no ground-truth depth"
                        if jpg is None or distorted
                        else "its distorted camera is missing"
                    )
                    if (
                        jpg is None
                        and (raw / "ground_truth_depth" / "dslr_images" / image.basename).is_file()
                    ):
                        why = "not in dslr_calibration_jpg/images.txt"
                    skipped.append(f"{stem} ({why})")
                    continue
                cam2world = world2cam_to_cam2world(image.world2cam)
                if stem in portrait:
                    rgb = np.rot90(read_image(image_path, scene=scene, frame=stem), CLOCKWISE)
                    depth = self._loaded(depth, scene, stem)
                    self._check_depth(depth, pinhole, scene, stem)
                    writer.add_frame(
                        stem,
                        rotate_cam2world_90(cam2world, CLOCKWISE),
                        camera=pinhole.rotated_90(CLOCKWISE),
                        image=np.ascontiguousarray(rgb),
                        depth=np.ascontiguousarray(np.rot90(depth, CLOCKWISE)),
                        extra={"is_portrait": "True"},
                    )
                    continue
                size = read_image(image_path, scene=scene, frame=stem).shape[:2]
                if size != pinhole.size:
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=stem, file=str(image_path))}: image is {size[1]}x{size[0]}, "
                        f"camera {image.camera_id} is {pinhole.width}x{pinhole.height}"
                    )
                self._check_depth(self._loaded(depth, scene, stem), pinhole, scene, stem)
                writer.add_frame(
                    stem,
                    cam2world,
                    camera=pinhole,
                    image=image_path,
                    depth=depth,
                    extra={"is_portrait": "False"},
                    link_suffixes={"image": ".png"},
                )
        self._maps.clear()
        if skipped:
            message = f"skipped {plural(len(skipped), 'frame')}: {', '.join(skipped)}"
            logger.warning("eth3d scene '%s': %s", scene, message)
            return SceneResult(message=message)
        return SceneResult()

    @staticmethod
    def _loaded(depth: np.ndarray | Path, scene: str, stem: str) -> np.ndarray:
        if not isinstance(depth, Path):
            return depth
        try:
            return io.load(depth, "depth")
        except WaiError as exc:
            raise type(exc)(f"{where(scene=scene, frame=stem)}, {exc}") from exc

    @staticmethod
    def _check_depth(depth: np.ndarray, pinhole: Camera, scene: str, stem: str) -> None:
        if depth.shape != pinhole.size:
            raise WaiFormatError(
                f"{where(scene=scene, frame=stem)}: undistorted depth is {depth.shape[1]}x{depth.shape[0]}, camera "
                f"is {pinhole.width}x{pinhole.height}"
            )
