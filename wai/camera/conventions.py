"""Pose conventions: OpenCV <-> OpenGL camera axes, pose inversion, rotation checks and quaternions.

WAI stores camera-to-world poses with OpenCV camera axes (x right, y down, z forward). OpenGL / Blender / nerfstudio
cameras look along -z with y up; PyTorch3D cameras have x left, y up, z forward. Changing the camera axes is a
right-multiplication of the cam2world pose by a fixed matrix; the matrices are named in `CONVENTION_TRANSFORMS`, and
the name and matrix are what a converter records in ``_applied_transforms``.

Every function takes a single matrix or a batch: poses (4, 4) or (N, 4, 4) (also (..., 3, 4)), rotations (3, 3)
or (N, 3, 3), quaternions (4,) or (N, 4), and returns the same leading shape. Results are float64.
"""

from __future__ import annotations

import numpy as np

from wai.errors import WaiCameraError

#: Largest max |R R^T - I| that `is_rotation` accepts by default. Real captures are not exactly orthonormal: the
#: 7-Scenes RGB-D poses reach 3.8e-4 (det 0.99947), instant-ngp / COLMAP exports about 1e-6. 1e-3 accepts those
#: and still rejects a scaled or sheared matrix (a 0.1% scale error gives 2e-3).
DEFAULT_ROTATION_ATOL = 1e-3

_GL_CV = np.diag([1.0, -1.0, -1.0, 1.0])
_P3D_CV = np.diag([-1.0, -1.0, 1.0, 1.0])

#: Named camera-axis changes, each right-multiplied onto a cam2world pose (all are their own inverse).
CONVENTION_TRANSFORMS: dict[str, np.ndarray] = {
    "opengl2opencv": _GL_CV,
    "opencv2opengl": _GL_CV,
    "pytorch3d2opencv": _P3D_CV,
    "opencv2pytorch3d": _P3D_CV,
}
for _m in CONVENTION_TRANSFORMS.values():
    _m.setflags(write=False)


def _poses(T: np.ndarray, name: str = "pose") -> np.ndarray:
    arr = np.array(T, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-2:] not in ((4, 4), (3, 4)):
        raise WaiCameraError(f"{name}: expected shape (4, 4), (N, 4, 4) or (..., 3, 4), got {np.shape(T)}")
    return arr


def _rotations(R: np.ndarray) -> np.ndarray:
    arr = np.asarray(R, dtype=np.float64)
    if arr.ndim < 2 or arr.shape[-2:] not in ((3, 3), (4, 4), (3, 4)):
        raise WaiCameraError(f"rotation: expected shape (..., 3, 3) (or a (..., 4, 4) pose), got {arr.shape}")
    return arr[..., :3, :3]


def opencv_to_opengl(c2w: np.ndarray) -> np.ndarray:
    """Flip the camera's y and z axes (rotation times diag(1, -1, -1)); translation unchanged."""
    out = _poses(c2w, "opencv_to_opengl")
    out[..., :3, 1:3] *= -1.0
    return out


def opengl_to_opencv(c2w: np.ndarray) -> np.ndarray:
    """The same operation as `opencv_to_opengl` (it is its own inverse)."""
    return opencv_to_opengl(c2w)


def invert_rigid(T: np.ndarray) -> np.ndarray:
    """Inverse of rigid poses (4, 4) / (N, 4, 4) as (R^T, -R^T t): exact for rotations, no general matrix inverse.

    For a matrix that is only nearly a rotation the result is the inverse of its nearest rigid motion only to the
    same accuracy; use `orthonormalize` first when that matters. (..., 3, 4) input gives (..., 3, 4) output.
    """
    arr = _poses(T, "invert_rigid")
    out = np.zeros_like(arr)
    rt = np.swapaxes(arr[..., :3, :3], -1, -2)
    out[..., :3, :3] = rt
    out[..., :3, 3] = -np.einsum("...ij,...j->...i", rt, arr[..., :3, 3])
    if arr.shape[-2] == 4:
        out[..., 3, 3] = 1.0
    return out


