"""`wai convert blendedmvs`: BlendedMVS, BlendedMVS+ and BlendedMVS++ (low-res, 768x576), merged in one folder.

Raw layout (``--src`` is the folder holding every scene of the three releases)::

    <src>/<scene>/blended_images/<id>.jpg      (the <id>_masked.jpg files are not used)
    <src>/<scene>/cams/<id>_cam.txt            MVSNet camera: 'extrinsic' + 4x4 world-to-camera, 'intrinsic' + 3x3 K
    <src>/<scene>/cams/pair.txt                (ignored, as is anything named pair*)
    <src>/<scene>/rendered_depth_maps/<id>.pfm Pf float32, bottom-up, reconstruction units, 0 = invalid

Output per frame ``<id>``: ``images/<id>.jpg`` (a symlink to the raw JPEG), ``depth/<id>.exr`` (float16), the
cam2world inverse of the extrinsic and the per-frame K. Depth is in the reconstruction's units, so
``scale_type`` is ``colmap``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from wai.camera import Camera
from wai.camera.conventions import world2cam_to_cam2world
from wai.errors import WaiFileNotFoundError, WaiFormatError, where
from wai.scene import SceneWriter
from wai_converters.base import Converter, ConverterConfig
from wai_converters.pfm import read_pfm
from wai_converters.raw_inputs import (
    clean_depth,
    image_size,
    natural_sorted,
    parse_numbers,
    require_dir,
    require_file,
    subdirectories,
)

CAM_SUFFIX = "_cam.txt"


@dataclasses.dataclass
class BlendedMVSConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True,
        metadata={
            "help": "Decode every linked JPEG to catch truncated or mis-sized files (the reference does not)."
        },
    )


@dataclasses.dataclass(frozen=True)
class MVSNetCamera:
    """One MVSNet ``_cam.txt``: the world-to-camera pose (OpenCV axes) and the intrinsics matrix."""

    world2cam: np.ndarray
    K: np.ndarray


def _matrix_block(
    lines: list[tuple[int, str]], start: int, title: str, size: int, path: Path, scene: str
) -> tuple[np.ndarray, int]:
    if start >= len(lines) or lines[start][1].strip() != title:
        found = lines[start][1].strip() if start < len(lines) else "end of file"
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: expected a line '{title}', found {found!r}"
        )
    rows = lines[start + 1 : start + 1 + size]
    if len(rows) < size:
        raise WaiFormatError(
            f"{where(scene=scene, file=str(path))}: '{title}' has {len(rows)} rows, expected {size} rows of {size}"
        )
    matrix = np.stack([parse_numbers(ln, size, title, path, scene=scene, line_no=i) for i, ln in rows])
    return matrix, start + 1 + size


def read_mvsnet_camera(path: Path, *, scene: str) -> MVSNetCamera:
    """Parse ``extrinsic`` (4 rows) then ``intrinsic`` (3 rows); blank lines and the depth-range line are skipped."""
    require_file(path, "camera file", scene=scene)
    lines = [(i, ln) for i, ln in enumerate(path.read_text().splitlines(), start=1) if ln.strip()]
    extrinsic, pos = _matrix_block(lines, 0, "extrinsic", 4, path, scene)
    K, _ = _matrix_block(lines, pos, "intrinsic", 3, path, scene)
    return MVSNetCamera(extrinsic, K)


class BlendedMVSConverter(Converter):
    name = "blendedmvs"
    description = (
        "BlendedMVS (+, ++): 502 textured-mesh scenes rendered at 768x576, depth in reconstruction units."
    )
    config_class = BlendedMVSConfig

    config: BlendedMVSConfig

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def frame_ids(self, scene: str) -> list[str]:
        """Frame ids from ``cams/``: every file not named pair*, minus its ``_cam.txt`` suffix, natural order."""
        cams = require_dir(Path(self.config.src) / scene / "cams", "camera", scene=scene)
        names = [n for n in (p.name for p in cams.iterdir()) if not n.startswith("pair")]
        return natural_sorted(n[: -len(CAM_SUFFIX)] for n in names if n.endswith(CAM_SUFFIX))

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        raw = Path(self.config.src).absolute() / scene
        ids = self.frame_ids(scene)
        if not ids:
            raise WaiFormatError(
                f"{where(scene=scene, file=str(raw / 'cams'))}: no <id>_cam.txt camera files"
            )
        depth_dir = raw / "rendered_depth_maps"
        orphans = (
            sorted(set(p.stem for p in depth_dir.glob("*.pfm")) - set(ids)) if depth_dir.is_dir() else []
        )
        if orphans:
            missing = raw / "cams" / f"{orphans[0]}{CAM_SUFFIX}"
            raise WaiFileNotFoundError(
                f"{where(scene=scene, file=str(missing))}: missing camera file for depth map "
                f"'{depth_dir / (orphans[0] + '.pfm')}' ({len(orphans)} depth maps have no camera file)"
            )
        with SceneWriter(
            out_dir, dataset_name="blendedmvs", scale_type="colmap", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            for frame_id in ids:
                cam = read_mvsnet_camera(raw / "cams" / f"{frame_id}{CAM_SUFFIX}", scene=scene)
                depth_path = raw / "rendered_depth_maps" / f"{frame_id}.pfm"
                require_file(depth_path, "depth map", scene=scene, frame=frame_id)
                depth = read_pfm(depth_path)
                if depth.ndim != 2:
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=frame_id, file=str(depth_path))}: expected a one-channel (Pf) "
                        f"depth map, got shape {depth.shape}"
                    )
                height, width = depth.shape
                image_path = require_file(
                    raw / "blended_images" / f"{frame_id}.jpg", "image", scene=scene, frame=frame_id
                )
                if self.config.check_images:
                    size = image_size(image_path, scene=scene, frame=frame_id)
                    if size != depth.shape:
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=frame_id, file=str(depth_path))}: depth map is "
                            f"{width}x{height} but image '{image_path}' is {size[1]}x{size[0]}"
                        )
                K = cam.K
                camera = Camera.pinhole(K, width, height)
                writer.add_frame(
                    frame_id,
                    world2cam_to_cam2world(cam.world2cam),
                    camera=camera,
                    image=image_path,
                    depth=clean_depth(depth),
                )
