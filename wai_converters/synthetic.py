"""`wai convert synthetic`: a small procedurally rendered dataset with exact depth and poses.

No download: scenes come from `wai.synthetic` (rooms, objects on a ground plane with sky, an outdoor plaza). Scene
``i`` is rendered from seed ``config.seed * 1000 + i`` and its frame count is drawn from the same seed, so the
dataset is identical on every machine. Depth is z-depth in metres (0 where a ray hits nothing), poses are OpenCV
cam2world, and `mask` marks the pixels that hit geometry (False on sky).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import numpy as np

from wai.camera import Camera
from wai.errors import WaiError
from wai.scene import SceneWriter
from wai.synthetic import SCENE_KINDS, make_scene, pinhole_intrinsics, render
from wai_converters.base import Converter, ConverterConfig


@dataclasses.dataclass
class SyntheticConfig(ConverterConfig):
    num_scenes: int = dataclasses.field(default=4, metadata={"help": "How many scenes to render."})
    min_frames: int = dataclasses.field(default=8, metadata={"help": "Fewest frames in a scene."})
    max_frames: int = dataclasses.field(default=24, metadata={"help": "Most frames in a scene."})
    width: int = dataclasses.field(default=224, metadata={"help": "Image width in pixels."})
    height: int = dataclasses.field(default=168, metadata={"help": "Image height in pixels."})
    fov_x: float = dataclasses.field(default=65.0, metadata={"help": "Horizontal field of view in degrees."})
    seed: int = dataclasses.field(
        default=0, metadata={"help": "Dataset seed; the same seed gives the same bytes."}
    )
    kinds: Literal["all", "room", "objects", "outdoor"] = dataclasses.field(
        default="all", metadata={"help": "Scene kinds to cycle through."}
    )


class SyntheticConverter(Converter):
    name = "synthetic"
    description = "Procedurally rendered rooms and object scenes with exact depth and poses (no download)."
    config_class = SyntheticConfig
    needs_source = False

    config: SyntheticConfig

    def check_config(self) -> None:
        super().check_config()
        config = self.config
        if config.num_scenes < 1:
            raise WaiError(f"synthetic: --num-scenes must be at least 1, got {config.num_scenes}")
        if not 1 <= config.min_frames <= config.max_frames:
            raise WaiError(
                f"synthetic: need 1 <= --min-frames <= --max-frames, got {config.min_frames} and {config.max_frames}"
            )
        if config.width < 8 or config.height < 8:
            raise WaiError(f"synthetic: image size {config.width}x{config.height} is too small (min 8x8)")
        if not 0 < config.fov_x < 180:
            raise WaiError(
                f"synthetic: --fov-x must be between 0 and 180 degrees (exclusive), got {config.fov_x:g}"
            )

    def _kinds(self) -> tuple[str, ...]:
        return tuple(SCENE_KINDS) if self.config.kinds == "all" else (self.config.kinds,)

    def source_scenes(self) -> list[str]:
        kinds = self._kinds()
        return [f"{kinds[i % len(kinds)]}_{i:03d}" for i in range(self.config.num_scenes)]

    def convert_scene(self, scene: str, out_dir: Path) -> None:
        cfg = self.config
        kind, _, index = scene.rpartition("_")
        seed = cfg.seed * 1000 + int(index)
        rng = np.random.default_rng(seed)
        n_frames = int(rng.integers(cfg.min_frames, cfg.max_frames + 1))
        synthetic = make_scene(seed, kind)  # type: ignore[arg-type]
        K = pinhole_intrinsics(cfg.width, cfg.height, fov_x_deg=cfg.fov_x)
        camera = Camera.pinhole(K, cfg.width, cfg.height)
        with SceneWriter(out_dir, dataset_name="synthetic", scale_type="metric", camera=camera) as writer:
            writer.set("synthetic", {"kind": kind, "seed": seed})
            for i, pose in enumerate(synthetic.default_poses(n_frames, seed=seed)):
                view = render(synthetic, pose, K=K, width=cfg.width, height=cfg.height)
                depth = np.where(view.valid, view.depth, 0).astype(np.float32)
                writer.add_frame(f"{i:06d}", pose, image=view.image, depth=depth, mask=view.valid)
