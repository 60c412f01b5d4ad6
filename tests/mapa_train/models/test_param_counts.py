"""Full configs built on the meta device match the published parameter and state-dict counts; every registered
variant builds."""

from __future__ import annotations

import pytest

from mapa_train.models.registry import MODELS, build_model, count_parameters, count_registered_parameters


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_variant_builds_on_meta(name: str) -> None:
    entry = MODELS[name]
    count = count_registered_parameters(name)
    assert count > 0
    if entry.published_params is not None:
        assert count == entry.published_params


@pytest.mark.parametrize(
    ("name", "params", "tensors"),
    [("mapanything_v1", 563_335_382, 804), ("mapanything_v1.1", 1_228_491_222, 736)],
)
def test_published_mapanything_counts(name: str, params: int, tensors: int) -> None:
    model = build_model(name, device="meta")
    assert count_parameters(model) == params
    # one key per distinct tensor = the key count of the official model.safetensors
    assert len(model.state_dict()) == tensors


def test_v1_1_component_counts() -> None:
    model = build_model("mapanything_v1.1", device="meta")
    expected = {
        "encoder": 683_089_920,
        "ray_dirs_encoder": 31_820_892,
        "depth_encoder": 29_746_428,
        "info_sharing": 453_389_312,
        "dpt_feature_head": 19_659_712,
        "dpt_regressor_head": 443_398,
        "pose_head": 6_134_023,
        "scale_head": 378_673,
    }
    for name, count in expected.items():
        assert count_parameters(model.get_submodule(name)) == count, name
