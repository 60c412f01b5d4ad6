"""Deep pose rule: the rotation block of each cam2world pose is a proper rotation and the last row is (0, 0, 0, 1).

The tolerance is loose enough for real captures: the 7-Scenes RGB-D poses in the shared test data are orthonormal
only to about 4e-4 (max |R R^T - I|), and they are good poses.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from wai.camera.conventions import DEFAULT_ROTATION_ATOL, orthonormality_error
from wai.validate.context import SceneContext
from wai.validate.problem import Problem
from wai.validate.schema import pose_matrix

#: Largest accepted max |R R^T - I| and |det(R) - 1|.
ROTATION_ATOL: float = DEFAULT_ROTATION_ATOL


def check_rotations(ctx: SceneContext, atol: float = ROTATION_ATOL) -> Iterator[Problem]:
    """Rotations orthonormal with det +1 within `atol`; bottom row (0, 0, 0, 1)."""
    for frame in ctx.frames:
        rows, _ = pose_matrix(frame.raw.get("transform_matrix"))
        if rows is None:
            continue  # missing or malformed: the transforms rule reports it
        pose = np.asarray(rows, dtype=np.float64)
        rotation = pose[:3, :3]
        err = float(orthonormality_error(rotation))
        det = float(np.linalg.det(rotation))
        if err > atol or abs(det - 1.0) > atol:
            kind = "a reflection (det < 0)" if det < 0 else "not a rotation"
            yield ctx.issue(
                f"rotation part is {kind}: max |R R^T - I| = {err:.3g}, det(R) = {det:.6g} "
                f"(expected orthonormal with det +1 within {atol:g})",
                frame=frame.name,
                field="transform_matrix",
            )
        bottom = pose[3]
        if np.abs(bottom - np.array([0.0, 0.0, 0.0, 1.0])).max() > atol:
            yield ctx.issue(
                f"last row is {bottom.tolist()}, expected [0, 0, 0, 1]",
                frame=frame.name,
                field="transform_matrix",
            )
