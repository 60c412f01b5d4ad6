"""A training sample as `wai viz --as-training` shows it: the exact arrays the model sees, de-normalised.

Numpy only (no torch), like the sample builder it calls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mapa_train.data.augment import NORMALIZATIONS, get_augment
from mapa_train.data.dataset import SceneDataset, ViewOptions
from mapa_train.data.resolutions import Resolution
from mapa_train.data.rows import ROWS, DatasetRow, get_row
from wai.camera import Camera, CameraModel
from wai.viz import ViewRecord


def row_for(dataset_name: str | None) -> DatasetRow:
    """The training row of a scene's `dataset_name`, or the generic row for any other capture."""
    return ROWS.get(dataset_name or "", ROWS["generic"])


def denormalize(img: np.ndarray, norm: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a sample's normalised (3, H, W) float image."""
    mean, std = NORMALIZATIONS[norm]
    rgb = img.transpose(1, 2, 0) * np.asarray(std, np.float32) + np.asarray(mean, np.float32)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def training_records(
    scene_dir: str | Path,
    *,
    num_views: int,
    resolution: Resolution,
    seed: int,
    row: str | None = None,
    augment: str = "imgnorm",
) -> list[ViewRecord]:
    """Draw one `num_views` sample of a scene as the trainer does (covisibility walk, crop and resize to
    `resolution` (W, H), colour augmentation `augment`) and describe its views for the viewer."""
    path = Path(scene_dir)
    dataset_row = get_row(row) if row is not None else None
    options = ViewOptions(augment=get_augment(augment))
    if dataset_row is None:
        from wai import open_scene

        dataset_row = row_for(open_scene(path).dataset_name)
    dataset = SceneDataset(dataset_row, path.parent, [path.name])
    views, _ = dataset.sample(0, num_views, resolution, np.random.default_rng(seed), options)
    records = []
    for position, view in enumerate(views):
        K = np.asarray(view["camera_intrinsics"], dtype=np.float64)
        height, width = view["depthmap"].shape[:2]
        camera = Camera(
            CameraModel.PINHOLE,
            width,
            height,
            {"fl_x": K[0, 0], "fl_y": K[1, 1], "cx": K[0, 2], "cy": K[1, 2]},
        )
        records.append(
            ViewRecord(
                name=f"view{position}_{view['instance'].rsplit('/', 1)[-1]}",
                image=denormalize(view["img"], view["data_norm_type"]),
                camera=camera,
                cam2world=np.asarray(view["camera_pose"], dtype=np.float64),
                depth=np.asarray(view["depthmap"][..., 0], dtype=np.float32),
                masks={
                    name: np.asarray(view[name], dtype=bool) for name in ("valid_mask", "non_ambiguous_mask")
                },
            )
        )
    return records
