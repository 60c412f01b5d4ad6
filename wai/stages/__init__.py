"""Per-scene processing stages: resumable, lock-protected, recorded in each scene's `_process_log.json`.

from wai.stages import Stage, run_stage
report = run_stage(Stage("covisibility", compute_covisibility, requires=("conversion",)), "data/eth3d",
                   workers=4)
print(report.summary())
"""

from wai.stages.process_log import PROCESS_LOG, PROCESS_LOG_BACKUP, PROCESS_LOG_CORRUPT, ProcessLog
from wai.stages.report import SceneOutcome, StageReport
from wai.stages.runner import EXECUTORS, run_stage
from wai.stages.scene_lock import SCENE_LOCK, SceneLock, SceneLockedError
from wai.stages.selection import list_scenes, parse_shard, select_scenes
from wai.stages.slurm import SlurmOptions
from wai.stages.stage import Stage
from wai.stages.state import SceneResult, StageState

__all__ = [
    "EXECUTORS",
    "PROCESS_LOG",
    "PROCESS_LOG_BACKUP",
    "PROCESS_LOG_CORRUPT",
    "SCENE_LOCK",
    "ProcessLog",
    "SceneLock",
    "SceneLockedError",
    "SceneOutcome",
    "SceneResult",
    "SlurmOptions",
    "Stage",
    "StageReport",
    "StageState",
    "list_scenes",
    "parse_shard",
    "run_stage",
    "select_scenes",
]
