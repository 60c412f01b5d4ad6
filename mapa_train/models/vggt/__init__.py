"""VGGT: DINOv2 patch tokens, 24 frame/global alternating-attention iterations, camera head and DPT heads."""
