"""Colour augmentation and image normalisation in numpy and cv2 (training spec 1.6), without torchvision.

The operations follow torchvision's definitions on PIL images, which the reference augments: brightness scales,
contrast blends with the rounded mean grey level, saturation blends with the per-pixel grey, hue rotates the 8-bit
HSV hue; all on 8-bit pixels, the four in a random order, as torchvision's ColorJitter does. Random draws come from the numpy Generator passed in (the sample's own),
so a seeded sample is reproducible; the reference draws them from torch's global RNG.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from mapa_train.errors import MapaUnknownNameError


@dataclasses.dataclass(frozen=True)
class ColorAugment:
    """Photometric augmentation of one view; every probability 0 and every range 0 is the identity."""

    jitter_p: float = 0.0
    """Probability of applying the colour jitter."""
    brightness: float = 0.0
    """Brightness factor drawn from [max(0, 1 - b), 1 + b]."""
    contrast: float = 0.0
    saturation: float = 0.0
    hue: float = 0.0
    """Hue shift drawn from [-hue, hue], in turns (at most 0.5)."""
    grayscale_p: float = 0.0
    blur_p: float = 0.0
    blur_kernel: int = 5
    blur_sigma: tuple[float, float] = (0.1, 1.0)

    @property
    def is_identity(self) -> bool:
        jitter = self.jitter_p > 0 and (self.brightness or self.contrast or self.saturation or self.hue)
        return not (jitter or self.grayscale_p > 0 or self.blur_p > 0)


#: The reference's `transform` names as explicit settings.
AUGMENT_PRESETS: dict[str, ColorAugment] = {
    "imgnorm": ColorAugment(),
    "colorjitter": ColorAugment(jitter_p=1.0, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1),
    "colorjitter+grayscale+gaublur": ColorAugment(
        jitter_p=0.75, brightness=0.3, contrast=0.4, saturation=0.2, hue=0.1, grayscale_p=0.05, blur_p=0.05
    ),
}

#: Image normalisations, (mean, std) per RGB channel; `dinov2` is ImageNet's, `identity` leaves [0, 1].
NORMALIZATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "identity": ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    "dinov2": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


def get_augment(name: str) -> ColorAugment:
    try:
        return AUGMENT_PRESETS[name]
    except KeyError:
        raise MapaUnknownNameError(
            f"unknown augmentation {name!r}; known: {', '.join(AUGMENT_PRESETS)}"
        ) from None


def check_normalization(name: str) -> None:
    if name not in NORMALIZATIONS:
        raise MapaUnknownNameError(f"unknown data_norm_type {name!r}; known: {', '.join(NORMALIZATIONS)}")


def _grey(img: np.ndarray) -> np.ndarray:
    """(H, W) uint8 luma, as PIL's ``convert("L")`` (0.299, 0.587, 0.114)."""
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _adjust_hue(img: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the 8-bit HSV hue by ``int(shift * 255)`` steps, wrapping round, as torchvision does on PIL images."""
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV_FULL)
    lut = ((np.arange(256) + int(shift * 255)) % 256).astype(np.uint8)
    hsv[..., 0] = cv2.LUT(hsv[..., 0], lut)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL)


def _jitter(img: np.ndarray, aug: ColorAugment, rng: np.random.Generator) -> np.ndarray:
    for op in rng.permutation(4):
        if op == 0 and aug.brightness:
            factor = rng.uniform(max(0.0, 1 - aug.brightness), 1 + aug.brightness)
            img = cv2.convertScaleAbs(img, alpha=float(factor))
        elif op == 1 and aug.contrast:
            factor = float(rng.uniform(max(0.0, 1 - aug.contrast), 1 + aug.contrast))
            mean = int(_grey(img).mean() + 0.5)
            img = cv2.addWeighted(img, factor, img, 0.0, (1 - factor) * mean)
        elif op == 2 and aug.saturation:
            factor = float(rng.uniform(max(0.0, 1 - aug.saturation), 1 + aug.saturation))
            grey = cv2.cvtColor(_grey(img), cv2.COLOR_GRAY2RGB)
            img = cv2.addWeighted(img, factor, grey, 1 - factor, 0.0)
        elif op == 3 and aug.hue:
            img = _adjust_hue(img, float(rng.uniform(-aug.hue, aug.hue)))
    return img


def _normalization_luts(norm: str) -> np.ndarray:
    mean, std = NORMALIZATIONS[norm]
    levels = np.arange(256, dtype=np.float64) / 255.0
    return np.stack([(levels - m) / s for m, s in zip(mean, std, strict=True)]).astype(np.float32)


def augment_and_normalize(
    image: np.ndarray, aug: ColorAugment, norm: str, rng: np.random.Generator
) -> np.ndarray:
    """(3, H, W) float32 from an (H, W, 3) uint8 RGB image: augmented, then normalised by `norm`.

    The augmentation works on 8-bit pixels, as the reference's (torchvision on PIL images), so every step rounds
    and saturates to 0..255. Draws from `rng` only for the steps `aug` enables, in a fixed order (jitter,
    grayscale, blur).
    """
    img = np.ascontiguousarray(image)
    if aug.jitter_p > 0 and rng.random() < aug.jitter_p:
        img = _jitter(img, aug, rng)
    if aug.grayscale_p > 0 and rng.random() < aug.grayscale_p:
        img = cv2.cvtColor(_grey(img), cv2.COLOR_GRAY2RGB)
    if aug.blur_p > 0 and rng.random() < aug.blur_p:
        sigma = float(rng.uniform(*aug.blur_sigma))
        k = aug.blur_kernel
        img = cv2.GaussianBlur(img, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)
    luts = _NORM_LUTS.get(norm)
    if luts is None:
        luts = _NORM_LUTS[norm] = _normalization_luts(norm)
    out = np.empty((3, *img.shape[:2]), np.float32)
    # cv2.split gives contiguous planes and cv2.LUT maps them through the float table: the same values as
    # ``np.take(lut, img[..., c])`` at under half its cost on strided channels.
    for c, plane in enumerate(cv2.split(img)):
        target = out[c]
        written = cv2.LUT(plane, luts[c], dst=target)
        if written is not target:  # cv2 allocated instead of writing in place
            target[...] = written
    return out


_NORM_LUTS: dict[str, np.ndarray] = {}
