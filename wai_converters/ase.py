"""`wai convert ase`: Aria Synthetic Environments (the reference's ``asev2``), fisheye renders made pinhole.

Raw layout (``--src``; ``--calib`` is one Aria device-calibration JSON shared by every scene)::

    <src>/<scene>/gt_trajectory_mps.csv                 header + one device pose per line (T_world_device)
    <src>/<scene>/render/images/{0,1,2}/rgb<idx>.<ext>  0 camera-slam-left, 1 camera-slam-right, 2 camera-rgb
    <src>/<scene>/render/images/{0,1,2}/depth<idx>.png  uint16 ray distance in millimetres; 0 and 65535 invalid
    <scene-config-root>/<scene>/scene_config.json       only its existence is checked

Per frame, as the reference: the fisheye (Aria FisheyeRadTanThinPrism, `wai.camera`'s RAD_TAN_THIN_PRISM_FISHEYE)
image, range and validity mask are resampled to a linear camera of the same size with the calibration's focal
length and the principal point at the image centre (image bilinear, range and mask nearest); range (mm) becomes
z-depth (m) along the linear camera's rays; with ``--rotate-to-portrait`` (default) everything is turned 90 degrees
clockwise, intrinsics with it, and the camera rotation is right-multiplied by ``ROT90``. Poses are matched to images
by position (i-th trajectory line, i-th sorted ``rgb*`` file). cam2world = T_world_device @ T_device_camera [@ ROT90].

The image size comes from each sensor's image files (the reference forces camera-rgb to 704x704, the size ASE
renders, because its calibration says 2880). Unlike the reference, ``scene_modalities`` is written ({}), and a scene
without ``render/images`` or ``scene_config.json`` is recorded as skipped rather than crashing the enumeration.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np

from wai.camera import Camera, CameraModel
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.geometry import pixel_rays
from wai.io.raster import read_raster
from wai.scene import STANDARD_MODALITIES, ModalitySpec, SceneWriter
from wai.stages import ProcessLog, SceneResult, StageState
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import read_image

DATASET_NAME = "asev2"
SENSORS = {  # label -> (render/images folder, frame-name prefix)
    "camera-rgb": ("2", "rgb"),
    "camera-slam-left": ("0", "slam_left"),
    "camera-slam-right": ("1", "slam_right"),
}
ROT90 = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
FISHEYE_MODEL = "FisheyeRadTanThinPrism"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MODALITIES: dict[str, ModalitySpec] = {
    "image": ModalitySpec("images", ".jpg", "image", "image"),
    "depth": STANDARD_MODALITIES["depth"],
    "mask": ModalitySpec("masks", ".jpg", "binary", "mask_path"),
}


@dataclasses.dataclass
class ASEConfig(ConverterConfig):
    calib: Path | None = dataclasses.field(
        default=None, metadata={"help": "Aria device-calibration JSON shared by all scenes (required)."}
    )
    scene_config_root: Path | None = dataclasses.field(
        default=None, metadata={"help": "Folder of <scene>/scene_config.json (default: --src)."}
    )
    rotate_to_portrait: bool = dataclasses.field(
        default=True, metadata={"help": "Turn frames 90 degrees clockwise, as the reference does."}
    )
    sensors: str = dataclasses.field(
        default="camera-rgb,camera-slam-left,camera-slam-right",
        metadata={"help": "Comma-separated Aria camera labels to convert."},
    )


@dataclasses.dataclass(frozen=True)
class AriaCamera:
    """One camera of the calibration: fisheye parameters (f, cx, cy, k0-k5, p0, p1, s0-s3) and T_device_camera."""

    label: str
    params: tuple[float, ...]
    device_from_camera: np.ndarray

    def fisheye(self, width: int, height: int) -> Camera:
        f, cx, cy, *rest = self.params
        names = [*(f"k{i}" for i in range(6)), "p0", "p1", *(f"s{i}" for i in range(4))]
        values = {"fl_x": f, "fl_y": f, "cx": cx, "cy": cy, **dict(zip(names, rest, strict=True))}
        return Camera(CameraModel.RAD_TAN_THIN_PRISM_FISHEYE, width, height, values)

    def linear(self, width: int, height: int) -> Camera:
        """projectaria_tools' ``get_linear_camera_calibration(W, H, f)``: principal point at the image centre."""
        f = self.params[0]
        return Camera(
            CameraModel.PINHOLE,
            width,
            height,
            {"fl_x": f, "fl_y": f, "cx": (width - 1) / 2, "cy": (height - 1) / 2},
        )


