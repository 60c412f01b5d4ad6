"""Typed mixtures: the reference's table, its iteration invariant, YAML round trips, and building datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import wai
from mapa_train.data.build import train_dataset, train_sampler, validation_datasets
from mapa_train.data.mixtures import MIXTURES, Mixture, MixtureEntry, load_mixture, named_mixture
from mapa_train.data.rows import APACHE_6, TRAINING_13
from mapa_train.errors import MapaConfigError, MapaUnknownNameError
from metadata.scene_lists import scene_list_path, write_scene_list

TOTALS = {
    "megatrain_13d_518_many_ar_36ipg_64g": 3_435_000,
    "megatrain_13d_518_many_ar_48ipg_64g": 4_580_000,
    "megatrain_13d_518_many_ar_24ipg_16g": 572_500,
    "megatrain_13d_518_many_ar_24ipg_8g": 286_250,
    "megatrain_13d_518_many_ar_48ipg_8g_mono": 1_145_000,
    "megatrain_6d_518_many_ar_36ipg_64g": 3_480_000,
    "megatrain_6d_518_many_ar_48ipg_64g": 4_640_000,
    "megatrain_6d_518_many_ar_48ipg_8g": 580_000,
    "bmvs_518_many_ar_48ipg_8g": 140_000,
}


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_table_totals_and_steps_per_epoch(name: str) -> None:
    mixture = named_mixture(name)
    assert mixture.train_size == TOTALS[name]
    expected = 729 if name.startswith("bmvs") else 2981 if "_13d_" in name else 3020
    assert mixture.iterations_per_epoch() == expected


def test_table_entries() -> None:
    m13 = named_mixture("megatrain_13d_518_many_ar_24ipg_8g")
    sizes = {e.dataset: e.size for e in m13.train}
    assert tuple(sizes) == TRAINING_13
    assert sizes["ase"] == 26_250 and sizes["dynamicreplica"] == 20_000 and sizes["spring"] == 1_000
    assert sizes["unrealstereo4k"] == 2_750
    m6 = named_mixture("megatrain_6d_518_many_ar_48ipg_8g")
    assert {e.dataset: e.size for e in m6.train} == {
        "blendedmvs": 140_000,
        "mpsd": 140_000,
        "scannetppv2": 140_000,
        "spring": 5_500,
        "tav2_wb": 140_000,
        "unrealstereo4k": 14_500,
    }
    assert tuple(e.dataset for e in m6.val) == APACHE_6
    val = {e.dataset: e for e in m13.val}
    assert val["spring"].size == 500 and val["ase"].size == 4_000 and val["dl3dv"].resolution == (518, 294)
    assert all(e.split == "val" for e in m13.val)
    assert named_mixture("megatrain_13d_518_many_ar_48ipg_8g_mono").num_views == 1


def test_yaml_round_trip_and_errors(tmp_path: Path) -> None:
    for mixture in MIXTURES.values():
        assert Mixture.from_dict(yaml.safe_load(yaml.safe_dump(mixture.to_dict()))) == mixture
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nnum_views: 3\nresolutions: [[112, 84], [84, 112]]\nipg: 12\nnum_gpus: 1\n"
        "train:\n  - {dataset: synthetic, size: 100}\n  - {dataset: generic, size: 10, root: colmap}\n"
    )
    mine = load_mixture(path)
    assert mine.resolution_set == ((112, 84), (84, 112)) and mine.train[1].folder == "colmap"
    assert load_mixture("bmvs_518_many_ar_48ipg_8g") is MIXTURES["bmvs_518_many_ar_48ipg_8g"]
    with pytest.raises(MapaConfigError, match=r"unknown keys \['sise'\]"):
        load_mixture({"name": "x", "train": [{"dataset": "synthetic", "sise": 3}]})
    with pytest.raises(MapaUnknownNameError, match="unknown dataset row 'nope'"):
        MixtureEntry("nope", 3)
    with pytest.raises(MapaConfigError, match="positive int"):
        MixtureEntry("synthetic", 0)
    with pytest.raises(MapaUnknownNameError):
        load_mixture("no_such_mixture")


def test_build_from_a_mixture_with_split_lists(synthetic_root: Path, tmp_path: Path) -> None:
    meta = tmp_path / "meta"
    for split, scenes in (("train", ["objects_001", "room_000"]), ("val", ["room_000"])):
        path = scene_list_path(meta, "synthetic", split)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_scene_list(path, scenes)
    mixture = Mixture.from_dict(
        {
            "name": "tiny",
            "train": [{"dataset": "synthetic", "size": 20}],
            "val": [{"dataset": "synthetic", "size": 3, "resolution": [112, 84]}],
            "num_views": 3,
            "resolutions": [[112, 84], [84, 112]],
            "ipg": 6,
            "num_gpus": 1,
        }
    )
    data_root = synthetic_root.parent
    train = train_dataset(mixture, data_root, metadata_dir=meta, seed=3)
    assert len(train) == 20 and train.view_counts == (2, 3)
    s = train_sampler(train, mixture, seed=3)
    s.set_epoch(0)
    batch = next(iter(s))
    sets = [train[i] for i in batch]
    assert len({len(views) for views in sets}) == 1 and {v["label"] for vs in sets for v in vs} <= set(
        wai.list_scenes(synthetic_root)
    )
    val = validation_datasets(mixture, data_root, metadata_dir=meta)["synthetic"]
    first = [v["img"].tobytes() for v in val[0]]
    val.set_epoch(5)  # frozen
    assert [v["img"].tobytes() for v in val[0]] == first
    assert {v["label"] for v in val[1]} == {"room_000"}
