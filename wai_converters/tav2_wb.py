"""`wai convert tav2_wb`: TartanAir V2 wide-baseline pairs (the UFM release), as extracted by its download script.

Raw layout (``--src`` is the extracted ``tav2_wb`` folder, not the Hugging Face H5 shards)::

    <src>/<Env>/images/<pair:08d>_<view>.png     8-bit RGB
    <src>/<Env>/depth/<same>.exr                 already WAI depth: float16 EXR, metres, sky already 0
    <src>/<Env>/camera_params/<same>.npy         3x3 K
    <src>/<Env>/poses/<same>.npy                 4x4 camera-to-world, OpenCV axes

One scene per environment. Images and depth are linked, not re-encoded (the depth EXR is decoded once to check
that it is complete and matches the image size).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from wai import io
from wai.camera import Camera
from wai.camera.conventions import is_rotation
from wai.errors import WaiError, WaiFormatError, where
from wai.scene import SceneWriter
from wai_converters.base import Converter, ConverterConfig
from wai_converters.raw_inputs import (
    expect_shape,
    image_size,
    load_npy,
    natural_sorted,
    require_dir,
    require_file,
    subdirectories,
)


@dataclasses.dataclass
class TartanAirV2WBConfig(ConverterConfig):
    check_depth: bool = dataclasses.field(
        default=True,
        metadata={"help": "Decode every linked depth EXR to catch truncated or mis-sized files."},
    )


class TartanAirV2WBConverter(Converter):
    name = "tav2_wb"
    description = "TartanAir V2 wide-baseline image pairs (UFM release), one scene per environment."
    config_class = TartanAirV2WBConfig

    config: TartanAirV2WBConfig

    def source_scenes(self) -> list[str]:
        return subdirectories(Path(self.config.src))

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        raw = Path(self.config.src).absolute() / scene
        images = require_dir(raw / "images", "images", scene=scene)
        names = natural_sorted(p.name.split(".")[0] for p in images.glob("*.png"))
        if not names:
            raise WaiFormatError(f"{where(scene=scene, file=str(images))}: no .png images")
        with SceneWriter(out_dir, dataset_name="tav2_wb", scale_type="metric", link_mode="symlink") as writer:
            writer.set("camera_model", "PINHOLE")
            for name in names:
                image_path = images / f"{name}.png"
                height, width = image_size(image_path, scene=scene, frame=name)
                depth_path = require_file(raw / "depth" / f"{name}.exr", "depth map", scene=scene, frame=name)
                if self.config.check_depth:
                    try:
                        depth = io.load(depth_path, "depth")
                    except WaiError as exc:
                        raise type(exc)(f"{where(scene=scene, frame=name)}, {exc}") from exc
                    expect_shape(depth, (height, width), "depth map", depth_path, scene=scene, frame=name)
                k_path = raw / "camera_params" / f"{name}.npy"
                K = load_npy(k_path, "camera intrinsics (3x3 K)", scene=scene, frame=name)
                expect_shape(K, (3, 3), "camera intrinsics", k_path, scene=scene, frame=name)
                pose_path = raw / "poses" / f"{name}.npy"
                pose = load_npy(pose_path, "pose (4x4 camera-to-world)", scene=scene, frame=name)
                expect_shape(pose, (4, 4), "camera-to-world pose", pose_path, scene=scene, frame=name)
                pose = pose.astype(np.float64)
                if not is_rotation(pose):
                    raise WaiFormatError(
                        f"{where(scene=scene, frame=name, file=str(pose_path))}: rotation block is not a rotation"
                    )
                camera = Camera.pinhole(K, width, height)
                writer.add_frame(name, pose, camera=camera, image=image_path, depth=depth_path)
