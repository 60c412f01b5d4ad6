"""MoGe-2 inference with a known horizontal field of view: metric z-depth, validity mask and normals.

This is what MoGe's own `infer(image, fov_x=...)` does: the focal length follows from the field of view, only the
z-shift of the affine-invariant point map is solved for (a detached 1-D least-squares fit on a 64×64 nearest
downsample), and the shifted depth is multiplied by the predicted metric scale. Pixels outside the predicted mask,
or that end up behind the camera, are invalid: depth 0 and normal (0, 0, 0) (MoGe writes inf there; WAI's
convention is 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mapa_train.models.moge2.recover import focal_from_fov_x, recover_focal_shift

MASK_THRESHOLD = 0.5


@dataclass(frozen=True)
class MoGe2Prediction:
    """One batch of predictions at the resolution of the model's input.

    depth:  (B, H, W) float32 metric z-depth; 0 where invalid.
    mask:   (B, H, W) bool, true where the depth is valid.
    normal: (B, H, W, 3) float32 unit normals in the camera frame (OpenCV axes), zero where invalid; None when the
            model has no normal head.
    """

    depth: torch.Tensor
    mask: torch.Tensor
    normal: torch.Tensor | None


@torch.no_grad()
def infer_moge2(
    model: nn.Module, images: torch.Tensor, fov_x: torch.Tensor, num_tokens: int
) -> MoGe2Prediction:
    """Run MoGe-2 on `images (B, 3, H, W)` in [0, 1] whose horizontal fields of view are `fov_x (B,)` degrees.

    `model` is a `MoGe2` (anything with its `predict(image, num_tokens)`); `num_tokens` is the ViT token budget
    (MoGe's resolution level 9 is the top of the model's `num_tokens_range`).
    """
    _, _, height, width = images.shape
    pred = model.predict(images, num_tokens)
    points = pred["points"].float()
    mask = pred["mask"] > MASK_THRESHOLD
    focal = focal_from_fov_x(fov_x.to(points.device, torch.float32), width / height)
    _, shift = recover_focal_shift(points, mask, focal=focal)
    depth = (points[..., 2] + shift[:, None, None]) * pred["metric_scale"].float()[:, None, None]
    mask = mask & torch.isfinite(depth) & (depth > 0)
    depth = torch.where(mask, depth, torch.zeros_like(depth))
    normal = pred.get("normal")
    if normal is not None:
        normal = torch.where(mask[..., None], normal.float(), torch.zeros_like(normal, dtype=torch.float32))
    return MoGe2Prediction(depth=depth, mask=mask, normal=normal)


def model_input_size(height: int, width: int, long_side: int | None) -> tuple[int, int]:
    """The (height, width) images are run at: unchanged when `long_side` is None/0 or not exceeded, else the long
    side scaled to `long_side` and the other truncated like the reference's `ops.resize` (int(short·long/long))."""
    if not long_side or max(height, width) <= long_side:
        return height, width
    if width >= height:
        return max(1, int(height * long_side / width)), long_side
    return long_side, max(1, int(width * long_side / height))


def resize_images(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """images `(B, 3, H, W)` -> `(B, 3, *size)`, bilinear with antialiasing (a no-op at the same size)."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(images, size, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def resize_prediction(pred: MoGe2Prediction, size: tuple[int, int]) -> MoGe2Prediction:
    """Bring a prediction to `size` (height, width): depth and mask nearest (no blending across depth edges),
    normals bilinear then renormalised, and zeroed wherever the resized mask is false."""
    if tuple(pred.depth.shape[-2:]) == tuple(size):
        return pred
    depth = F.interpolate(pred.depth[:, None], size, mode="nearest")[:, 0]
    mask = F.interpolate(pred.mask[:, None].float(), size, mode="nearest")[:, 0] > 0.5
    normal = None
    if pred.normal is not None:
        resized = F.interpolate(pred.normal.permute(0, 3, 1, 2), size, mode="bilinear", align_corners=False)
        resized = resized.permute(0, 2, 3, 1)
        length = resized.norm(dim=-1, keepdim=True)
        unit = resized / length.clamp_min(1e-12)
        keep = mask[..., None] & (length > 1e-6)
        normal = torch.where(keep, unit, torch.zeros_like(unit))
    return MoGe2Prediction(depth=depth, mask=mask, normal=normal)
