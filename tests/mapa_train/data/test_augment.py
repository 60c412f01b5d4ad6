"""Colour augmentation without torchvision: normalisation, reproducible jitter, grayscale and blur."""

from __future__ import annotations

import numpy as np
import pytest

from mapa_train.data.augment import AUGMENT_PRESETS, ColorAugment, augment_and_normalize, get_augment
from mapa_train.errors import MapaUnknownNameError


def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)


def test_imgnorm_is_imagenet_normalisation() -> None:
    img = image()
    out = augment_and_normalize(img, AUGMENT_PRESETS["imgnorm"], "dinov2", np.random.default_rng(0))
    expected = (img / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    assert out.shape == (3, 20, 30) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected.transpose(2, 0, 1), atol=1e-5)
    ident = augment_and_normalize(img, AUGMENT_PRESETS["imgnorm"], "identity", np.random.default_rng(0))
    np.testing.assert_allclose(ident, img.transpose(2, 0, 1) / 255.0, atol=1e-6)


def test_jitter_is_reproducible_and_changes_colours() -> None:
    aug = get_augment("colorjitter")
    a = augment_and_normalize(image(), aug, "identity", np.random.default_rng(4))
    b = augment_and_normalize(image(), aug, "identity", np.random.default_rng(4))
    assert a.tobytes() == b.tobytes()
    assert np.abs(a - image().transpose(2, 0, 1) / 255.0).mean() > 0.01
    assert a.min() >= 0 and a.max() <= 1


def test_hue_shift_of_a_full_turn_is_identity_and_half_turn_is_not() -> None:
    img = image()
    half = ColorAugment(jitter_p=1.0, hue=0.5)
    out = augment_and_normalize(img, half, "identity", np.random.default_rng(1))
    assert np.abs(out - img.transpose(2, 0, 1) / 255.0).mean() > 0.01
    # Grey pixels have no hue: a hue shift leaves them alone.
    grey = np.full((4, 4, 3), 128, np.uint8)
    np.testing.assert_allclose(
        augment_and_normalize(grey, half, "identity", np.random.default_rng(1)), 128 / 255, atol=1e-5
    )


def test_grayscale_and_blur() -> None:
    grey = augment_and_normalize(image(), ColorAugment(grayscale_p=1.0), "identity", np.random.default_rng(0))
    np.testing.assert_allclose(grey[0], grey[1])
    np.testing.assert_allclose(grey[1], grey[2])
    blurred = augment_and_normalize(image(), ColorAugment(blur_p=1.0), "identity", np.random.default_rng(0))
    assert blurred.std() < (image() / 255.0).std()
    with pytest.raises(MapaUnknownNameError, match="known"):
        get_augment("flip")
