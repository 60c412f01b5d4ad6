"""Stages that run on converted scenes before training: `undistort` (distorted cameras to PINHOLE) and `render`
(depth from a scene mesh). Each is a `wai.stages.Stage` with a typed config; the `wai` commands wrap them."""
