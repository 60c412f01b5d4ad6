"""Reading COLMAP output: sparse models (text or binary, through pycolmap) and dense depth maps (``*.bin``).

Records keep COLMAP's own conventions (world-to-camera poses, top-left pixel centre at (0.5, 0.5)); the `colmap`
converter turns them into WAI's in one place.

Why pycolmap rather than a reader of our own: it is COLMAP's own code, so it follows the format as it changes
(COLMAP 3.12 added ``rigs`` and ``frames`` files; 4.x writes them) and reads text and binary alike. Models
without a ``points3D`` file (poses only) are read through a temporary folder that adds an empty one.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from wai.camera import CAMERA_PARAMS, Camera, CameraModel
from wai.camera.models import MODELS
from wai.errors import WaiCameraError, WaiError, WaiFileNotFoundError, WaiFormatError

#: Where a capture's sparse model may be, tried in this order (relative to the capture folder).
MODEL_CANDIDATES = ("sparse/0", "sparse", ".")
_REQUIRED_FILES = ("cameras", "images")
_EMPTY_POINTS = {".txt": b"", ".bin": (0).to_bytes(8, "little")}


@dataclasses.dataclass(frozen=True)
class ColmapImage:
    """One registered image: COLMAP's id and name (relative to the image folder), its camera and its pose."""

    image_id: int
    name: str
    camera_id: int
    world2cam: np.ndarray  # (4, 4), COLMAP/OpenCV camera axes


@dataclasses.dataclass(frozen=True)
class ColmapModel:
    """A sparse model: cameras (COLMAP pixel convention) by id, registered images sorted by id, and the names of
    images the model lists without a pose (not registered; COLMAP >= 3.12 models can hold them)."""

    path: Path
    cameras: dict[int, Camera]
    images: list[ColmapImage]
    unposed: list[str] = dataclasses.field(default_factory=list)


def is_model_folder(path: Path) -> bool:
    """Whether `path` holds a cameras and an images file (``.txt`` or ``.bin``)."""
    return all(any((path / f"{name}{ext}").is_file() for ext in (".txt", ".bin")) for name in _REQUIRED_FILES)


def find_model(capture: Path, model: str = "") -> Path:
    """The model folder of a capture: `model` (relative) if given, else the first of `MODEL_CANDIDATES`."""
    candidates = (model,) if model else MODEL_CANDIDATES
    for rel in candidates:
        path = (capture / rel).resolve() if rel != "." else capture
        if is_model_folder(path):
            return path
    looked = ", ".join(f"'{capture / rel}'" for rel in candidates)
    missing = _missing_files(capture / candidates[0])
    raise WaiFileNotFoundError(f"no COLMAP model in capture '{capture}': looked in {looked} ({missing})")


def _missing_files(path: Path) -> str:
    if not path.is_dir():
        return f"'{path}' is not a folder"
    gone = [
        f"{n}.txt/.bin"
        for n in _REQUIRED_FILES
        if not any((path / f"{n}{e}").is_file() for e in (".txt", ".bin"))
    ]
    return f"missing {' and '.join(gone)} in '{path}'" if gone else "no model files"


def camera_from_colmap(model_name: str, width: int, height: int, params: np.ndarray, where: str) -> Camera:
    """A `Camera` with COLMAP's coefficients (pixel convention unchanged). COLMAP's parameter order is the order
    of `wai.camera.CAMERA_PARAMS`, except that single-focal models store one ``f`` for fl_x and fl_y."""
    try:
        model = CameraModel(model_name)
    except ValueError:
        known = ", ".join(m.value for m in CameraModel if m is not CameraModel.EQUIRECTANGULAR)
        raise WaiCameraError(
            f"{where}: COLMAP camera model {model_name} is not supported (supported: {known})"
        ) from None
    names = list(CAMERA_PARAMS[model])
    if MODELS[model].single_focal:
        names.remove("fl_y")
    values = [float(v) for v in np.asarray(params).ravel()]
    if len(values) != len(names):
        raise WaiCameraError(
            f"{where}: {model_name} needs {len(names)} parameters ({', '.join(names)}), got {len(values)}"
        )
    return Camera(model, width, height, dict(zip(names, values, strict=True)))


