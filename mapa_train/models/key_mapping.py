"""Key mappers from official checkpoint layouts to our module names (one per model family), and back.

MapAnything's official files name the DPT through aliases: the Hugging Face `model.safetensors` keeps only
`dense_head.0.*` / `dense_head.1.*`, training checkpoints hold every alias (`dpt_feature_head.*`, `dense_head.*`,
`scratch.layer{k}_rn`, `scratch.layer_rn.{k}`). We keep one canonical name per tensor.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch

StateDict = dict[str, torch.Tensor]

_LAYER_RN = re.compile(r"^dpt_feature_head\.scratch\.layer(\d)_rn\.(.+)$")
_LAYER_RN_LIST = re.compile(r"^dpt_feature_head\.scratch\.layer_rn\.(\d)\.(.+)$")


def _canonical_mapanything_key(key: str) -> str:
    if key.startswith("dense_head.0."):
        key = "dpt_feature_head." + key[len("dense_head.0.") :]
    elif key.startswith("dense_head.1."):
        key = "dpt_regressor_head." + key[len("dense_head.1.") :]
    match = _LAYER_RN.match(key)
    if match:
        return f"dpt_feature_head.input_process.{int(match.group(1)) - 1}.1.{match.group(2)}"
    match = _LAYER_RN_LIST.match(key)
    if match:
        return f"dpt_feature_head.input_process.{match.group(1)}.1.{match.group(2)}"
    return key


def map_mapanything_state_dict(state_dict: StateDict) -> StateDict:
    """Official MapAnything layout (HF safetensors or training checkpoint, aliases or not) -> our names.

    Aliased copies of one tensor collapse to one key; a module prefix `module.` (DDP) is stripped.
    """
    out: StateDict = {}
    for key, value in state_dict.items():
        out.setdefault(_canonical_mapanything_key(key.removeprefix("module.")), value)
    return out


def mapanything_to_reference_layout(state_dict: StateDict) -> StateDict:
    """Our names -> the reference's full in-memory layout, every DPT alias emitted (812 / 880 keys at full size)."""
    out = dict(state_dict)
    for key, value in state_dict.items():
        if key.startswith("dpt_feature_head."):
            out["dense_head.0." + key[len("dpt_feature_head.") :]] = value
            match = re.match(r"^dpt_feature_head\.input_process\.(\d)\.1\.(.+)$", key)
            if match:
                k, rest = int(match.group(1)), match.group(2)
                for alias in (f"scratch.layer{k + 1}_rn.{rest}", f"scratch.layer_rn.{k}.{rest}"):
                    out[f"dpt_feature_head.{alias}"] = value
                    out[f"dense_head.0.{alias}"] = value
        elif key.startswith("dpt_regressor_head."):
            out["dense_head.1." + key[len("dpt_regressor_head.") :]] = value
    return out


def map_dinov2_to_encoder(
    state_dict: StateDict, num_blocks: int, keep_norm: bool, keep_mask_token: bool = False, prefix: str = ""
) -> StateDict:
    """DINOv2 torch-hub weights -> our ViT (under `prefix`): blocks past `num_blocks` dropped, `norm` dropped when
    the encoder's final norm is Identity, `mask_token` dropped unless kept."""
    out: StateDict = {}
    for key, value in state_dict.items():
        match = re.match(r"^blocks\.(\d+)\.", key)
        if match and int(match.group(1)) >= num_blocks:
            continue
        if key.startswith("norm.") and not keep_norm:
            continue
        if key == "mask_token" and not keep_mask_token:
            continue
        out[prefix + key] = value
    return out


def map_dinov2_to_info_sharing(
    state_dict: StateDict, first_block: int, num_blocks: int, prefix: str = ""
) -> StateDict:
    """DINOv2 blocks `first_block..first_block+num_blocks-1` and final norm -> AAT `self_attention_blocks.{i}` and
    `norm` (V1.1's DINO init: ViT-g blocks 24..39). The reference-view buffer is not part of the mapping."""
    out: StateDict = {}
    for key, value in state_dict.items():
        match = re.match(r"^blocks\.(\d+)\.(.+)$", key)
        if match:
            index = int(match.group(1)) - first_block
            if 0 <= index < num_blocks:
                out[f"{prefix}self_attention_blocks.{index}.{match.group(2)}"] = value
        elif key.startswith("norm."):
            out[prefix + key] = value
    return out


def identity_mapping(state_dict: StateDict) -> StateDict:
    """For families whose module names equal the official ones; strips a DDP `module.` prefix."""
    return {k.removeprefix("module."): v for k, v in state_dict.items()}


def map_vggt_state_dict(state_dict: StateDict) -> StateDict:
    """Official VGGT layout -> our names: identical module names for every part, the track head included
    (`track_head.tracker.updateformer.virual_tracks` keeps the release's spelling); a DDP `module.` prefix is
    stripped."""
    return identity_mapping(state_dict)


def map_moge2_state_dict(state_dict: StateDict) -> StateDict:
    """MoGe-2's `model.pt` state dict -> our names (identical). The two image-statistics buffers and the unused
    `mask_token`, which a released file may omit, are filled with their deterministic values."""
    out = identity_mapping(state_dict)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out.setdefault("encoder.image_mean", torch.tensor(mean).reshape(1, 3, 1, 1))
    out.setdefault("encoder.image_std", torch.tensor(std).reshape(1, 3, 1, 1))
    cls = out.get("encoder.backbone.cls_token")
    if cls is not None:
        out.setdefault("encoder.backbone.mask_token", torch.zeros(1, cls.shape[-1], dtype=cls.dtype))
    return out


KEY_MAPPERS: dict[str, Callable[[StateDict], StateDict]] = {
    "mapanything": map_mapanything_state_dict,
    "vggt": map_vggt_state_dict,
    "pi3": identity_mapping,
    "moge2": map_moge2_state_dict,
}