def quaternion_matrix(x: float, y: float, z: float, w: float) -> np.ndarray:
    """(3, 3) rotation of a quaternion (normalised first)."""
    q = np.array([w, x, y, z], dtype=np.float64)
    norm = np.linalg.norm(q)
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValueError(f"not a rotation quaternion: {q.tolist()}")
    w, x, y, z = q / norm
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def read_calibration(path: Path, labels: list[str]) -> dict[str, AriaCamera]:
    """The cameras `labels` of an Aria device-calibration JSON (``CameraCalibrations`` entries)."""
    if not path.is_file():
        raise WaiFileNotFoundError(f"{where(file=str(path))}: Aria calibration JSON does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = {c["Label"]: c for c in data["CameraCalibrations"]}
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise WaiFormatError(
            f"{where(file=str(path), field='CameraCalibrations')}: not an Aria device calibration ({exc!r})"
        ) from None
    cameras = {}
    for label in labels:
        loc = where(file=str(path), field=f"CameraCalibrations[{label}]")
        if label not in entries:
            raise WaiFormatError(f"{loc}: no camera with this label (has {sorted(entries)})")
        entry = entries[label]
        try:
            projection = entry["Projection"]
            params = tuple(float(v) for v in projection["Params"])
            pose = entry["T_Device_Camera"]
            w, (x, y, z) = pose["UnitQuaternion"]
            rotation = quaternion_matrix(float(x), float(y), float(z), float(w))
            translation = np.array([float(v) for v in pose["Translation"]])
        except (KeyError, TypeError, ValueError) as exc:
            raise WaiFormatError(f"{loc}: bad Projection or T_Device_Camera ({exc!r})") from None
        if projection.get("Name") != FISHEYE_MODEL or len(params) != 15 or translation.shape != (3,):
            raise WaiFormatError(
                f"{loc}: expected a {FISHEYE_MODEL} projection with 15 Params and a 3-vector Translation, got "
                f"{projection.get('Name')!r} with {len(params)} Params"
            )
        device_from_camera = np.eye(4)
        device_from_camera[:3, :3], device_from_camera[:3, 3] = rotation, translation
        cameras[label] = AriaCamera(label, params, device_from_camera)
    return cameras


def read_trajectory(path: Path, scene: str) -> list[np.ndarray]:
    """T_world_device (4, 4) per line of an MPS trajectory CSV: columns 3-5 translation, 6-9 quaternion x, y, z, w."""
    if not path.is_file():
        raise WaiFileNotFoundError(f"{where(scene=scene, file=str(path))}: missing device trajectory")
    poses = []
    lines = path.read_text().splitlines()[1:]
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        cols = line.split(",")
        try:
            values = [float(c) for c in cols[3:10]]
            if len(values) != 7 or not np.all(np.isfinite(values)):
                raise ValueError(f"{len(cols)} columns")
            pose = np.eye(4)
            pose[:3, :3] = quaternion_matrix(*values[3:7])
            pose[:3, 3] = values[:3]
        except ValueError as exc:
            raise WaiFormatError(
                f"{where(scene=scene, file=str(path))}, line {number}: expected tx,ty,tz in columns 3-5 and "
                f"qx,qy,qz,qw in columns 6-9 ({exc})"
            ) from None
        poses.append(pose)
    if not poses:
        raise WaiFormatError(f"{where(scene=scene, file=str(path))}: no pose lines after the header")
    return poses


def read_range(path: Path, scene: str, frame: str) -> np.ndarray:
    """(H, W) float32 ray distance in metres, 0 where the PNG holds 0 or 65535."""
    if not path.is_file():
        raise WaiFileNotFoundError(
            f"{where(scene=scene, frame=frame, file=str(path))}: missing depth (range) PNG"
        )
    pixels, _ = read_raster(path, "depth")
    if pixels.dtype != np.uint16 or pixels.ndim != 2:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: expected a single-channel 16-bit PNG (mm), got "
            f"{pixels.dtype} with shape {pixels.shape}"
        )
    valid = (pixels > 0) & (pixels < 65535)
    return np.where(valid, pixels.astype(np.float32) / 1000.0, np.float32(0))


