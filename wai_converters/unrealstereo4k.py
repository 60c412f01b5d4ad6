"""`wai convert unrealstereo4k`: UnrealStereo4K (SMD-Nets), nine Unreal Engine scenes of 4K stereo pairs.

Raw layout (``--src`` is the folder the nine zips were extracted into)::

    <src>/<NNNNN>/Image0/<id>.png        left image (RGBA PNG; the frame list comes from here)
    <src>/<NNNNN>/Image1/<id>.png        right image
    <src>/<NNNNN>/Disp0/<id>.npy         left disparity in pixels (float)
    <src>/<NNNNN>/Disp1/<id>.npy         right disparity
    <src>/<NNNNN>/Extrinsics0/<id>.txt   line 1: 3x3 K (9 numbers); line 2: 3x4 world-to-camera (12 numbers)
    <src>/<NNNNN>/Extrinsics1/<id>.txt

Each id gives two frames, ``<id>_cam0`` then ``<id>_cam1``. The stereo baseline is the distance between the two
cameras (from the extrinsics); depth = baseline * fx / disparity with the camera's own fx, and values of 10000 or
more (disparity 0) as well as NaN or negative ones are invalid (0).

Poses: Unreal's world is left-handed, and the reference writes ``diag(1, -1, 1, 1) @ inv(world2cam)``, a flip of the
world's y axis (recorded in ``_applied_transforms`` as ``unreal_world_y_flip``, left-multiplied). That is a proper
OpenCV cam2world when the raw rotations have det -1. Where a scene's raw rotations are proper (det +1) the same
flip would turn every pose into a reflection, which no WAI reader accepts; such a scene keeps ``inv(world2cam)``,
which differs from the reference's poses only by that one mirror of the whole world, so every relative pose, depth
map and reprojection is the same. A scene whose files mix the two is an error.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from wai.camera import Camera
from wai.camera.conventions import invert_rigid
from wai.errors import WaiFormatError, where
from wai.scene import SceneWriter
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import (
    clean_depth,
    expect_shape,
    image_size,
    invert_depth,
    load_npy,
    parse_numbers,
    png_stems,
    require_file,
    subdirectories,
)

#: Depth at or beyond this is invalid (it covers zero disparity, which gives inf).
MAX_DEPTH = 10000.0
#: Left-multiplied onto inv(world2cam): flips the world's y axis (Unreal is left-handed).
WORLD_Y_FLIP = np.diag([1.0, -1.0, 1.0, 1.0])


@dataclasses.dataclass
class UnrealStereo4KConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True, metadata={"help": "Decode every linked PNG to catch truncated or mis-sized files."}
    )


def read_extrinsics(path: Path, *, scene: str, frame: str) -> tuple[np.ndarray, np.ndarray]:
    """(K (3, 3), world2cam (4, 4)) from an UnrealStereo4K extrinsics file of exactly two lines."""
    require_file(path, "camera file (K and world-to-camera)", scene=scene, frame=frame)
    lines = [(i, ln) for i, ln in enumerate(path.read_text().strip().splitlines(), start=1) if ln.strip()]
    if len(lines) != 2:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: expected 2 lines (K, then the 3x4 world-to-camera "
            f"matrix), found {len(lines)}"
        )
    K = parse_numbers(lines[0][1], 9, "K (3x3)", path, scene=scene, line_no=lines[0][0]).reshape(3, 3)
    w2c = np.eye(4)
    w2c[:3] = parse_numbers(
        lines[1][1], 12, "world-to-camera (3x4)", path, scene=scene, line_no=lines[1][0]
    ).reshape(3, 4)
    return K, w2c


class UnrealStereo4KConverter(Converter):
    name = "unrealstereo4k"
    description = "UnrealStereo4K: 4K stereo pairs rendered in Unreal Engine, depth from disparity."
    config_class = UnrealStereo4KConfig

    config: UnrealStereo4KConfig

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        raw = Path(self.config.src).absolute() / scene
        ids = png_stems(raw / "Image0", "left image", scene=scene)
        with SceneWriter(
            out_dir, dataset_name="unrealstereo4k", scale_type="metric", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            flip: bool | None = None
            for frame_id in ids:
                cams = [
                    read_extrinsics(
                        raw / f"Extrinsics{c}" / f"{frame_id}.txt", scene=scene, frame=f"{frame_id}_cam{c}"
                    )
                    for c in (0, 1)
                ]
                relative = cams[0][1] @ invert_rigid(cams[1][1])
                baseline = float(np.linalg.norm(relative[:3, 3]))
                for c, (K, w2c) in enumerate(cams):
                    name = f"{frame_id}_cam{c}"
                    disp_path = raw / f"Disp{c}" / f"{frame_id}.npy"
                    disparity = load_npy(disp_path, "disparity", scene=scene, frame=name)
                    if disparity.ndim != 2:
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=name, file=str(disp_path))}: expected an (H, W) disparity "
                            f"map, got shape {disparity.shape}"
                        )
                    height, width = disparity.shape
                    image_path = require_file(
                        raw / f"Image{c}" / f"{frame_id}.png", "image", scene=scene, frame=name
                    )
                    if self.config.check_images:
                        size = image_size(image_path, scene=scene, frame=name)
                        expect_shape(
                            disparity, size, "disparity (vs. its image)", disp_path, scene=scene, frame=name
                        )
                    depth = invert_depth(baseline * K[0, 0], disparity)
                    depth[depth >= MAX_DEPTH] = 0.0
                    camera = Camera.pinhole(K, width, height)
                    left_handed = bool(np.linalg.det(w2c[:3, :3]) < 0)
                    if flip is None:
                        flip = left_handed
                        if flip:
                            writer.record_transform("unreal_world_y_flip", WORLD_Y_FLIP)
                    elif left_handed != flip:
                        raise WaiFormatError(
                            f"{where(scene=scene, frame=name, file=str(raw / f'Extrinsics{c}' / f'{frame_id}.txt'))}: "
                            f"rotation has det {'-1' if left_handed else '+1'}, the scene's first camera the opposite"
                        )
                    cam2world = invert_rigid(w2c)
                    if flip:
                        cam2world = WORLD_Y_FLIP @ cam2world
                    writer.add_frame(
                        name, cam2world, camera=camera, image=image_path, depth=clean_depth(depth)
                    )
