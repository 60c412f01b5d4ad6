"""COLMAP text models (``cameras.txt``, ``images.txt``) as the reference's ETH3D converter reads them.

Comment lines (``#``) at the top are the header. ``images.txt`` then holds two lines per image: the image line
``IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME`` (a world-to-camera pose, OpenCV axes) and a points line, which may
be empty. COLMAP puts the centre of the top-left pixel at (0.5, 0.5); `wai` puts it at (0, 0), so `to_camera`
subtracts 0.5 from the principal point.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wai.camera import CAMERA_PARAMS, Camera, CameraModel
from wai.camera.conventions import quaternion_to_rotation
from wai.errors import WaiCameraError, WaiFormatError, where
from wai_converters.raw_inputs import require_file


@dataclass(frozen=True)
class ColmapCamera:
    """One ``cameras.txt`` entry: model name, size and the parameters in COLMAP's order."""

    camera_id: int
    model: str
    width: int
    height: int
    params: tuple[float, ...]

    def to_camera(self, *, where_: str = "") -> Camera:
        """The `wai` camera (principal point moved by -0.5 to the pixel-centre convention)."""
        try:
            model = CameraModel(self.model)
        except ValueError:
            raise WaiCameraError(f"{where_}: unsupported COLMAP camera model {self.model!r}") from None
        names = CAMERA_PARAMS[model]
        if len(self.params) != len(names):
            raise WaiCameraError(
                f"{where_}: {self.model} takes {len(names)} parameters ({', '.join(names)}), got {len(self.params)}"
            )
        values = dict(zip(names, self.params, strict=True))
        values["cx"] -= 0.5
        values["cy"] -= 0.5
        return Camera(model, self.width, self.height, values)


@dataclass(frozen=True)
class ColmapImage:
    """One ``images.txt`` image line: its camera and world-to-camera pose (OpenCV axes)."""

    image_id: int
    camera_id: int
    name: str
    world2cam: np.ndarray

    @property
    def basename(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def _body(path: Path, scene: str, what: str) -> list[tuple[int, str]]:
    """(1-based line number, text) of every line after the leading comment block."""
    require_file(path, what, scene=scene)
    lines = path.read_text().splitlines()
    start = 0
    while start < len(lines) and lines[start].lstrip().startswith("#"):
        start += 1
    return [(i + 1, lines[i]) for i in range(start, len(lines))]


def read_cameras(path: Path, *, scene: str) -> dict[int, ColmapCamera]:
    """Camera id -> camera from a COLMAP ``cameras.txt``."""
    cameras: dict[int, ColmapCamera] = {}
    for line_no, line in _body(path, scene, "COLMAP cameras file"):
        parts = line.split()
        if not parts:
            continue
        try:
            camera = ColmapCamera(
                int(parts[0]), parts[1], int(parts[2]), int(parts[3]), tuple(map(float, parts[4:]))
            )
        except (IndexError, ValueError):
            raise WaiFormatError(
                f"{where(scene=scene, file=str(path))}: line {line_no}: expected 'CAMERA_ID MODEL WIDTH HEIGHT "
                f"PARAMS...', got {line.strip()!r}"
            ) from None
        cameras[camera.camera_id] = camera
    return cameras


def read_images(path: Path, *, scene: str) -> list[ColmapImage]:
    """The image lines of a COLMAP ``images.txt``, in file order (its points lines are skipped, not parsed)."""
    body = _body(path, scene, "COLMAP images file")
    images = []
    for k in range(0, len(body), 2):
        line_no, line = body[k]
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 10:
            raise WaiFormatError(
                f"{where(scene=scene, file=str(path))}: line {line_no}: expected 'IMAGE_ID QW QX QY QZ TX TY TZ "
                f"CAMERA_ID NAME', got {len(parts)} fields"
            )
        try:
            q = np.array([float(v) for v in parts[1:5]])
            t = np.array([float(v) for v in parts[5:8]])
            image_id, camera_id = int(parts[0]), int(parts[8])
        except ValueError:
            raise WaiFormatError(
                f"{where(scene=scene, file=str(path))}: line {line_no}: non-numeric pose or id in {line.strip()!r}"
            ) from None
        w2c = np.eye(4)
        try:
            w2c[:3, :3] = quaternion_to_rotation(q)
        except WaiCameraError as exc:
            raise WaiFormatError(f"{where(scene=scene, file=str(path))}: line {line_no}: {exc}") from None
        w2c[:3, 3] = t
        images.append(ColmapImage(image_id, camera_id, " ".join(parts[9:]), w2c))
    return images
