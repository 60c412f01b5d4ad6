"""Input side shared by the external-model wrappers (VGGT, π³, MoGe-2): the view list they take, stacking it into
one image tensor with checks, and the ImageNet statistics they normalise `[0, 1]` images with internally."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from mapa_train.errors import MapaInputError

View = dict[str, Any]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def stack_views(views: Sequence[View], model: str, patch: int) -> torch.Tensor:
    """The views' `img (B, 3, H, W)` stacked to `(B, V, 3, H, W)`, after checking keys, shapes and the patch size."""
    if not views:
        raise MapaInputError(f"{model}.forward needs at least one view")
    shape = None
    for i, view in enumerate(views):
        if "img" not in view:
            raise MapaInputError(f"{model}: view {i} has no 'img' (B, 3, H, W) in [0, 1]")
        if shape is None:
            shape = tuple(view["img"].shape)
        elif tuple(view["img"].shape) != shape:
            raise MapaInputError(
                f"{model}: view {i} image shape {tuple(view['img'].shape)} differs from {shape}"
            )
    if len(shape) != 4 or shape[1] != 3:
        raise MapaInputError(f"{model}: 'img' must be (B, 3, H, W), got {shape}")
    if shape[-1] % patch or shape[-2] % patch:
        raise MapaInputError(
            f"{model}: image size {shape[-2]}x{shape[-1]} is not a multiple of the patch {patch}"
        )
    return torch.stack([v["img"] for v in views], dim=1)
