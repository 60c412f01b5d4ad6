"""One row of data per training dataset: which depth is read, how it is cleaned, and the dataset's flags.

The reference has one near-identical class per dataset (training spec 1.2); here each dataset is a `DatasetRow`
and one generic dataset class (`mapa_train.data.dataset.SceneDataset`) reads them all. The cleaning steps run in
one fixed order (see `mapa_train.data.cleaning`), and each row only switches steps on or off:

    non-finite depth -> 0, [depth sets the size (DL3DV)], [confidence threshold], [sky mask],
    [percentile clip, when `clip_before_mask`], mask (a modality, or depth > 0), [percentile clip]

That order reproduces every row of the reference's table.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from mapa_train.errors import MapaUnknownNameError

MOGE2_MASK = "pred_mask/moge2"
OnMissing = Literal["warn", "error"]


@dataclasses.dataclass(frozen=True)
class DatasetRow:
    """How one dataset's WAI scenes become training views."""

    name: str
    """Row key, used in mixtures (``blendedmvs``)."""
    label: str
    """The reference's dataset name, stored in every view's ``dataset`` field (``BlendedMVS``)."""
    folder: str
    """Folder of the dataset under the data root (the reference's ROOT names)."""
    depth: str = "depth"
    """Depth modality read for every frame (``rendered_depth``, ``pred_depth/mvsanywhere``)."""
    metric: bool | None = True
    """Metric-scale flag; None takes it from the scene (``scale_type == "metric"``)."""
    synthetic: bool = False
    """Synthetic flag (the loss adds normal and gradient-matching terms on synthetic data)."""
    covisibility_threshold: float = 0.25
    """Neighbour threshold of the covisibility walk."""
    covisibility_version: str = "v0"
    """Folder under ``covisibility/`` that holds the matrix."""
    mask: str | None = None
    """Mask modality: depth is zeroed outside it and it is the non-ambiguous mask (``pred_mask/moge2``)."""
    mask_from_depth: bool = False
    """The non-ambiguous mask is depth > 0, taken at its place in the cleaning order."""
    sky_mask: str | None = None
    """Mask modality whose True pixels are sky: depth is zeroed there."""
    confidence: str | None = None
    """Depth-confidence modality: depth is zeroed where confidence <= `confidence_threshold`."""
    confidence_threshold: float = 0.25
    clip_percentile: float | None = None
    """Depth strictly above this percentile of the whole map (zeros included) is zeroed."""
    clip_before_mask: bool = False
    """Clip before taking the mask (TAv2-WB) instead of after it."""
    depth_sets_size: bool = False
    """The depth map may be smaller than the image: the image is resized to the depth's size (DL3DV)."""
    zero_nonfinite: bool = True
    """NaN and inf depth become 0 (counted); False makes them an error of the sample (ETH3D)."""
    val_aspect: str | None = None
    """Aspect ratio of the fixed validation resolution (``"16:9"``), see `resolutions.VAL_ASPECTS`."""
    on_missing: OnMissing = "warn"
    """A rule's modality missing from a scene: warn once per scene and skip the rule, or fail the sample."""

    def modalities(self) -> tuple[str, ...]:
        """Every frame modality this row reads, besides the image."""
        names = [self.depth, self.confidence, self.sky_mask, self.mask]
        return tuple(n for n in names if n)


def _row(**kwargs: object) -> DatasetRow:
    return DatasetRow(**kwargs)  # type: ignore[arg-type]


