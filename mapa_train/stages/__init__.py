"""Prediction stages that run models over WAI scenes and write their outputs back as frame modalities.

Each stage is a `wai.stages.Stage` (resumable, per-scene locked, recorded in `_process_log.json`); the torch
models are loaded once per worker process.

from mapa_train.stages import predict_moge2
report = predict_moge2("data/eth3d", "checkpoints/moge-2-vitl-normal/model.pt", device="cuda")
print(report.summary())
"""

from mapa_train.stages.device import resolve_device
from mapa_train.stages.moge2 import MoGe2StageConfig, load_moge2, moge2_stage, predict_moge2

__all__ = ["MoGe2StageConfig", "load_moge2", "moge2_stage", "predict_moge2", "resolve_device"]
