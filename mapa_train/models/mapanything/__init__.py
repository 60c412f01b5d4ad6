"""MapAnything: image encoder + geometric-input encoders + alternating-attention transformer + DPT/pose/scale heads."""