#: Every dataset row, keyed by name. The 13 training datasets, the ETH3D test set, AerialMegaDepth, and two generic
#: rows for data from `wai convert synthetic` and the COLMAP/nerfstudio importers.
ROWS: dict[str, DatasetRow] = {
    row.name: row
    for row in (
        _row(name="ase", label="ASE", folder="ase", synthetic=True, val_aspect="1:1"),
        _row(
            name="blendedmvs",
            label="BlendedMVS",
            folder="blendedmvs",
            metric=False,
            mask=MOGE2_MASK,
            val_aspect="4:3",
        ),
        _row(
            name="dl3dv",
            label="DL3DV",
            folder="dl3dv",
            depth="pred_depth/mvsanywhere",
            metric=False,
            covisibility_version="v0_mvsa_based",
            confidence="depth_confidence/mvsanywhere",
            mask=MOGE2_MASK,
            depth_sets_size=True,
            val_aspect="16:9",
        ),
        _row(
            name="dynamicreplica",
            label="DynamicReplica",
            folder="dynamicreplica",
            synthetic=True,
            val_aspect="16:9",
        ),
        _row(
            name="megadepth",
            label="MegaDepth",
            folder="megadepth",
            metric=False,
            mask=MOGE2_MASK,
            val_aspect="3:2",
        ),
        _row(
            name="mpsd",
            label="MPSD",
            folder="mpsd",
            covisibility_threshold=0.15,
            mask=MOGE2_MASK,
            val_aspect="16:9",
        ),
        _row(
            name="mvs_synth",
            label="MVSSynth",
            folder="mvs_synth",
            synthetic=True,
            mask_from_depth=True,
            clip_percentile=95.0,
            val_aspect="16:9",
        ),
        _row(
            name="paralleldomain4d",
            label="ParallelDomain4D",
            folder="paralleldomain4d",
            synthetic=True,
            mask_from_depth=True,
            clip_percentile=95.0,
            val_aspect="4:3",
        ),
        _row(
            name="sailvos3d",
            label="SAILVOS3D",
            folder="sailvos3d",
            synthetic=True,
            mask_from_depth=True,
            clip_percentile=95.0,
            val_aspect="3:2",
        ),
        _row(
            name="scannetppv2",
            label="ScanNetPP",
            folder="scannetppv2",
            depth="rendered_depth",
            val_aspect="3:2",
        ),
        _row(
            name="spring",
            label="Spring",
            folder="spring",
            synthetic=True,
            sky_mask="skymask",
            mask=MOGE2_MASK,
            val_aspect="16:9",
        ),
        _row(
            name="tav2_wb",
            label="TartanAirV2WB",
            folder="tav2_wb",
            synthetic=True,
            clip_percentile=95.0,
            clip_before_mask=True,
            mask=MOGE2_MASK,
            val_aspect="1:1",
        ),
        _row(
            name="unrealstereo4k",
            label="UnrealStereo4K",
            folder="unrealstereo4k",
            synthetic=True,
            mask_from_depth=True,
            clip_percentile=95.0,
            val_aspect="16:9",
        ),
        _row(name="eth3d", label="ETH3D", folder="eth3d", covisibility_threshold=0.025, zero_nonfinite=False),
        # The reference's AerialMegaDepth class reads the MoGe-2 mask without requesting it (it always fails);
        # this row requests it.
        _row(name="aerialmegadepth", label="AerialMegaDepth", folder="aerialmegadepth", mask=MOGE2_MASK),
        _row(name="synthetic", label="Synthetic", folder="synthetic", synthetic=True, mask_from_depth=True),
        _row(name="generic", label="WAI", folder=".", metric=None),
    )
}

#: The 13 training datasets of the reference's mixtures, and the 6-dataset (Apache-licensed) subset.
TRAINING_13: tuple[str, ...] = (
    "ase",
    "blendedmvs",
    "dl3dv",
    "dynamicreplica",
    "megadepth",
    "mpsd",
    "mvs_synth",
    "paralleldomain4d",
    "sailvos3d",
    "scannetppv2",
    "spring",
    "tav2_wb",
    "unrealstereo4k",
)
APACHE_6: tuple[str, ...] = ("blendedmvs", "mpsd", "scannetppv2", "spring", "tav2_wb", "unrealstereo4k")


def get_row(name: str) -> DatasetRow:
    """The row called `name` (an unknown name lists the known ones)."""
    try:
        return ROWS[name]
    except KeyError:
        raise MapaUnknownNameError(
            f"unknown dataset row {name!r}; known: {', '.join(sorted(ROWS))}"
        ) from None
