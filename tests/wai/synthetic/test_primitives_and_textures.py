"""Textures are deterministic functions of surface coordinates; primitives validate their parameters."""

from __future__ import annotations

import numpy as np
import pytest

from wai.synthetic import Box, Plane, Sphere, SyntheticSceneError, Texture, random_texture, value_noise


def test_value_noise_is_deterministic_bounded_and_seeded() -> None:
    uv = np.random.default_rng(0).uniform(-50, 50, size=(2000, 2))
    a = value_noise(uv, 0.3, seed=5)
    np.testing.assert_array_equal(a, value_noise(uv, 0.3, seed=5))
    assert a.min() >= 0.0 and a.max() <= 1.0 and a.std() > 0.05
    assert not np.allclose(a, value_noise(uv, 0.3, seed=6))
    # Smooth: a millimetre step changes the value only a little.
    assert np.abs(value_noise(uv + 1e-3, 0.3, seed=5) - a).max() < 0.05


@pytest.mark.parametrize("kind", ["checker", "stripes", "noise", "gradient"])
def test_every_texture_kind_gives_varied_colours_in_range(kind: str) -> None:
    texture = Texture(
        kind=kind, color_a=(0.9, 0.8, 0.1), color_b=(0.1, 0.2, 0.7), scale=0.2, angle=0.4, seed=2
    )
    uv = np.random.default_rng(1).uniform(-3, 3, size=(500, 2))
    colours = texture.color_at(uv)
    assert colours.shape == (500, 3)
    assert colours.min() >= 0 and colours.max() <= 1
    assert colours.std(axis=0).max() > 0.05
    np.testing.assert_array_equal(colours, texture.color_at(uv.copy()))


def test_checker_alternates_between_its_two_colours() -> None:
    texture = Texture(kind="checker", color_a=(1.0, 1.0, 1.0), color_b=(0.0, 0.0, 0.0), scale=1.0, detail=0.0)
    colours = texture.color_at(np.array([[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [-0.5, 0.5]]))
    np.testing.assert_allclose(colours[:, 0], [1.0, 0.0, 1.0, 0.0])


def test_random_texture_is_reproducible() -> None:
    a = random_texture(np.random.default_rng(3))
    b = random_texture(np.random.default_rng(3))
    assert a == b
    assert random_texture(np.random.default_rng(3), kinds=("noise",)).kind == "noise"


def test_bad_parameters_are_rejected_with_clear_messages() -> None:
    with pytest.raises(SyntheticSceneError, match="texture kind 'plaid' is unknown"):
        Texture(kind="plaid")  # type: ignore[arg-type]
    with pytest.raises(SyntheticSceneError, match="scale must be > 0"):
        Texture(scale=0.0)
    with pytest.raises(SyntheticSceneError, match=r"color_a must be 3 RGB values in \[0, 1\]"):
        Texture(color_a=(2.0, 0.0, 0.0))
    with pytest.raises(SyntheticSceneError, match="orthogonal"):
        Plane(center=np.zeros(3), u_axis=[1, 0, 0], v_axis=[1, 1, 0], half_extent=(1.0, 1.0))
    with pytest.raises(SyntheticSceneError, match="finite positive"):
        Plane(center=np.zeros(3), u_axis=[1, 0, 0], v_axis=[0, 1, 0], half_extent=(np.inf, 1.0))
    with pytest.raises(SyntheticSceneError, match="half_size must be positive"):
        Box(center=np.zeros(3), half_size=np.array([1.0, 0.0, 1.0]))
    with pytest.raises(SyntheticSceneError, match="proper 3x3 rotation"):
        Box(center=np.zeros(3), half_size=np.ones(3), rotation=np.diag([1.0, 1.0, -1.0]))
    with pytest.raises(SyntheticSceneError, match="radius must be"):
        Sphere(center=np.zeros(3), radius=-1.0)
    with pytest.raises(SyntheticSceneError, match="center must be 3 finite numbers"):
        Sphere(center=np.array([0.0, np.nan, 0.0]), radius=1.0)
    with pytest.raises(SyntheticSceneError, match="subdivisions must be an integer >= 2"):
        Sphere(center=np.zeros(3), radius=1.0).mesh(1)


def test_plane_axes_are_normalised() -> None:
    plane = Plane(center=np.zeros(3), u_axis=[2, 0, 0], v_axis=[0, 0, 3], half_extent=(1.0, 1.0))
    np.testing.assert_allclose(plane.u_axis, [1, 0, 0])
    np.testing.assert_allclose(plane.normal, [0, -1, 0])