class Resampler:
    """Fisheye -> linear maps of one sensor (computed once per sensor and image size)."""

    def __init__(self, fisheye: Camera, linear: Camera) -> None:
        rays = pixel_rays(linear)  # z = 1 rays of the linear camera's pixel centres
        uv, ok = fisheye.project(rays.reshape(-1, 3))
        uv = np.where(ok[:, None], uv, -1e6).reshape(linear.height, linear.width, 2)
        self.map_x = uv[..., 0].astype(np.float32)
        self.map_y = uv[..., 1].astype(np.float32)
        self.ray_length = np.linalg.norm(rays, axis=-1).astype(np.float32)

    def image(self, image: np.ndarray) -> np.ndarray:
        return cv2.remap(image, self.map_x, self.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)

    def nearest(self, data: np.ndarray) -> np.ndarray:
        return cv2.remap(data, self.map_x, self.map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)

    def z_depth(self, ray_distance: np.ndarray) -> np.ndarray:
        """Resampled range (m) -> z-depth along the linear camera's rays."""
        return self.nearest(ray_distance) / self.ray_length


def portrait(camera: Camera) -> Camera:
    """The camera of an image turned 90 degrees clockwise."""
    p = camera.params
    params = {"fl_x": p["fl_y"], "fl_y": p["fl_x"], "cx": camera.height - 1 - p["cy"], "cy": p["cx"]}
    return Camera(CameraModel.PINHOLE, camera.height, camera.width, params)


