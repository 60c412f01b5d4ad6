"""`wai convert mpsd`: Mapillary Planet-Scale Depth, one scene per OpenSfM reconstruction.

Raw layout (``--src`` is the unzipped release)::

    <src>/train.json, <src>/val.json                 image_key -> {"focal": focal / max(width, height), ...}
    <src>/{train,val}/<image_key>.jpg                RGB
    <src>/{train,val}/<image_key>.png                integer depth in centimetres, 0 = invalid
    <src>/reconstruction_data/<recon_split>/<folder>/image_list.txt       one path per line, key after the last '/'
    <src>/reconstruction_data/<recon_split>/<folder>/reconstruction.json  OpenSfM list; [0]["shots"] used

Scene ``<recon_split>_<folder>``. A frame is kept when its key is in train.json or val.json (val wins) and in the
reconstruction's shots. OpenSfM shots are world-to-camera (axis-angle rotation, translation, OpenCV axes). The image
is resized to the depth map's size and re-encoded as JPEG; the principal point is the image centre.
A reconstruction with fewer than two usable frames is written with no frames and a ``skipped_reason``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from wai import io
from wai.camera import Camera, CameraModel
from wai.camera.conventions import world2cam_to_cam2world
from wai.errors import WaiError, WaiFileNotFoundError, WaiFormatError, where
from wai.plural import plural
from wai.scene import SceneWriter
from wai.scene.meta import SCENE_META, save_scene_meta
from wai.scene.writer import STANDARD_MODALITIES, ModalitySpec
from wai_converters.base import Converter, ConverterConfig
from wai_converters.meta_header import scene_meta_header
from wai_converters.raw_inputs import natural_sorted, read_image, require_file

SPLITS = ("train", "val")  # val.json entries override train.json ones
MIN_FRAMES = 2
MODALITIES = {
    "image": ModalitySpec("images", ".jpg", "image", "image"),
    "depth": STANDARD_MODALITIES["depth"],
}


@dataclasses.dataclass
class MPSDConfig(ConverterConfig):
    """MPSD needs only ``--src``."""


def _read_json(path: Path, what: str, scene: str | None = None) -> Any:
    require_file(path, what, scene=scene or "-")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: malformed JSON in {what}: {exc}"
        ) from exc


def _stamp(path: Path) -> tuple[int, ...]:
    """Part of the cache keys below: a file or folder that changes (or appears) is read again."""
    try:
        return (path.stat().st_mtime_ns,)
    except FileNotFoundError:
        return (-1,)


@functools.lru_cache(maxsize=4)
def _scene_folders(src: str, stamp: tuple[int, ...]) -> dict[str, tuple[str, str]]:
    """Scene name -> (recon_split, folder); cached per process (workers convert many scenes of one release)."""
    recon = Path(src) / "reconstruction_data"
    if not recon.is_dir():
        raise WaiFileNotFoundError(f"{where(file=str(recon))}: missing reconstruction_data folder")
    scenes: dict[str, tuple[str, str]] = {}
    for split_dir in sorted(p for p in recon.iterdir() if p.is_dir()):
        for folder in sorted(p.name for p in split_dir.iterdir() if p.is_dir()):
            scenes[f"{split_dir.name}_{folder}"] = (split_dir.name, folder)
    return scenes


@functools.lru_cache(maxsize=4)
def _focals(src: str, stamp: tuple[int, ...]) -> dict[str, tuple[str, float]]:
    """Image key -> (split, focal) from train.json then val.json (val wins); cached per process."""
    focals: dict[str, tuple[str, float]] = {}
    for split in SPLITS:
        path = Path(src) / f"{split}.json"
        table = _read_json(path, f"{split} image list")
        if not isinstance(table, dict):
            raise WaiFormatError(f"{where(file=str(path))}: expected an object image_key -> {{focal}}")
        for key, entry in table.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("focal"), (int, float)):
                raise WaiFormatError(f"{where(file=str(path), field=f'{key}.focal')}: expected a number")
            focals[key] = (split, float(entry["focal"]))
    return focals


class MPSDConverter(Converter):
    name = "mpsd"
    description = "Mapillary Planet-Scale Depth: street-level images with OpenSfM poses and metric depth."
    config_class = MPSDConfig

    config: MPSDConfig

    def scene_folders(self) -> dict[str, tuple[str, str]]:
        """Scene name -> (recon_split, folder) for every reconstruction folder."""
        src = Path(self.config.src).absolute()
        return _scene_folders(str(src), _stamp(src / "reconstruction_data"))

    def focals(self) -> dict[str, tuple[str, float]]:
        """Image key -> (split, normalised focal) from train.json and val.json (both required)."""
        src = Path(self.config.src).absolute()
        return _focals(str(src), _stamp(src / "train.json") + _stamp(src / "val.json"))

    def source_scenes(self) -> list[str]:
        return sorted(self.scene_folders())

    def _shots(self, folder: Path, scene: str) -> dict[str, Any]:
        path = folder / "reconstruction.json"
        recon = _read_json(path, "OpenSfM reconstruction", scene)
        if not isinstance(recon, list) or not recon or not isinstance(recon[0].get("shots"), dict):
            raise WaiFormatError(
                f"{where(scene=scene, file=str(path), field='[0].shots')}: expected a shots object"
            )
        return recon[0]["shots"]

    @staticmethod
    def _world2cam(shot: Any, key: str, path: Path, scene: str) -> np.ndarray:
        try:
            rotation = np.asarray(shot["rotation"], dtype=np.float64).reshape(3)
            translation = np.asarray(shot["translation"], dtype=np.float64).reshape(3)
        except (KeyError, TypeError, ValueError):
            raise WaiFormatError(
                f"{where(scene=scene, frame=key, file=str(path), field=f'shots.{key}')}: expected 'rotation' and "
                "'translation' with 3 numbers each"
            ) from None
        w2c = np.eye(4)
        w2c[:3, :3] = cv2.Rodrigues(rotation)[0]
        w2c[:3, 3] = translation
        return w2c

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        if scene not in self.scene_folders():
            raise WaiFileNotFoundError(f"{where(scene=scene)}: no such reconstruction folder")
        recon_split, folder_name = self.scene_folders()[scene]
        src = Path(self.config.src).absolute()
        folder = src / "reconstruction_data" / recon_split / folder_name
        focals = self.focals()
        list_path = require_file(folder / "image_list.txt", "image list", scene=scene)
        keys = natural_sorted(
            ln.strip().rsplit("/", 1)[-1] for ln in list_path.read_text().splitlines() if ln.strip()
        )
        shots = self._shots(folder, scene)
        keep = [k for k in keys if k in focals and k in shots]
        if len(keep) < MIN_FRAMES:
            self._write_skipped(
                out_dir, scene, f"only {plural(len(keep), 'frame')} with depth and a pose (need {MIN_FRAMES})"
            )
            return
        with SceneWriter(out_dir, dataset_name="mpsd", scale_type="metric", modalities=MODALITIES) as writer:
            writer.set("camera_model", "PINHOLE")
            for key in keep:
                split, focal = focals[key]
                depth_path = require_file(src / split / f"{key}.png", "depth PNG", scene=scene, frame=key)
                try:
                    depth = io.load(depth_path, "png16", scale=100.0)  # centimetres -> metres
                except WaiError as exc:
                    raise type(exc)(f"{where(scene=scene, frame=key)}, {exc}") from exc
                height, width = depth.shape
                rgb = read_image(src / split / f"{key}.jpg", scene=scene, frame=key)
                if rgb.shape[:2] != (height, width):
                    shrink = rgb.shape[0] > height or rgb.shape[1] > width
                    rgb = cv2.resize(
                        rgb, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
                    )
                f = focal * max(width, height)
                camera = Camera(
                    CameraModel.PINHOLE,
                    width,
                    height,
                    # OpenSfM's normalised coordinates are centred on the image: pixel (w-1)/2 with centres at integers.
                    {"fl_x": f, "fl_y": f, "cx": (width - 1) / 2.0, "cy": (height - 1) / 2.0},
                )
                w2c = self._world2cam(shots[key], key, folder / "reconstruction.json", scene)
                writer.add_frame(key, world2cam_to_cam2world(w2c), camera=camera, image=rgb, depth=depth)

    @staticmethod
    def _write_skipped(out_dir: Path, scene: str, reason: str) -> None:
        """The reference's record of an unusable reconstruction: a finished scene with no frames and the reason."""
        meta = {
            **scene_meta_header(
                scene, "mpsd", camera_model="PINHOLE", scale_type="metric", shared_intrinsics=False
            ),
            "scene_modalities": {},
            "frames": [],
            "frame_modalities": {},
            "skipped_reason": reason,
        }
        save_scene_meta(out_dir / SCENE_META, meta, backup=False)
