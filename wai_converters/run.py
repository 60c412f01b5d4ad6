"""`run_converter`: check a converter's options and output root, then convert its scenes through `wai.stages`.

Everything that can be known to fail is refused before the first scene starts, with one error naming the option
or the path; `wai convert NAME` is a thin wrapper over this function.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from wai.errors import WaiError
from wai.stages import Stage, StageReport, run_stage
from wai.stages.root import prepare_output_root
from wai_converters.base import Converter, ConverterConfig
from wai_converters.registry import get_converter

STAGE_NAME = "conversion"


def run_converter(
    converter: str | type[Converter],
    config: ConverterConfig,
    dst: str | os.PathLike,
    *,
    scenes: Sequence[str] | None = None,
    **run_kwargs: Any,
) -> StageReport:
    """Convert the source scenes (all, or those named in `scenes`) into `dst`; `run_kwargs` go to
    `wai.stages.run_stage` (workers, shard, ...).

    Raises `WaiError` before any scene starts for a bad option (`Converter.check_config`) or an unusable `dst`.
    """
    converter_class = get_converter(converter) if isinstance(converter, str) else converter
    instance = converter_class(config)
    instance.check_config()
    prepare_output_root(dst)
    stage = Stage(name=STAGE_NAME, process=instance, reset=instance.reset)
    return run_stage(stage, dst, scenes=_chosen(instance.source_scenes(), scenes), **run_kwargs)


def _chosen(available: list[str], scenes: Sequence[str] | None) -> list[str]:
    """The source scenes named in `scenes` (all when None); a name the source does not have is an error."""
    if scenes is None:
        return available
    unknown = [s for s in scenes if s not in available]
    if unknown:
        raise WaiError(
            f"--scenes: unknown {'scene' if len(unknown) == 1 else 'scenes'} {', '.join(unknown)}; "
            f"the source has: {', '.join(available)}"
        )
    return list(scenes)
