"""Deep pose rule: the rotation block of each cam2world pose is a proper rotation and the last row is (0, 0, 0, 1).

The tolerance is loose enough for real captures: the 7-Scenes RGB-D poses in the shared test data are orthonormal
only to about 4e-4 (max |R R^T - I|), and they are good poses.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from wai.camera.conventions import DEFAULT_ROTATION_ATOL, pose_faults
from wai.validate.context import SceneContext
from wai.validate.problem import Problem
from wai.validate.schema import pose_matrix

#: Largest accepted max |R R^T - I| and |det(R) - 1|.
ROTATION_ATOL: float = DEFAULT_ROTATION_ATOL


def check_rotations(ctx: SceneContext, atol: float = ROTATION_ATOL) -> Iterator[Problem]:
    """Rotations orthonormal with det +1 within `atol`; bottom row (0, 0, 0, 1) (`conventions.pose_faults`)."""
    for frame in ctx.frames:
        rows, _ = pose_matrix(frame.raw.get("transform_matrix"))
        if rows is None:
            continue  # missing or malformed: the transforms rule reports it
        for message in pose_faults(np.asarray(rows, dtype=np.float64), atol):
            yield ctx.issue(message, frame=frame.name, field="transform_matrix")