class ASEConverter(Converter):
    name = "ase"
    description = (
        "Aria Synthetic Environments: rendered Aria fisheye sequences (made pinhole, portrait), metric depth."
    )
    config_class = ASEConfig

    config: ASEConfig

    def __init__(self, config: ASEConfig) -> None:
        super().__init__(config)
        self._calibration: dict[str, AriaCamera] | None = None

    def labels(self) -> list[str]:
        labels = sorted({s.strip() for s in self.config.sensors.split(",") if s.strip()})
        unknown = [s for s in labels if s not in SENSORS]
        if unknown or not labels:
            raise WaiFormatError(
                f"ase: --sensors {self.config.sensors!r}: expected a subset of {sorted(SENSORS)}"
            )
        return labels

    def check_config(self) -> None:
        super().check_config()
        if self.config.calib is None:
            raise WaiFormatError("ase: --calib is required (the Aria device-calibration JSON)")
        self.calibration  # noqa: B018  (a bad calibration fails before any scene)

    @property
    def calibration(self) -> dict[str, AriaCamera]:
        if self._calibration is None:
            self._calibration = read_calibration(Path(self.config.calib), self.labels())  # type: ignore[arg-type]
        return self._calibration

    def _src(self) -> Path:
        return Path(self.config.src).expanduser().resolve()  # type: ignore[arg-type]

    def source_scenes(self) -> list[str]:
        return sorted(p.name for p in self._src().iterdir() if p.is_dir() and not p.name.startswith("."))

    def convert_scene(self, scene: str, out_dir: Path) -> SceneResult:
        raw = self._src() / scene
        config_root = (
            Path(self.config.scene_config_root).resolve() if self.config.scene_config_root else self._src()
        )
        for needed in (raw / "render" / "images", config_root / scene / "scene_config.json"):
            if not needed.exists():
                return SceneResult(StageState.SKIPPED, f"no {needed}: not an ASE scene")
        trajectory = read_trajectory(raw / "gt_trajectory_mps.csv", scene)
        labels = self.labels()
        cameras: set[Camera] = set()
        notes = []
        rotate = self.config.rotate_to_portrait
        with SceneWriter(
            out_dir, dataset_name=DATASET_NAME, scale_type="metric", modalities=MODALITIES
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            for label in labels:
                folder, prefix = SENSORS[label]
                images = self._images(raw / "render" / "images" / folder, scene)
                if len(images) > len(trajectory):
                    raise WaiFormatError(
                        f"{where(scene=scene, file=str(raw / 'gt_trajectory_mps.csv'))}: {len(trajectory)} poses for "
                        f"{len(images)} {label} images (poses are matched to images by position)"
                    )
                if len(images) < len(trajectory):
                    notes.append(f"{label}: {len(images)} images, {len(trajectory)} poses (first ones used)")
                resampler, camera = None, None
                for position, image_path in enumerate(images):
                    idx = image_path.stem[3:]
                    name = f"{prefix}_{idx}"
                    fisheye_image = read_image(image_path, scene=scene, frame=name)
                    h, w = fisheye_image.shape[:2]
                    if resampler is None or camera is None or camera.size != (h, w):
                        calib = self.calibration[label]
                        linear = calib.linear(w, h)
                        resampler = Resampler(calib.fisheye(w, h), linear)
                        camera = portrait(linear) if rotate else linear
                    ray = read_range(image_path.parent / f"depth{idx}.png", scene, name)
                    if ray.shape != (h, w):
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=name, file=str(image_path.parent / f'depth{idx}.png'))}: "
                            f"depth is {ray.shape[1]}x{ray.shape[0]}, its image {w}x{h}"
                        )
                    image = resampler.image(fisheye_image)
                    depth = resampler.z_depth(ray)
                    mask = resampler.nearest((ray > 0).astype(np.uint8)) > 0
                    c2w = trajectory[position] @ self.calibration[label].device_from_camera
                    if rotate:
                        image, depth, mask = (
                            np.ascontiguousarray(np.rot90(a, k=-1)) for a in (image, depth, mask)
                        )
                        c2w[:3, :3] = c2w[:3, :3] @ ROT90
                    writer.add_frame(name, c2w, camera=camera, image=image, depth=depth, mask=mask)
                    cameras.add(camera)
            if (
                len(labels) == 1 and len(cameras) == 1
            ):  # one sensor: intrinsics at scene level, as the reference
                (shared,) = cameras
                scene_keys = shared.to_meta()
                for frame in writer.meta["frames"]:
                    for key in scene_keys:
                        frame.pop(key, None)
                writer.meta["shared_intrinsics"] = True
                writer.meta.update(scene_keys)
            if rotate:
                writer.set("_applied_transform", ROT90.tolist())
                writer.set("_applied_transforms", {"image_rotation": ROT90.tolist()})
            else:
                writer.set("_applied_transform", np.eye(4).tolist())
                writer.set("_applied_transforms", {})
        ProcessLog(out_dir).set("undistortion", StageState.FINISHED, "resampled to pinhole at conversion")
        return SceneResult(message="; ".join(notes))

    @staticmethod
    def _images(folder: Path, scene: str) -> list[Path]:
        if not folder.is_dir():
            raise WaiFileNotFoundError(f"{where(scene=scene, file=str(folder))}: missing sensor folder")
        images = [p for p in folder.glob("rgb*") if p.suffix.lower() in IMAGE_SUFFIXES]
        if not images:
            raise WaiFormatError(f"{where(scene=scene, file=str(folder))}: no rgb<idx> images")
        return [folder / n for n in sorted(p.name for p in images)]
