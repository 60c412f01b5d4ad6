"""`wai convert mvs_synth`: MVS-Synth, 120 GTA-V sequences of 100 frames (1920x1080) with exact depth and poses.

Raw layout (``--src`` holds the sequence folders ``0000`` .. ``0119``)::

    <src>/<seq>/images/<NNNN>.png    RGB (the frame list: every *.png here, natural order)
    <src>/<seq>/depths/<NNNN>.exr    single-channel float EXR, game units, +inf = sky
    <src>/<seq>/poses/<NNNN>.json    {"extrinsic": 4x4 world-to-camera, "f_x", "f_y", "c_x", "c_y"} (pixels)

Output per frame ``<NNNN>``: ``images/<NNNN>.png`` (a symlink), ``depth/<NNNN>.exr`` (float16, metres, sky and
every NaN/inf 0) and the per-frame pinhole intrinsics from the JSON.

Units: game units are a tenth of a metre (the reference's factor, measured on cars and people): depth and the
pose translations are divided by 10, recorded in ``_applied_transforms`` as ``game_units_to_metres``
(diag(0.1, 0.1, 0.1, 1) on the world side; rotations unchanged).

Poses: the game's world is left-handed, and the reference writes ``diag(1, -1, 1, 1) @ inv(extrinsic)`` (a flip
of the world's y axis, "RUF -> RDF"), recorded as ``gta_world_y_flip``. That is a proper OpenCV cam2world when the
raw rotations have det -1, as the release's do. A sequence whose rotations are already proper (det +1) keeps
``inv(extrinsic)``: the flip would turn every pose into a reflection, which SceneWriter refuses, and without it
the poses differ from the reference's only by one mirror of the whole world (relative poses, depth and
reprojections are the same). A sequence mixing both is an error (as for UnrealStereo4K).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from wai.camera import Camera, CameraModel
from wai.camera.conventions import invert_rigid
from wai.errors import WaiError, WaiFormatError, where
from wai.io.exr import read_exr
from wai.scene import SceneWriter
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import (
    clean_depth,
    expect_shape,
    image_size,
    matrix_field,
    natural_sorted,
    read_json,
    require_dir,
    require_file,
    subdirectories,
)

#: Metres per game unit.
METRES_PER_UNIT = 0.1
#: Left-multiplied onto inv(extrinsic): flips the world's y axis (the game's world is left-handed).
WORLD_Y_FLIP = np.diag([1.0, -1.0, 1.0, 1.0])
#: The unit change as a world-side matrix (translations times 0.1).
UNITS_TO_METRES = np.diag([METRES_PER_UNIT] * 3 + [1.0])
INTRINSIC_KEYS = ("f_x", "f_y", "c_x", "c_y")


@dataclasses.dataclass
class MVSSynthConfig(ConverterConfig):
    check_images: bool = dataclasses.field(
        default=True, metadata={"help": "Decode every linked PNG to catch truncated or mis-sized files."}
    )


@dataclasses.dataclass(frozen=True)
class MVSSynthPose:
    """One ``poses/<NNNN>.json``: world-to-camera in game units (raw handedness) and the pinhole intrinsics."""

    world2cam: np.ndarray
    intrinsics: dict[str, float]


def read_pose(path: Path, *, scene: str, frame: str) -> MVSSynthPose:
    """Parse a pose JSON; a missing key, a matrix that is not 4x4 or a non-numeric focal is an error naming it."""
    data = read_json(path, "pose file", scene=scene, frame=frame)
    if not isinstance(data, dict) or "extrinsic" not in data:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: expected a JSON object with 'extrinsic'"
        )
    w2c = matrix_field(data["extrinsic"], (4, 4), "extrinsic", path, scene=scene, frame=frame)
    intrinsics = {}
    for key in INTRINSIC_KEYS:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise WaiFormatError(
                f"{where(scene=scene, frame=frame, file=str(path), field=key)}: expected a number, got {value!r}"
            )
        intrinsics[key] = float(value)
    return MVSSynthPose(w2c, intrinsics)


def read_depth(path: Path, *, scene: str, frame: str) -> np.ndarray:
    """(H, W) float32 depth in game units from a single-channel EXR (inf kept: the caller zeroes it)."""
    require_file(path, "depth map", scene=scene, frame=frame)
    try:
        depth = read_exr(path, "depth")
    except WaiError as exc:
        raise WaiFormatError(f"{where(scene=scene, frame=frame)}, {exc}") from exc
    if depth.ndim != 2:
        raise WaiFormatError(
            f"{where(scene=scene, frame=frame, file=str(path))}: expected a single-channel depth EXR, got "
            f"{depth.shape[2]} channels"
        )
    return depth


class MVSSynthConverter(Converter):
    name = "mvs_synth"
    description = "MVS-Synth: 120 GTA-V sequences with exact depth and poses (game units / 10 = metres)."
    config_class = MVSSynthConfig

    config: MVSSynthConfig

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        raw = Path(self.config.src).absolute() / scene
        ids = natural_sorted(p.stem for p in require_dir(raw / "images", "image", scene=scene).glob("*.png"))
        if not ids:
            raise WaiFormatError(f"{where(scene=scene, file=str(raw / 'images'))}: no .png images")
        with SceneWriter(
            out_dir, dataset_name="mvs_synth", scale_type="metric", link_mode="symlink"
        ) as writer:
            writer.set("camera_model", "PINHOLE")
            flip: bool | None = None
            for frame_id in ids:
                pose_path = raw / "poses" / f"{frame_id}.json"
                pose = read_pose(pose_path, scene=scene, frame=frame_id)
                depth_path = raw / "depths" / f"{frame_id}.exr"
                depth = read_depth(depth_path, scene=scene, frame=frame_id)
                image_path = raw / "images" / f"{frame_id}.png"
                if self.config.check_images:
                    size = image_size(image_path, scene=scene, frame=frame_id)
                    expect_shape(
                        depth, size, "depth map (vs. its image)", depth_path, scene=scene, frame=frame_id
                    )
                left_handed = bool(np.linalg.det(pose.world2cam[:3, :3]) < 0)
                if flip is None:
                    flip = left_handed
                    if flip:
                        writer.record_transform("gta_world_y_flip", WORLD_Y_FLIP)
                    writer.record_transform("game_units_to_metres", UNITS_TO_METRES)
                elif left_handed != flip:
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=frame_id, file=str(pose_path))}: extrinsic rotation has det "
                        f"{'-1' if left_handed else '+1'}, the sequence's first frame the opposite"
                    )
                # The one place where the raw convention becomes WAI's: invert, un-flip the world, to metres.
                cam2world = invert_rigid(pose.world2cam)
                if flip:
                    cam2world = WORLD_Y_FLIP @ cam2world
                cam2world[:3, 3] *= METRES_PER_UNIT
                height, width = depth.shape
                p = pose.intrinsics
                camera = Camera(
                    CameraModel.PINHOLE,
                    width,
                    height,
                    {"fl_x": p["f_x"], "fl_y": p["f_y"], "cx": p["c_x"], "cy": p["c_y"]},
                )
                # Sky (+inf) and any other NaN/inf or negative value -> 0, then game units -> metres.
                metres = clean_depth(depth) * np.float32(METRES_PER_UNIT)
                writer.add_frame(frame_id, cam2world, camera=camera, image=image_path, depth=metres)
