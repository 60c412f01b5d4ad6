"""`wai convert colmap`: any COLMAP sparse model (text or binary) with its images, and dense depth maps if present.

A capture is a folder with ``images/`` and a model in ``sparse/0/``, ``sparse/`` or the folder itself (a COLMAP
dense workspace after ``image_undistorter`` has that layout, with depth in ``stereo/depth_maps/``). ``--src`` is
one capture (one scene, named after the folder) or a folder of captures (one scene each).

Conventions changed here, in one place (`_frames`), and recorded under ``_applied_transforms``:

* COLMAP puts the top-left pixel's centre at (0.5, 0.5); WAI at (0, 0): cx, cy move by -0.5
  (``colmap_pixel_centre``: the 3x3 matrix applied to COLMAP's K).
* COLMAP stores world-to-camera poses (quaternion w, x, y, z and t) with OpenCV camera axes; WAI stores their
  inverse, camera-to-world (no axis change).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np

from wai.camera import Camera
from wai.camera.conventions import world2cam_to_cam2world
from wai.errors import WaiFileNotFoundError, where
from wai.plural import plural
from wai.stages import SceneResult
from wai_converters.base import ConverterConfig
from wai_converters.capture_converter import CaptureConverter
from wai_converters.capture_writer import (
    Capture,
    CaptureFrame,
    check_pose,
    frame_names,
    natural_key,
    shift_principal_point,
    write_capture,
)
from wai_converters.colmap_model import ColmapModel, find_model, is_model_folder, read_depth_map, read_model

#: K_wai = COLMAP_PIXEL_CENTRE @ K_colmap.
COLMAP_PIXEL_CENTRE = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
DEPTH_FOLDER = "stereo/depth_maps"


@dataclasses.dataclass
class ColmapConfig(ConverterConfig):
    model: str = dataclasses.field(
        default="",
        metadata={"help": "Model folder inside each capture (default: sparse/0, sparse or the capture)."},
    )
    images: str = dataclasses.field(default="images", metadata={"help": "Image folder inside each capture."})
    depth: Literal["auto", "geometric", "photometric", "none"] = dataclasses.field(
        default="auto",
        metadata={
            "help": "Dense depth maps to read from stereo/depth_maps (auto: geometric, else photometric)."
        },
    )
    scale_type: Literal["colmap", "metric"] = dataclasses.field(
        default="colmap",
        metadata={"help": "'metric' if the model is in metres (e.g. aligned to a laser scan)."},
    )
    link_mode: Literal["copy", "symlink", "hardlink"] = dataclasses.field(
        default="copy", metadata={"help": "How images get into the scene folder."}
    )
    dataset_name: str = dataclasses.field(
        default="colmap", metadata={"help": "dataset_name in scene_meta.json."}
    )


class ColmapConverter(CaptureConverter):
    name = "colmap"
    description = "Any COLMAP sparse model (text or binary) with its images; dense depth maps if present."
    config_class = ColmapConfig

    config: ColmapConfig

    def _is_capture(self, path: Path) -> bool:
        """A capture folder: it has a model, a ``sparse/`` folder or an image folder."""
        if self.config.model and (path / self.config.model).exists():
            return True
        return is_model_folder(path) or (path / "sparse").is_dir() or (path / self.config.images).is_dir()

    def _no_captures(self, src: Path) -> NoReturn:
        find_model(src, self.config.model)  # raises, saying where it looked
        raise WaiFileNotFoundError(f"colmap: no COLMAP model in '{src}'")

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        capture = self.capture_dir(scene)
        model = read_model(find_model(capture, self.config.model))
        return write_capture(
            out_dir,
            self._frames(scene, capture, model),
            dataset_name=self.config.dataset_name,
            scale_type=self.config.scale_type,
            read_depth=read_depth_map,
            link_mode=self.config.link_mode,
        )

    def _frames(self, scene: str, capture: Path, model: ColmapModel) -> Capture:
        """COLMAP records -> WAI frames: the one place where conventions change."""
        image_dir = capture / self.config.images
        images_file = model.path / ("images.txt" if (model.path / "images.txt").is_file() else "images.bin")
        ordered = sorted(model.images, key=lambda im: natural_key(im.name))
        names = frame_names([im.name for im in ordered])
        cameras: dict[int, Camera] = {
            cid: shift_principal_point(cam, -0.5) for cid, cam in model.cameras.items()
        }
        frames, missing = [], []
        depth_kind = self._depth_kind(capture)
        for image, name in zip(ordered, names, strict=True):
            path = image_dir / image.name
            if not path.is_file():
                missing.append(image.name)
                continue
            pose = check_pose(
                world2cam_to_cam2world(image.world2cam), scene=scene, frame=name, file=images_file
            )
            depth = None
            if depth_kind is not None:
                depth = capture / DEPTH_FOLDER / f"{image.name}.{depth_kind}.bin"
            frames.append(CaptureFrame(name, path, pose, cameras[image.camera_id], depth))
        notes = []
        if model.unposed:
            notes.append(
                f"{plural(len(model.unposed), 'image')} in {images_file.name} "
                f"{'has' if len(model.unposed) == 1 else 'have'} no pose (not registered), left out: "
                + ", ".join(sorted(model.unposed, key=natural_key))
            )
        return Capture(
            frames, missing, images_file, transforms={"colmap_pixel_centre": COLMAP_PIXEL_CENTRE}, notes=notes
        )

    def _depth_kind(self, capture: Path) -> str | None:
        """Which dense maps to read (None: no depth). Each frame's map must then exist, or the scene fails."""
        choice = self.config.depth
        if choice == "none":
            return None
        folder = capture / DEPTH_FOLDER
        kinds = ("geometric", "photometric") if choice == "auto" else (choice,)
        for kind in kinds:
            if any(folder.glob(f"*.{kind}.bin")):
                return kind
        if choice != "auto":
            raise WaiFileNotFoundError(
                f"{where(file=str(folder))}: no *.{choice}.bin depth maps (--depth {choice})"
            )
        return None