def read_model(path: Path, *, points: bool = True) -> ColmapModel:
    """Read the sparse model in folder `path` (text or binary) with pycolmap.

    ``points=False`` leaves a ``points3D`` file unread (for converters that use only cameras and poses, as the
    reference's MegaDepth and AerialMegaDepth do: its size and consistency then do not matter).
    """
    try:
        import pycolmap
    except ImportError as exc:
        raise WaiError("reading COLMAP models needs pycolmap: pip install 'wai-toolkit[convert]'") from exc
    if not is_model_folder(path):
        raise WaiFileNotFoundError(f"COLMAP model '{path}': {_missing_files(path)}")
    _check_text_files(path)
    try:
        if points and any((path / f"points3D{ext}").is_file() for ext in (".txt", ".bin")):
            recon = pycolmap.Reconstruction(str(path))
        else:
            recon = _read_without_points(pycolmap, path)
    except Exception as exc:  # pycolmap raises ValueError, IndexError, RuntimeError on bad files
        raise WaiFormatError(f"COLMAP model '{path}': pycolmap cannot read it: {exc}") from exc
    cameras_file = _file_of(path, "cameras")
    cameras = {
        int(cid): camera_from_colmap(
            cam.model.name,
            int(cam.width),
            int(cam.height),
            cam.params,
            f"file '{cameras_file}', camera {cid}",
        )
        for cid, cam in recon.cameras.items()
    }
    images, unposed = [], []
    for iid, image in sorted(recon.images.items()):
        if not image.has_pose:
            unposed.append(str(image.name))
            continue
        w2c = np.eye(4)
        w2c[:3] = image.cam_from_world().matrix()
        if image.camera_id not in cameras:
            raise WaiFormatError(
                f"file '{_file_of(path, 'images')}', image {iid}: unknown camera {image.camera_id}"
            )
        images.append(ColmapImage(int(iid), str(image.name), int(image.camera_id), w2c))
    return ColmapModel(path, cameras, images, unposed)


def _check_text_files(path: Path) -> None:
    """Line-level checks of a text model, so that a cut or garbled file is reported with its name and line
    (pycolmap's own messages name neither)."""
    cameras = path / "cameras.txt"
    if cameras.is_file():
        for number, line in enumerate(cameras.read_text(errors="replace").splitlines(), start=1):
            fields = line.split()
            if fields and not fields[0].startswith("#") and len(fields) < 5:
                raise WaiFormatError(
                    f"file '{cameras}', line {number}: {len(fields)} fields, expected "
                    "CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]"
                )
    images = path / "images.txt"
    if not images.is_file():
        return
    lines = images.read_text(errors="replace").splitlines()
    number = 0
    while number < len(lines):
        fields = lines[number].split()
        number += 1
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) < 10:
            raise WaiFormatError(
                f"file '{images}', line {number}: {len(fields)} fields, expected "
                "IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME"
            )
        # As in COLMAP's reader, the line after an image line holds its 2D points (it may be empty).
        points = lines[number].split() if number < len(lines) else []
        number += 1
        if len(points) % 3:
            raise WaiFormatError(
                f"file '{images}', line {number}: {len(points)} values, expected triples X Y POINT3D_ID"
            )


def _file_of(path: Path, name: str) -> Path:
    text = path / f"{name}.txt"
    return text if text.is_file() else path / f"{name}.bin"


def _read_without_points(pycolmap: object, path: Path) -> object:
    """A poses-only model: link its files into a temporary folder next to an empty points3D file."""
    with tempfile.TemporaryDirectory(prefix="wai_colmap_") as tmp:
        ext = _file_of(path, "cameras").suffix
        for name in ("cameras", "images", "rigs", "frames"):
            source = path / f"{name}{ext}"
            if source.is_file():
                (Path(tmp) / source.name).symlink_to(source.resolve())
        (Path(tmp) / f"points3D{ext}").write_bytes(_EMPTY_POINTS[ext])
        return pycolmap.Reconstruction(tmp)  # type: ignore[attr-defined]


# --- dense depth maps: "<width>&<height>&<channels>&" then float32 little-endian, one channel row after row -----


def read_depth_map(path: Path) -> np.ndarray:
    """A COLMAP dense map (``stereo/depth_maps/*.bin``) as (H, W) float32; COLMAP writes 0 where it has no depth."""
    data = Path(path).read_bytes()
    parts = data.split(b"&", 3)
    try:
        width, height, channels = (int(p) for p in parts[:3])
        body = parts[3]
    except (ValueError, IndexError):
        raise WaiFormatError(f"file '{path}': not a COLMAP depth map (expected a 'W&H&C&' header)") from None
    if channels != 1 or width <= 0 or height <= 0:
        raise WaiFormatError(
            f"file '{path}': expected a single-channel depth map, header says {width}x{height}x{channels}"
        )
    expected = 4 * width * height
    if len(body) != expected:
        raise WaiFormatError(
            f"file '{path}': {len(body)} bytes of data, expected {expected} for {width}x{height} float32 (truncated?)"
        )
    return np.frombuffer(body, dtype="<f4").reshape(height, width).astype(np.float32)


def write_depth_map(path: Path, depth: np.ndarray) -> None:
    """Write (H, W) depth in COLMAP's dense format (the inverse of `read_depth_map`)."""
    arr = np.asarray(depth, dtype="<f4")
    if arr.ndim != 2:
        raise WaiFormatError(f"file '{path}': expected an (H, W) depth map, got shape {arr.shape}")
    header = f"{arr.shape[1]}&{arr.shape[0]}&1&".encode()
    Path(path).write_bytes(header + np.ascontiguousarray(arr).tobytes())
