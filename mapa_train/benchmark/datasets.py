"""The benchmark's datasets as rows of data, their scene lists, and the per-view inputs of a set.

Each benchmark dataset names a training-data row (`mapa_train.data.rows`: depth modality, clean-up, covisibility
threshold, metric flag), its folder under the data root, the key of its test scene list and its resolution in the
reference's 518 configuration. Views are built with the training sample builder (`mapa_train.data`): the row's
cleaning, the exact-intrinsics crop/resize, the model's image normalisation and the reference's view fields.
Both `wai convert` output and the reference's benchmark download (``<ROOT>/<folder>/<scene>/scene_meta.json``,
scene lists at ``<META>/test/<key>_scene_list_test.npy``) are read through `wai.open_scene`.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np

import wai
from mapa_train.benchmark.sets import BenchmarkSet
from mapa_train.benchmark.view_cache import ViewCache
from mapa_train.data.augment import ColorAugment, augment_and_normalize
from mapa_train.data.cleaning import MissingModalityWarner, read_clean_view
from mapa_train.data.crop import crop_resize
from mapa_train.data.rows import DatasetRow, get_row
from mapa_train.data.sample import build_view
from mapa_train.errors import MapaConfigError, MapaDataError, MapaUnknownNameError
from metadata.scene_lists import read_scene_list, scene_list_path
from wai.errors import where

log = logging.getLogger(__name__)

#: The view fields the benchmark needs (GT for the metrics, and the geometric inputs a task may feed).
VIEW_FIELDS: tuple[str, ...] = (
    "img",
    "camera_pose",
    "camera_pose_quats",
    "camera_pose_trans",
    "pts3d",
    "pts3d_cam",
    "ray_directions_cam",
    "depth_along_ray",
    "valid_mask",
    "is_metric_scale",
)


@dataclasses.dataclass(frozen=True)
class BenchmarkDataset:
    """One benchmark dataset."""

    name: str
    """CLI name (``eth3d``)."""
    row: str
    """Training-data row with the depth modality and clean-up (``scannetppv2``)."""
    list_key: str
    """Dataset key of the split list file (``<META>/test/<key>_scene_list_test.npy``)."""
    resolution: tuple[int, int]
    """(W, H) of the reference's 518 configuration."""
    label: str
    """The reference's dataset class name, used in its result keys."""

    @property
    def data_row(self) -> DatasetRow:
        return get_row(self.row)

    @property
    def folder(self) -> str:
        return self.data_row.folder


BENCHMARK_DATASETS: dict[str, BenchmarkDataset] = {
    d.name: d
    for d in (
        BenchmarkDataset("eth3d", "eth3d", "eth3d", (518, 336), "ETH3DWAI"),
        BenchmarkDataset("scannetpp", "scannetppv2", "scannetppv2", (518, 336), "ScanNetPPWAI"),
        BenchmarkDataset("tav2_wb", "tav2_wb", "tav2_wb", (518, 518), "TartanAirV2WBWAI"),
        # Not in the reference: the procedural scenes of `wai convert synthetic`, for runs without downloads.
        BenchmarkDataset("synthetic", "synthetic", "synthetic", (518, 336), "SyntheticWAI"),
    )
}


def get_benchmark_dataset(name: str) -> BenchmarkDataset:
    if name not in BENCHMARK_DATASETS:
        raise MapaUnknownNameError(
            f"unknown benchmark dataset {name!r}; expected one of {sorted(BENCHMARK_DATASETS)}"
        )
    return BENCHMARK_DATASETS[name]


def dataset_root(dataset: BenchmarkDataset, data_root: str | Path) -> Path:
    root = Path(data_root) / dataset.folder
    if not root.is_dir():
        raise MapaConfigError(
            f"dataset '{dataset.name}': folder '{root}' not found (expected <ROOT>/{dataset.folder})"
        )
    return root


