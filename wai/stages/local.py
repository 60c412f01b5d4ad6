"""Running scenes on this machine: inline, or in a spawn process pool.

The runner uses this for ``executor="local"``, and every submitit job uses it for its own chunk of scenes, so it
sits below both (`runner` and `slurm` import it; it imports neither).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from wai.allocator import keep_freed_memory
from wai.stages.report import SceneOutcome, first_line
from wai.stages.scene_task import SceneSettings, run_scene
from wai.stages.stage import Stage
from wai.stages.state import StageState


def iter_local(
    stage: Stage, root: Path, scenes: Sequence[str], settings: SceneSettings, workers: int
) -> Iterator[SceneOutcome]:
    """Run the scenes in this process (workers=1) or in a spawn process pool, yielding outcomes as they complete.

    Either way the processes that run scenes keep freed memory for the next frame (`keep_freed_memory`).
    """
    if workers <= 1 or len(scenes) <= 1:
        if scenes:
            keep_freed_memory()
        for scene in scenes:
            yield run_scene(stage, root, scene, settings)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=min(workers, len(scenes)), mp_context=context, initializer=keep_freed_memory
    ) as pool:
        futures = {pool.submit(run_scene, stage, root, scene, settings): scene for scene in scenes}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as exc:  # the worker process died (e.g. killed by the OOM killer)
                    reason = f"worker process died: {first_line(str(exc)) or type(exc).__name__}"
                    yield SceneOutcome(futures[future], StageState.FAILED.value, reason)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
