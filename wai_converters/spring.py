"""`wai convert spring`: the Spring benchmark (Blender-rendered stereo video, 1920x1080).

Raw layout (``--src`` is the folder holding ``train/`` and ``test/`` from DaRUS)::

    <src>/train/<NNNN>/cam_data/intrinsics.txt           one row per frame: fx fy cx cy
    <src>/train/<NNNN>/cam_data/extrinsics.txt           one row per frame: 16 numbers, 4x4 world-to-camera (left)
    <src>/train/<NNNN>/frame_left/frame_left_<n>.png     and frame_right/frame_right_<n>.png
    <src>/train/<NNNN>/disp1_left/disp1_left_<n>.dsp5    HDF5 'disparity' at twice the image resolution
    <src>/train/<NNNN>/disp1_right/disp1_right_<n>.dsp5
    <src>/train/<NNNN>/maps/skymap_{left,right}/skymap_{left,right}_<n>.png   8-bit, non-zero = sky
    <src>/test/<NNNN>/cam_data/intrinsics.txt, frame_left/, frame_right/      (no poses, disparity or sky maps)

Scene ``<NNNN>`` (train and test ids are disjoint). Each frame index gives a left then a right frame; both use row
i of intrinsics.txt. Depth = fx * 0.065 m / disparity (the left fx for both views), 0 where the disparity is not
positive. The right camera is the left one moved 0.065 m along its x axis. Test scenes are written with images
only: Spring publishes no poses for them, so they carry no ``transform_matrix`` (``--splits train`` leaves them out).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import cv2
import numpy as np

from wai.camera import Camera, CameraModel
from wai.camera.conventions import world2cam_to_cam2world
from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SceneWriter
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import (
    clean_depth,
    expect_shape,
    image_size,
    invert_depth,
    load_rows,
    natural_sorted,
    require_dir,
    require_file,
)

logger = logging.getLogger(__name__)

BASELINE_M = 0.065
SPLITS = ("train", "test")
_H5_ERRORS = (OSError, KeyError, ValueError, TypeError)


@dataclasses.dataclass
class SpringConfig(ConverterConfig):
    splits: str = dataclasses.field(
        default="train,test",
        metadata={"help": "Comma-separated splits to convert (test scenes have images and intrinsics only)."},
    )


def read_disparity(path: Path, *, scene: str, frame: str) -> np.ndarray:
    """(2H, 2W) float disparity from a Spring ``.dsp5`` (HDF5 dataset ``disparity``)."""
    import h5py

    require_file(path, "disparity file", scene=scene, frame=frame)
    try:
        with h5py.File(path, "r") as handle:
            if "disparity" not in handle:
                raise WaiFormatError(
                    f"{where(scene=scene, frame=frame, file=str(path))}: no HDF5 dataset 'disparity' "
                    f"(found {sorted(handle.keys())})"
                )
            return np.asarray(handle["disparity"][()], dtype=np.float32)
    except WaiError:
        raise
    except _H5_ERRORS as exc:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot read as HDF5 (truncated?): {exc}"
        ) from exc


def read_skymap(path: Path, size: tuple[int, int], *, scene: str, frame: str) -> np.ndarray:
    """(H, W) bool sky mask from an 8-bit single-channel PNG, resized (nearest) to `size` = (H, W)."""
    require_file(path, "sky map", scene=scene, frame=frame)
    pixels = cv2.imdecode(np.frombuffer(path.read_bytes(), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: cannot decode the sky map PNG"
        )
    if pixels.ndim != 2:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: expected a single-channel sky map, got shape "
            f"{pixels.shape}"
        )
    if pixels.shape != size:
        pixels = cv2.resize(pixels, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    return pixels != 0


class SpringConverter(Converter):
    name = "spring"
    description = "Spring: Blender-rendered stereo video (1920x1080) with disparity-derived metric depth."
    config_class = SpringConfig

    config: SpringConfig

    def __init__(self, config: SpringConfig) -> None:
        super().__init__(config)
        splits = [s.strip() for s in config.splits.split(",") if s.strip()]
        unknown = [s for s in splits if s not in SPLITS]
        if unknown or not splits:
            raise WaiError(f"spring: --splits must name train and/or test, got {config.splits!r}")
        self.splits = tuple(splits)
        self._scene_split: dict[str, str] | None = None

    def scene_splits(self) -> dict[str, str]:
        """Scene name (the all-digit folder name) -> split."""
        if self._scene_split is None:
            src = self.raw_folder()
            found: dict[str, str] = {}
            for split in self.splits:
                folder = src / split
                if not folder.is_dir():
                    logger.warning("spring: no '%s' split folder at %s", split, folder)
                    continue
                for child in folder.iterdir():
                    if child.is_dir() and child.name.isdigit():
                        found[child.name] = split
            self._scene_split = found
        return self._scene_split

    def source_scenes(self) -> list[str]:
        return sorted(self.scene_splits())

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        split = self.scene_splits().get(scene)
        if split is None:
            raise WaiFileNotFoundError(
                f"{where(scene=scene)}: not a scene of the splits {', '.join(self.splits)}"
            )
        raw = Path(self.config.src).absolute() / split / scene
        lefts = natural_sorted(
            p.name for p in require_dir(raw / "frame_left", "left image", scene=scene).iterdir()
        )
        if not lefts:
            raise WaiFormatError(f"{where(scene=scene, file=str(raw / 'frame_left'))}: no images")
        intrinsics = load_rows(
            raw / "cam_data" / "intrinsics.txt",
            4,
            "intrinsics (fx fy cx cy)",
            scene=scene,
            min_rows=len(lefts),
        )
        posed = split == "train"
        extrinsics = None
        if posed:
            extrinsics = load_rows(
                raw / "cam_data" / "extrinsics.txt",
                16,
                "extrinsics (4x4 world-to-camera, row-major)",
                scene=scene,
                min_rows=len(lefts),
            )
        with SceneWriter(out_dir, dataset_name="spring", scale_type="metric", link_mode="symlink") as writer:
            writer.set("camera_model", "PINHOLE")
            for i, left_file in enumerate(lefts):
                left_name = left_file.split(".")[0]
                number = left_name.removeprefix("frame_left_")
                left_path = raw / "frame_left" / left_file
                right_path = raw / "frame_right" / left_file.replace("frame_left", "frame_right")
                height, width = image_size(left_path, scene=scene, frame=left_name)
                fx, fy, cx, cy = intrinsics[i]
                camera = Camera(
                    CameraModel.PINHOLE, width, height, {"fl_x": fx, "fl_y": fy, "cx": cx, "cy": cy}
                )
                for side, image_path in (("left", left_path), ("right", right_path)):
                    name = f"frame_{side}_{number}"
                    if side == "right":
                        image_size(
                            image_path, scene=scene, frame=name
                        )  # decodes: a truncated file fails here
                    if not posed:
                        writer.add_frame(name, None, camera=camera, image=image_path)
                        continue
                    world2cam = extrinsics[i].reshape(4, 4).copy()
                    if side == "right":
                        world2cam[0, 3] -= BASELINE_M
                    disp_path = raw / f"disp1_{side}" / f"disp1_{side}_{number}.dsp5"
                    disparity = read_disparity(disp_path, scene=scene, frame=name)[::2, ::2]
                    expect_shape(
                        disparity,
                        (height, width),
                        "disparity (every 2nd pixel)",
                        disp_path,
                        scene=scene,
                        frame=name,
                    )
                    sky_path = raw / "maps" / f"skymap_{side}" / f"skymap_{side}_{number}.png"
                    writer.add_frame(
                        name,
                        world2cam_to_cam2world(world2cam),
                        camera=camera,
                        image=image_path,
                        depth=clean_depth(invert_depth(fx * BASELINE_M, disparity)),
                        skymask=read_skymap(sky_path, (height, width), scene=scene, frame=name),
                    )
