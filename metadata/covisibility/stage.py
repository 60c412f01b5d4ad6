"""`covisibility` as a `wai.stages` stage: resumable, lock-protected, recorded in each scene's process log."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from metadata.covisibility.compute import Backend
from metadata.covisibility.configs import AUTO, resolve_config
from metadata.covisibility.scene import compute_scene_covisibility
from wai.stages import SceneResult, Stage

STAGE_NAME = "covisibility"


@dataclasses.dataclass(frozen=True)
class CovisibilityTask:
    """The stage's per-scene function (a picklable object, so it runs in process pools and SLURM jobs)."""

    config: str = AUTO
    depth_modality: str | None = None
    backend: Backend = "numpy"
    device: str | None = None
    frustum_check: bool = True

    def __call__(self, scene_dir: Path) -> SceneResult | None:
        result = compute_scene_covisibility(
            scene_dir,
            self.config,
            depth_modality=self.depth_modality,
            backend=self.backend,
            device=self.device,
            frustum_check=self.frustum_check,
        )
        rel = result.path.relative_to(Path(scene_dir)).as_posix()
        message = (
            f"{rel} ({result.config.name}, {result.depth_modality} at {result.working_size[1]}x"
            f"{result.working_size[0]}, {result.pairs_computed}/{result.pairs_total} pairs computed)"
        )
        return SceneResult(message=message)


def covisibility_stage(
    config: str = AUTO,
    *,
    depth_modality: str | None = None,
    backend: Backend = "numpy",
    device: str | None = None,
    frustum_check: bool = True,
) -> Stage:
    """The stage for `wai.stages.run_stage`. Named predicted-depth configs require their stage (moge,
    mvsanywhere) to have finished; ``auto`` and the GT configs require nothing (a scene without the depth
    modality fails with an error naming it)."""
    requires = () if config == AUTO else resolve_config(config).requires
    task = CovisibilityTask(config, depth_modality, backend, device, frustum_check)
    return Stage(STAGE_NAME, task, requires=requires)
