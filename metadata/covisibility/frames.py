"""The input of the covisibility computation: every frame's depth at the working size, its camera and its pose.

Resizing follows the reference's covisibility stage exactly: PyTorch's legacy ``nearest`` (output
index i reads input index ``min(floor(i * in / out), in - 1)``, evaluated in float32), and intrinsics scaled per
axis by ``new size / metadata size`` with no half-pixel term (fx, cx by W'/w; fy, cy by H'/h), which is the
geometry that nearest mapping implies.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from wai.camera import Camera, CameraModel
from wai.errors import WaiFormatError
from wai.geometry import valid_depth

TargetSize = int | tuple[int, int] | None


def working_size(height: int, width: int, target: TargetSize) -> tuple[int, int]:
    """(H', W') for a depth map of (height, width): an int is the long side (short side truncated), (h, w) is
    fixed, None keeps the size."""
    if target is None:
        return height, width
    if isinstance(target, int):
        if width >= height:
            return int(height * target / width), target
        return target, int(width * target / height)
    h, w = (int(v) for v in target)
    return h, w


def nearest_indices(size_in: int, size_out: int) -> np.ndarray:
    """Input index read by each output index under PyTorch's legacy nearest mode (float32 arithmetic)."""
    scale = np.float32(size_in) / np.float32(size_out)
    idx = np.floor(np.arange(size_out, dtype=np.float32) * scale).astype(np.int64)
    return np.minimum(idx, size_in - 1)


def resize_depth(depth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-resize an (H, W) depth map to `size` (H', W') and mark invalid pixels (<= 0, NaN, inf) as 0."""
    arr = np.asarray(depth, dtype=np.float32)
    if arr.ndim != 2:
        raise WaiFormatError(f"expected an (H, W) depth map, got shape {arr.shape}")
    rows = nearest_indices(arr.shape[0], size[0])
    cols = nearest_indices(arr.shape[1], size[1])
    out = arr[rows[:, None], cols[None, :]]
    return np.where(valid_depth(out), out, np.float32(0.0)).astype(np.float32)


def scale_camera(camera: Camera, size: tuple[int, int]) -> Camera:
    """The PINHOLE camera of a depth map resized to `size` (H', W'), scaled the reference's way."""
    h, w = size
    sx, sy = w / camera.width, h / camera.height
    p = camera.params
    params = {"fl_x": p["fl_x"] * sx, "fl_y": p["fl_y"] * sy, "cx": p["cx"] * sx, "cy": p["cy"] * sy}
    return Camera(CameraModel.PINHOLE, w, h, params)


@dataclasses.dataclass(frozen=True)
class FrameStack:
    """N frames at one working size.

    depths:    (N, H, W) float32 z-depth, 0 where invalid.
    cameras:   N PINHOLE cameras of that size.
    cam2world: (N, 4, 4) float64 OpenCV camera-to-world poses.
    """

    depths: np.ndarray
    cameras: tuple[Camera, ...]
    cam2world: np.ndarray

    def __post_init__(self) -> None:
        n = self.depths.shape[0]
        if self.depths.ndim != 3 or len(self.cameras) != n or self.cam2world.shape != (n, 4, 4):
            raise WaiFormatError(
                f"FrameStack: {self.depths.shape} depths, {len(self.cameras)} cameras and poses "
                f"{self.cam2world.shape} do not agree"
            )
        for cam in self.cameras:
            if cam.size != self.depths.shape[1:]:
                raise WaiFormatError(
                    f"FrameStack: camera {cam} does not match depth size {self.depths.shape[1:]}"
                )

    def __len__(self) -> int:
        return int(self.depths.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.depths.shape[1]), int(self.depths.shape[2])

    @property
    def intrinsics(self) -> np.ndarray:
        """(N, 4) float64 fx, fy, cx, cy."""
        return np.array([[c.params[k] for k in ("fl_x", "fl_y", "cx", "cy")] for c in self.cameras])

    @classmethod
    def from_arrays(
        cls,
        depths: list[np.ndarray] | np.ndarray,
        cameras: list[Camera],
        cam2world: np.ndarray,
        target_size: TargetSize = None,
    ) -> FrameStack:
        """Resize each depth map (and its camera) to the working size; every frame must end up the same size."""
        n = len(cameras)
        stack: np.ndarray | None = None
        scaled = []
        size = None
        for k, (depth, camera) in enumerate(zip(depths, cameras, strict=True)):
            shape = np.shape(depth)
            if len(shape) != 2:
                raise WaiFormatError(f"frame {k}: expected an (H, W) depth map, got shape {shape}")
            this = working_size(shape[0], shape[1], target_size)
            if size is None:
                size = this
                stack = np.empty((n, *size), np.float32)
            elif this != size:
                raise WaiFormatError(
                    f"frame {k}: working size {this} differs from frame 0's {size}; depth sizes or orientations "
                    "vary, use a fixed (h, w) target size (e.g. the gt_depth_224x224 config)"
                )
            stack[k] = resize_depth(depth, this)
            scaled.append(scale_camera(camera, this))
        if stack is None:
            raise WaiFormatError("no frames")
        return cls(stack, tuple(scaled), np.asarray(cam2world, dtype=np.float64))