def cam2world_to_world2cam(c2w: np.ndarray) -> np.ndarray:
    """World-to-camera poses from camera-to-world poses (rigid inverse)."""
    return invert_rigid(c2w)


def world2cam_to_cam2world(w2c: np.ndarray) -> np.ndarray:
    """Camera-to-world poses from world-to-camera poses (rigid inverse)."""
    return invert_rigid(w2c)


def orthonormality_error(R: np.ndarray) -> np.ndarray | float:
    """max |R R^T - I| per matrix: a float for one (3, 3) (or pose) input, an (N,) array for a batch."""
    rot = _rotations(R)
    err = np.abs(rot @ np.swapaxes(rot, -1, -2) - np.eye(3)).max(axis=(-1, -2))
    return float(err) if np.ndim(err) == 0 else err


def is_rotation(R: np.ndarray, atol: float = DEFAULT_ROTATION_ATOL) -> np.ndarray | bool:
    """True where R is a proper rotation within `atol`: finite, max |R R^T - I| <= atol and det(R) > 0."""
    rot = _rotations(R)
    finite = np.all(np.isfinite(rot), axis=(-1, -2))
    safe = np.where(finite[..., None, None], rot, 0.0)
    err = np.abs(safe @ np.swapaxes(safe, -1, -2) - np.eye(3)).max(axis=(-1, -2))
    ok = finite & (err <= atol) & (np.linalg.det(safe) > 0)
    return bool(ok) if np.ndim(ok) == 0 else ok


def pose_faults(T: np.ndarray, atol: float = DEFAULT_ROTATION_ATOL) -> list[str]:
    """What is wrong with one cam2world pose, as messages (empty when it is a rigid transform).

    The one set of pose rules, shared by the writers and `wai validate`: a (4, 4) matrix of finite numbers whose
    rotation block is orthonormal with det +1 within `atol` (max |R R^T - I| and |det R - 1|) and whose last row
    is (0, 0, 0, 1) within `atol`.
    """
    pose = np.asarray(T, dtype=np.float64)
    if pose.shape != (4, 4):
        return [f"expected a 4x4 matrix, got shape {pose.shape}"]
    if not np.all(np.isfinite(pose)):
        return ["expected finite numbers, found NaN or infinity"]
    faults = []
    rotation = pose[:3, :3]
    err = float(orthonormality_error(rotation))
    det = float(np.linalg.det(rotation))
    if err > atol or abs(det - 1.0) > atol:
        kind = "a reflection (det < 0)" if det < 0 else "not a rotation"
        faults.append(
            f"rotation part is {kind}: max |R R^T - I| = {err:.3g}, det(R) = {det:.6g} "
            f"(expected orthonormal with det +1 within {atol:g})"
        )
    bottom = pose[3]
    if np.abs(bottom - np.array([0.0, 0.0, 0.0, 1.0])).max() > atol:
        faults.append(f"last row is {bottom.tolist()}, expected [0, 0, 0, 1]")
    return faults


def orthonormalize(R: np.ndarray) -> np.ndarray:
    """The nearest proper rotation (in Frobenius norm) to each (..., 3, 3) matrix, via SVD."""
    rot = _rotations(R)
    u, _, vt = np.linalg.svd(rot)
    d = np.sign(np.linalg.det(u @ vt))
    u = u.copy()
    u[..., :, 2] *= d[..., None]
    return u @ vt


def apply_transform(c2w: np.ndarray, name: str) -> tuple[np.ndarray, tuple[str, np.ndarray]]:
    """Apply the named camera-axis change to cam2world poses; return the new poses and (name, 4x4 matrix).

    The pair is what to record under ``_applied_transforms`` (``{name: matrix.tolist()}``).
    """
    if name not in CONVENTION_TRANSFORMS:
        raise WaiCameraError(
            f"apply_transform: unknown transform {name!r} (known: {', '.join(sorted(CONVENTION_TRANSFORMS))})"
        )
    matrix = CONVENTION_TRANSFORMS[name]
    arr = _poses(c2w, "apply_transform")
    out = arr.copy()
    out[..., :3, :3] = arr[..., :3, :3] @ matrix[:3, :3]
    return out, (name, matrix.copy())


