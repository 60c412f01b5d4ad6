"""From the dataset config to the typed mixture the data side builds (named or explicit, with overrides)."""

from __future__ import annotations

import pytest

from mapa_train.config.compose import compose
from mapa_train.errors import MapaConfigError
from mapa_train.train.parts import build_mixture, data_root


def test_named_mixture_with_stage_overrides() -> None:
    mix = build_mixture(compose("24v"))
    assert mix.name == "megatrain_13d_518_many_ar_36ipg_64g"
    assert mix.num_views == 24 and mix.variable_num_views and mix.ipg == 36
    assert mix.train_size == 3_435_000
    assert mix.iterations_per_epoch(64) == 2_981  # the reference's design invariant
    assert len(mix.val) == 13


def test_entries_mixture_and_overrides() -> None:
    mix = build_mixture(compose("tiny_4v", ["dataset.num_views=3", "train_params.max_num_of_imgs_per_gpu=6"]))
    assert [(e.dataset, e.size) for e in mix.train] == [("synthetic", 256)]
    assert [(e.dataset, e.resolution) for e in mix.val] == [("synthetic", (56, 42))]
    assert mix.resolution_set == ((56, 42), (42, 56))
    assert mix.num_views == 3 and mix.ipg == 6


def test_bad_dataset_configs() -> None:
    with pytest.raises(MapaConfigError, match="either `mixture` or `entries`"):
        build_mixture(compose("tiny_4v", ["dataset.mixture=bmvs_518_many_ar_48ipg_8g"]))
    with pytest.raises(MapaConfigError, match="unknown keys"):
        build_mixture(compose("tiny_4v", ["dataset.entries=[{dataset: synthetic, size: 4, folder: x}]"]))
    with pytest.raises(MapaConfigError, match="MAPA_DATA_ROOT"):
        data_root(compose("tiny_4v", ["machine.root_data_dir=null"]))
