"""MoGe-2: single-view metric geometry (affine-invariant points, mask, metric scale) from DINOv2 features."""
