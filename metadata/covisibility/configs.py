"""Named covisibility configurations: the reference's shipped variants, and which one each dataset uses.

The numbers are the reference's (its `covisibility_*.yaml` stage configs). A depth pair is accepted when
``|z - D_j| < abs_thres + rel_thres * z - ln(0.5) * temp``; the temperature only adds a constant slack.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

from wai.errors import WaiFormatError

Denominator = Literal["full", "valid_target_depth"]
TargetSize = int | tuple[int, int]


@dataclasses.dataclass(frozen=True)
class CovisibilityParams:
    """The per-pixel test of the reference algorithm.

    abs_thres, rel_thres, temp: depth agreement ``err < abs_thres + rel_thres * z - ln(0.5) * temp`` (metres).
    min_depth:   a reprojected point counts only if its depth in the target is above this (the reference: 0.04).
    denominator: ``full`` divides the count by the source's pixel count; ``valid_target_depth`` by the target's
                 valid pixels (clipped to [0, 1]).
    """

    abs_thres: float = 0.1
    rel_thres: float = 0.005
    temp: float = 0.1
    min_depth: float = 0.04
    denominator: Denominator = "full"

    def __post_init__(self) -> None:
        if self.denominator not in ("full", "valid_target_depth"):
            raise WaiFormatError(
                f"covisibility: denominator must be 'full' or 'valid_target_depth', got {self.denominator!r}"
            )
        if not 0 <= self.rel_thres < 1:
            raise WaiFormatError(f"covisibility: rel_thres must be in [0, 1), got {self.rel_thres}")

    @property
    def slack(self) -> float:
        """The constant part of the threshold: ``abs_thres - ln(0.5) * temp``."""
        return self.abs_thres - math.log(0.5) * self.temp


@dataclasses.dataclass(frozen=True)
class CovisibilityConfig:
    """One named variant.

    depth_modalities: frame modalities tried in order; the first one the scene has is used.
    target_size:      an int resizes the depth to that long side (aspect kept, short side truncated); (h, w) is a
                      fixed size (for datasets that mix portrait and landscape frames).
    out_path:         folder of the matrix, relative to the scene (DL3DV's loader reads `covisibility/v0_mvsa_based`).
    requires:         stages that must have finished in the scene first (the depth comes from them).
    """

    name: str
    depth_modalities: tuple[str, ...]
    target_size: TargetSize
    params: CovisibilityParams
    out_path: str = "covisibility/v0"
    requires: tuple[str, ...] = ()
    description: str = ""

    def to_dict(self) -> dict[str, object]:
        out = dataclasses.asdict(self)
        out["target_size"] = (
            list(self.target_size) if isinstance(self.target_size, tuple) else self.target_size
        )
        out["depth_modalities"] = list(self.depth_modalities)
        out["requires"] = list(self.requires)
        return out


_GT = ("depth", "rendered_depth")
_GT_PARAMS = CovisibilityParams(abs_thres=0.1, rel_thres=0.005, temp=0.1)
_MVS_PARAMS = CovisibilityParams(abs_thres=0.5, rel_thres=0.005, temp=0.5)

CONFIGS: dict[str, CovisibilityConfig] = {
    c.name: c
    for c in (
        CovisibilityConfig("gt_depth", _GT, 224, _GT_PARAMS, description="GT depth, long side 224"),
        CovisibilityConfig(
            "gt_depth_224x224", _GT, (224, 224), _GT_PARAMS, description="GT depth, fixed 224x224"
        ),
        CovisibilityConfig(
            "gt_depth_mvs", _GT, 224, _MVS_PARAMS, description="MVS-quality GT depth, long side 224"
        ),
        CovisibilityConfig(
            "gt_depth_mvs_126x224", _GT, (126, 224), _MVS_PARAMS, description="MVS-quality GT depth, 126x224"
        ),
        CovisibilityConfig(
            "pred_depth_moge",
            ("pred_depth/moge2",),
            224,
            CovisibilityParams(abs_thres=0.4, rel_thres=0.02, temp=0.4),
            requires=("moge",),
            description="MoGe-2 depth, long side 224",
        ),
        CovisibilityConfig(
            "pred_depth_mvsa",
            ("pred_depth/mvsanywhere",),
            224,
            _MVS_PARAMS,
            out_path="covisibility/v0_mvsa_based",
            requires=("mvsanywhere",),
            description="MVSAnywhere depth, long side 224, in v0_mvsa_based (where DL3DV's loader reads)",
        ),
    )
}

#: ``auto``: the config each dataset's reference launch file uses, keyed by `dataset_name`.
DATASET_CONFIGS: dict[str, str] = {
    "eth3d": "gt_depth_224x224",
    "scannetppv2": "gt_depth",
    "dl3dv": "pred_depth_mvsa",
    "spring": "gt_depth",
    "blendedmvs": "gt_depth_mvs",
    "mpsd": "gt_depth_mvs_126x224",
    "megadepth": "gt_depth_224x224",
    "aerialmegadepth": "gt_depth_224x224",
    "tav2_wb": "gt_depth",
    "ase": "gt_depth_224x224",
    "asev2": "gt_depth_224x224",
    "dynamicreplica": "gt_depth",
    "mvs_synth": "gt_depth",
    "paralleldomain4d": "gt_depth",
    "sailvos3d": "gt_depth",
    "unrealstereo4k": "gt_depth",
}

#: The depth modality each dataset's training loader reads, where it is not plain `depth`.
DATASET_DEPTH: dict[str, str] = {"scannetppv2": "rendered_depth", "dl3dv": "pred_depth/mvsanywhere"}

AUTO = "auto"
DEFAULT_CONFIG = "gt_depth"


def config_names() -> list[str]:
    """``auto`` followed by every named config."""
    return [AUTO, *CONFIGS]


def resolve_config(name: str, dataset_name: str | None = None) -> CovisibilityConfig:
    """The config called `name`; ``auto`` picks the dataset's (`DATASET_CONFIGS`, else ``gt_depth``), with the
    dataset's depth modality tried first (`DATASET_DEPTH`)."""
    if name == AUTO:
        key = (dataset_name or "").lower()
        config = CONFIGS[DATASET_CONFIGS.get(key, DEFAULT_CONFIG)]
        depth = DATASET_DEPTH.get(key)
        if depth is not None and config.depth_modalities[0] != depth:
            rest = tuple(m for m in config.depth_modalities if m != depth)
            config = dataclasses.replace(config, depth_modalities=(depth, *rest))
        return config
    try:
        return CONFIGS[name]
    except KeyError:
        raise WaiFormatError(
            f"unknown covisibility config {name!r}; expected one of {', '.join(config_names())}"
        ) from None
