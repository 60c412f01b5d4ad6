"""Models for MapAnything-style training (MapAnything, VGGT, π³, MoGe-2) and prediction stages that run them over
WAI datasets. The training loop itself is not part of the package yet."""
