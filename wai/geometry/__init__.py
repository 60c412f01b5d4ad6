"""Multi-view geometry on numpy arrays: pixel rays, depth to points, depth kinds, projection and reprojection.

Every function takes a `wai.camera.Camera` (any model) or, where only a pinhole makes sense to the caller, a plain
(3, 3) K. Depth maps are z-depth, invalid where <= 0 or non-finite. Poses are camera-to-world, OpenCV axes.
"""

from wai.geometry.depth import (
    depth_to_points,
    depth_to_world_points,
    raydepth_to_zdepth,
    transform_points,
    valid_depth,
    zdepth_to_raydepth,
)
from wai.geometry.rays import as_camera, pixel_rays
from wai.geometry.reprojection import project_points, reproject_depth

__all__ = [
    "as_camera",
    "depth_to_points",
    "depth_to_world_points",
    "pixel_rays",
    "project_points",
    "raydepth_to_zdepth",
    "reproject_depth",
    "transform_points",
    "valid_depth",
    "zdepth_to_raydepth",
]