def rotate_cam2world_90(c2w: np.ndarray, k: int = 1) -> np.ndarray:
    """Poses of the cameras of ``np.rot90(image, k)``: the partner of `Camera.rotated_90` for the extrinsics.

    One counter-clockwise image turn maps camera coordinates (x, y, z) to (y, -x, z).
    """
    arr = _poses(c2w, "rotate_cam2world_90")
    turn = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    step = np.linalg.matrix_power(turn, k % 4)
    out = arr.copy()
    out[..., :3, :3] = arr[..., :3, :3] @ step.T
    return out


def quaternion_to_rotation(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) in (w, x, y, z) order (COLMAP's) -> rotation matrices (..., 3, 3).

    The quaternion is normalised first; a zero quaternion is an error.
    """
    arr = np.asarray(q, dtype=np.float64)
    if arr.shape[-1:] != (4,):
        raise WaiCameraError(f"quaternion_to_rotation: expected shape (..., 4) (w, x, y, z), got {arr.shape}")
    norm = np.linalg.norm(arr, axis=-1, keepdims=True)
    if np.any(~np.isfinite(norm)) or np.any(norm < 1e-12):
        raise WaiCameraError("quaternion_to_rotation: zero or non-finite quaternion")
    w, x, y, z = np.moveaxis(arr / norm, -1, 0)
    rot = np.stack(
        [
            1 - 2 * (y * y + z * z),
            2 * (x * y - w * z),
            2 * (x * z + w * y),
            2 * (x * y + w * z),
            1 - 2 * (x * x + z * z),
            2 * (y * z - w * x),
            2 * (x * z - w * y),
            2 * (y * z + w * x),
            1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )
    return rot.reshape(*arr.shape[:-1], 3, 3)


def rotation_to_quaternion(R: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> unit quaternions (..., 4), (w, x, y, z), with w >= 0.

    Uses the largest of the four diagonal combinations for each matrix, which is stable for every rotation.
    """
    rot = _rotations(R)
    m = rot.reshape(-1, 3, 3)
    trace = np.trace(m, axis1=1, axis2=2)
    cand = np.stack([trace, m[:, 0, 0], m[:, 1, 1], m[:, 2, 2]], axis=1)
    pick = np.argmax(cand, axis=1)
    q = np.empty((m.shape[0], 4))
    for case in range(4):
        sel = pick == case
        if not np.any(sel):
            continue
        a = m[sel]
        if case == 0:
            s = 2.0 * np.sqrt(np.maximum(1.0 + trace[sel], 1e-300))
            q[sel] = np.stack(
                [
                    0.25 * s,
                    (a[:, 2, 1] - a[:, 1, 2]) / s,
                    (a[:, 0, 2] - a[:, 2, 0]) / s,
                    (a[:, 1, 0] - a[:, 0, 1]) / s,
                ],
                axis=1,
            )
        else:
            i = case - 1
            j, k = (i + 1) % 3, (i + 2) % 3
            s = 2.0 * np.sqrt(np.maximum(1.0 + a[:, i, i] - a[:, j, j] - a[:, k, k], 1e-300))
            qv = np.empty((a.shape[0], 4))
            qv[:, 0] = (a[:, k, j] - a[:, j, k]) / s
            qv[:, 1 + i] = 0.25 * s
            qv[:, 1 + j] = (a[:, j, i] + a[:, i, j]) / s
            qv[:, 1 + k] = (a[:, k, i] + a[:, i, k]) / s
            q[sel] = qv
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q[q[:, 0] < 0] *= -1.0
    return q.reshape(*rot.shape[:-2], 4)
