"""wai.synthetic: a small, seeded, pure-numpy ray caster that renders scenes with exact depth and exact poses.

It makes the toolkit's demo data (`wai convert synthetic`) and the raw fixtures of converter tests:

    from wai.synthetic import make_scene, pinhole_intrinsics, render
    scene = make_scene(seed=3, kind="room")
    K = pinhole_intrinsics(160, 120, fov_x_deg=60)
    views = [render(scene, pose, K=K, width=160, height=120) for pose in scene.default_poses(12)]
    views[0].image, views[0].depth, views[0].valid, views[0].object_id

Conventions: world up is -Y and the ground is y = 0; poses are 4x4 camera-to-world in OpenCV axes (x right,
y down, z forward); integer pixel coordinates are pixel centres; depth is z-depth in metres, 0 where nothing is hit.
"""

from wai.synthetic.errors import SyntheticSceneError
from wai.synthetic.layouts import SCENE_KINDS, make_scene, yaw_rotation
from wai.synthetic.poses import WORLD_UP, look_at, orbit_poses, trajectory_poses, yaw_pitch_direction
from wai.synthetic.primitives import Box, Plane, Primitive, Sphere
from wai.synthetic.render import RenderedView, pinhole_intrinsics, render
from wai.synthetic.scene import OrbitPath, SceneKind, SyntheticScene, WalkPath
from wai.synthetic.texture import Texture, random_texture, value_noise

__all__ = [
    "SCENE_KINDS",
    "WORLD_UP",
    "Box",
    "OrbitPath",
    "Plane",
    "Primitive",
    "RenderedView",
    "SceneKind",
    "Sphere",
    "SyntheticScene",
    "SyntheticSceneError",
    "Texture",
    "WalkPath",
    "look_at",
    "make_scene",
    "orbit_poses",
    "pinhole_intrinsics",
    "random_texture",
    "render",
    "trajectory_poses",
    "value_noise",
    "yaw_pitch_direction",
    "yaw_rotation",
]
