"""MoGe-2 as a `DepthPredictor`: its depth alone, through the generic predicted-depth stage.

The full MoGe-2 stage (`mapa_train.stages.moge2`, stage ``moge``) also writes masks and normals; this one runs the
same model and writes only ``pred_depth/moge2`` at the MoGe stage's path (``moge/v0/depth/moge2/<frame>.exr``,
frame key ``moge2_depth``) under the process-log name ``moge2_depth``, so any other predictor can take its place.

from mapa_train.stages.moge2_depth import MoGe2DepthPredictor
run_stage(pred_depth_stage(MoGe2DepthPredictor(MoGe2StageConfig(weights))), "data/eth3d")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np

from mapa_train.stages.moge2 import METHOD, OUT_PATH, MoGe2StageConfig, _check_config, predict_frames
from wai.predicted_depth import DepthPredictor
from wai.scene import Frame, Scene


@dataclasses.dataclass(frozen=True)
class MoGe2DepthPredictor(DepthPredictor):
    """MoGe-2 depth (0 where its mask says invalid) for every frame of a PINHOLE scene."""

    config: MoGe2StageConfig
    name: str = METHOD
    stage_name: str = "moge2_depth"
    out_path: str = OUT_PATH
    requires: tuple[str, ...] = ("conversion",)

    def rel_path(self, frame_name: str) -> str:
        return f"{self.out_path}/depth/{self.name}/{frame_name}.exr"

    def check(self) -> None:
        _check_config(self.config, "local")

    def predict(self, scene: Scene) -> Iterator[tuple[Frame, np.ndarray, str]]:
        for frame, depth, _mask, _normal in predict_frames(scene, self.config):
            yield frame, depth, f"MoGe-2 {self.config.model_name} ({self.config.weights})"
