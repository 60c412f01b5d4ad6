"""Initialising from released weights: official checkpoints of each family and DINOv2 image-encoder weights from a
local file or the torch-hub cache. Nothing here downloads; a missing file is an error naming the path."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from mapa_train.models.key_mapping import (
    KEY_MAPPERS,
    identity_mapping,
    map_dinov2_to_encoder,
    map_dinov2_to_info_sharing,
)
from mapa_train.models.registry import family_of
from mapa_train.models.weights import LoadReport, load_state_dict_with_report, read_checkpoint
from wai.errors import WaiFormatError

OFFICIAL_SOURCES = {
    "mapanything": "download model.safetensors from the Hugging Face repo facebook/map-anything (V1.1) or "
    "facebook/map-anything-v1 (V1)",
    "vggt": "download model.safetensors from the Hugging Face repo facebook/VGGT-1B",
    "pi3": "download model.safetensors from the Hugging Face repo yyfz233/Pi3",
    "moge2": "download model.pt from the Hugging Face repo Ruicheng/moge-2-vitl",
}
DINOV2_URL = "https://dl.fbaipublicfiles.com/dinov2/{name}/{name}_pretrain.pth"


def load_official_checkpoint(model: nn.Module, path: str | Path, strict: bool = True) -> LoadReport:
    """Load a released checkpoint of the model's family through that family's key mapping.

    With `strict`, any key left missing or unexpected after mapping raises, naming the keys.
    """
    family = family_of(model)
    raw = read_checkpoint(path, OFFICIAL_SOURCES.get(family, ""))
    mapped = KEY_MAPPERS.get(family, identity_mapping)(raw)
    return load_state_dict_with_report(model, mapped, strict=strict, source=str(path))


def dinov2_cache_path(name: str) -> Path:
    """Where torch hub caches `name` (e.g. "dinov2_vitg14") weights: `<hub dir>/checkpoints/<name>_pretrain.pth`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / f"{name}_pretrain.pth"


def _dinov2_file(path: str | Path | None, name: str) -> Path:
    if path is not None:
        return Path(path)
    return dinov2_cache_path(name)


def init_encoder_from_dinov2(
    encoder: nn.Module, path: str | Path | None = None, name: str = "dinov2_vitl14"
) -> LoadReport:
    """Fill a `VisionTransformer` from DINOv2 weights (local file, else the torch-hub cache); every encoder tensor
    must be filled (blocks beyond the kept ones and an Identity norm's weights are dropped first)."""
    file = _dinov2_file(path, name)
    raw = read_checkpoint(file, f"download {DINOV2_URL.format(name=name)} and pass its path")
    config = encoder.config
    mapped = map_dinov2_to_encoder(
        raw, len(encoder.blocks), config.norm_returned_features, config.keep_mask_token
    )
    return load_state_dict_with_report(encoder, mapped, strict=True, source=str(file))


def init_info_sharing_from_dinov2(
    info_sharing: nn.Module,
    path: str | Path | None = None,
    name: str = "dinov2_vitg14",
    first_block: int = 24,
) -> LoadReport:
    """V1.1's DINO init of the multi-view transformer: DINOv2 blocks `first_block…` -> AAT blocks, DINOv2 norm ->
    AAT norm. Non-strict only for the deterministic `view_pos_table` buffer and `proj_embed`."""
    file = _dinov2_file(path, name)
    raw = read_checkpoint(file, f"download {DINOV2_URL.format(name=name)} and pass its path")
    mapped = map_dinov2_to_info_sharing(raw, first_block, len(info_sharing.self_attention_blocks))
    report = load_state_dict_with_report(info_sharing, mapped, strict=False, source=str(file))
    allowed = ("view_pos_table", "proj_embed.")
    report.missing = [k for k in report.missing if not k.startswith(allowed)]
    if not report.ok:
        raise WaiFormatError(
            f"DINOv2 init of the multi-view transformer from {file} failed: {report.summary()}"
        )
    return report
