"""Iterative inversion of a lens distortion: distorted base coordinates -> undistorted base coordinates.

No model here has a closed-form inverse that covers all its coefficients, so every model goes through one Newton
solver on the 2D distortion map (Jacobian by central differences, as COLMAP does). The residual is evaluated with the
exact forward model, so the result satisfies ``distort(x) == xd`` to ~1e-12 in base coordinates (~1e-9 px) whatever
the accuracy of the Jacobian. Points where the solver does not converge, or converges past the model's fold radius
(where the inverse is no longer unique), come back as NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from wai.camera.models import CameraModel, spec_of

_MAX_ITERATIONS = 100
_TOLERANCE = 1e-12
_ACCEPT = 1e-9


def undistort_base(
    model: CameraModel,
    params: Mapping[str, float],
    xd: np.ndarray,
    yd: np.ndarray,
    fold_radius: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``distort(x, y) == (xd, yd)`` for (x, y); arrays of any one shape, float64. NaN where unsolvable."""
    spec = spec_of(model)
    xd = np.asarray(xd, dtype=np.float64)
    yd = np.asarray(yd, dtype=np.float64)
    x = xd.copy()
    y = yd.copy()
    if spec.undistorted or spec.distortion is None:
        return x, y
    distort = spec.distortion
    finite = np.isfinite(x) & np.isfinite(y)
    x[~finite] = 0.0
    y[~finite] = 0.0
    limit = 0.999 * fold_radius if np.isfinite(fold_radius) else np.inf
    active = np.flatnonzero(finite.ravel())
    xf, yf = x.ravel(), y.ravel()
    xdf, ydf = xd.ravel(), yd.ravel()
    residual = np.full(xf.shape, np.inf)
    for _ in range(_MAX_ITERATIONS):
        if active.size == 0:
            break
        xa, ya = xf[active], yf[active]
        fx, fy = distort(params, xa, ya)
        rx, ry = fx - xdf[active], fy - ydf[active]
        err = np.maximum(np.abs(rx), np.abs(ry))
        residual[active] = err
        keep = err > _TOLERANCE
        active, xa, ya, rx, ry = active[keep], xa[keep], ya[keep], rx[keep], ry[keep]
        if active.size == 0:
            break
        h = 1e-7 * np.maximum(1.0, np.hypot(xa, ya))
        xp, yp = distort(params, xa + h, ya)
        xm, ym = distort(params, xa - h, ya)
        j11, j21 = (xp - xm) / (2 * h), (yp - ym) / (2 * h)
        xp, yp = distort(params, xa, ya + h)
        xm, ym = distort(params, xa, ya - h)
        j12, j22 = (xp - xm) / (2 * h), (yp - ym) / (2 * h)
        det = j11 * j22 - j12 * j21
        with np.errstate(divide="ignore", invalid="ignore"):
            dx = (j22 * rx - j12 * ry) / det
            dy = (j11 * ry - j21 * rx) / det
        nx, ny = xa - dx, ya - dy
        radius = np.hypot(nx, ny)
        over = radius > limit
        if np.any(over):
            # Stay inside the region where the model is invertible: go half way to its edge instead.
            old = np.hypot(xa[over], ya[over])
            target = 0.5 * (old + limit)
            nx[over] *= target / radius[over]
            ny[over] *= target / radius[over]
        bad = ~(np.isfinite(nx) & np.isfinite(ny))
        residual[active[bad]] = np.inf
        xf[active], yf[active] = nx, ny
        active = active[~bad]
    if active.size:
        fx, fy = distort(params, xf[active], yf[active])
        residual[active] = np.maximum(np.abs(fx - xdf[active]), np.abs(fy - ydf[active]))
    failed = (residual > _ACCEPT) | (np.hypot(xf, yf) > fold_radius) | ~finite.ravel()
    xf[failed] = np.nan
    yf[failed] = np.nan
    return xf.reshape(xd.shape), yf.reshape(yd.shape)