def dataset_scenes(
    dataset: BenchmarkDataset, data_root: str | Path, metadata_dir: str | Path | None
) -> list[str]:
    """The test scenes: the split list under `metadata_dir` when given, else every scene under the dataset root."""
    root = dataset_root(dataset, data_root)
    if metadata_dir is not None:
        scenes = read_scene_list(scene_list_path(metadata_dir, dataset.list_key, "test"))
    else:
        log.warning(
            "%s: no --metadata given; using every scene under '%s' as the test split", dataset.name, root
        )
        scenes = wai.list_scenes(root)
    if not scenes:
        raise MapaConfigError(f"dataset '{dataset.name}': no test scenes under '{root}'")
    return list(scenes)


class SceneReader:
    """Opens each scene of one dataset once and builds the views of its sets, keeping the most recently built ones
    (up to `cache_bytes`) for the next sets that show the same frames."""

    def __init__(self, dataset: BenchmarkDataset, data_root: str | Path, cache_bytes: int = 0) -> None:
        self.dataset = dataset
        self.row = dataset.data_row
        self.root = dataset_root(dataset, data_root)
        self.warner = MissingModalityWarner()
        self.cache = ViewCache(cache_bytes)
        self._scenes: dict[str, Any] = {}

    def scene(self, name: str) -> Any:
        if name not in self._scenes:
            self._scenes[name] = wai.open_scene(self.root / name)
        return self._scenes[name]

    def covisibility(self, name: str) -> np.ndarray:
        return self.scene(name).covisibility(self.row.covisibility_version)

    def frame_names(self, name: str) -> list[str]:
        return [frame.name for frame in self.scene(name).frames]

    def views(
        self, bench_set: BenchmarkSet, resolution: tuple[int, int], data_norm_type: str
    ) -> list[dict[str, Any]]:
        """The set's views at `resolution` (W, H), numpy, with the `VIEW_FIELDS` of the training sample. A frame that
        appears twice, or in an earlier set still in the cache, is the same (read-only) view dict."""
        out = []
        for frame_idx in bench_set.frames:
            key = (bench_set.scene, frame_idx, tuple(resolution), data_norm_type)
            view = self.cache.get(key)
            if view is None:
                view = self.cache.put(key, self._build(bench_set, frame_idx, resolution, data_norm_type))
            out.append(view)
        return out

    def _build(
        self, bench_set: BenchmarkSet, frame_idx: int, resolution: tuple[int, int], data_norm_type: str
    ) -> dict[str, Any]:
        """One frame's view. Its `VIEW_FIELDS` do not depend on the set (the set-specific bookkeeping fields of the
        training sample, such as `idx` and `rng`, are not among them), so a cached view serves every set."""
        scene = self.scene(bench_set.scene)
        metric = self.row.metric
        if metric is None:
            metric = getattr(scene, "scale_type", None) == "metric"
        frame = scene.frames[frame_idx]
        try:
            clean = read_clean_view(frame, self.row, bench_set.scene, self.warner)
            masks = None if clean.non_ambiguous is None else {"non_ambiguous": clean.non_ambiguous}
            cropped = crop_resize(clean.image, clean.depth, clean.camera, resolution, masks=masks)
        except MapaDataError:
            raise
        except (wai.WaiError, ValueError, OSError) as exc:
            raise MapaDataError(f"{where(scene=bench_set.scene, frame=frame.name)}: {exc}") from exc
        img = augment_and_normalize(cropped.image, ColorAugment(), data_norm_type, np.random.default_rng(0))
        return build_view(
            img=img,
            depth=cropped.depth,
            camera=cropped.camera,
            cam2world=clean.cam2world,
            non_ambiguous=cropped.masks.get("non_ambiguous"),
            dataset=self.row.label,
            label=bench_set.scene,
            instance=f"images/{frame.name}",
            idx=(bench_set.scene_idx, 0, frame_idx),
            is_metric_scale=bool(metric),
            is_synthetic=self.row.synthetic,
            data_norm_type=data_norm_type,
            rng=bench_set.seed,
            keys=VIEW_FIELDS,
        )
