"""Modalities rule: `frame_modalities` and `scene_modalities` are trees of well-formed leaves with known formats.

A leaf is ``{"format": f}`` plus exactly one of ``frame_key`` (frame modalities) or ``scene_key`` / ``path`` (scene
modalities). The reference takes whichever non-format key comes first, and keeps entries it cannot load (DL3DV's
``colmap`` leaf has no format at all): both are reported here.
"""

from __future__ import annotations

from collections.abc import Iterator

from wai.io import FORMATS
from wai.validate.context import SceneContext
from wai.validate.problem import Problem


def check_modalities(ctx: SceneContext) -> Iterator[Problem]:
    """Every modality leaf is well-formed and names a format `wai.io` can read."""
    if ctx.meta is None:
        return
    known = sorted(FORMATS)
    for tree_key, faults, leaves in (
        ("frame_modalities", ctx.frame_tree_faults, ctx.frame_leaves),
        ("scene_modalities", ctx.scene_tree_faults, ctx.scene_leaves),
    ):
        for fault in faults:
            yield ctx.issue(f"modality '{fault.name}' {fault.message}", field=f"{tree_key}.{fault.name}")
        for leaf in leaves:
            if leaf.format is None:
                yield ctx.issue(
                    f"modality '{leaf.name}' has no 'format', so no reader can load it",
                    field=f"{tree_key}.{leaf.name}",
                )
            elif leaf.format not in FORMATS:
                yield ctx.issue(
                    f"modality '{leaf.name}' has unknown format {leaf.format!r} (known: {', '.join(known)})",
                    field=f"{tree_key}.{leaf.name}",
                )
