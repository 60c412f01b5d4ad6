"""Initialising from released weights: official checkpoints of each family and DINOv2 image-encoder weights from a
local file, the torch-hub cache or the Hugging Face cache. Nothing here downloads; a missing file is an error naming
where it was looked for and how to get it.

The Hugging Face cache is read offline through `huggingface_hub.try_to_load_from_cache` (the optional `hub` extra,
imported only when a lookup happens). DINOv2 files there use the transformers key names, which
`map_hf_dinov2_to_hub` renames to the torch-hub names our ViT uses.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from mapa_train.errors import MapaCheckpointError, MapaMissingDependencyError, MapaWeightsNotFoundError
from mapa_train.models.key_mapping import (
    KEY_MAPPERS,
    StateDict,
    identity_mapping,
    map_dinov2_to_encoder,
    map_dinov2_to_info_sharing,
)
from mapa_train.models.registry import family_of
from mapa_train.models.weights import LoadReport, load_state_dict_with_report, read_checkpoint

OFFICIAL_SOURCES = {
    "mapanything": "download model.safetensors from the Hugging Face repo facebook/map-anything (V1.1) or "
    "facebook/map-anything-v1 (V1)",
    "vggt": "download model.safetensors from the Hugging Face repo facebook/VGGT-1B",
    "pi3": "download model.safetensors from the Hugging Face repo yyfz233/Pi3",
    "moge2": "download model.pt from the Hugging Face repo Ruicheng/moge-2-vitl-normal (models with the normal "
    "head) or Ruicheng/moge-2-vitl (without)",
}
DINOV2_URL = "https://dl.fbaipublicfiles.com/dinov2/{name}/{name}_pretrain.pth"


@dataclass(frozen=True)
class HubFile:
    """One file of a Hugging Face model repo, e.g. ("facebook/map-anything", "model.safetensors")."""

    repo_id: str
    filename: str

    def __str__(self) -> str:
        return f"{self.repo_id}/{self.filename}"


# Released files per family, preferred first (see `official_hub_files` for the per-variant order).
OFFICIAL_HUB_FILES: dict[str, tuple[HubFile, ...]] = {
    "mapanything": (
        HubFile("facebook/map-anything", "model.safetensors"),
        HubFile("facebook/map-anything-v1", "model.safetensors"),
    ),
    "vggt": (HubFile("facebook/VGGT-1B", "model.safetensors"),),
    "pi3": (HubFile("yyfz233/Pi3", "model.safetensors"),),
    "moge2": (
        HubFile("Ruicheng/moge-2-vitl-normal", "model.pt"),
        HubFile("Ruicheng/moge-2-vitl", "model.pt"),
    ),
}

# torch-hub model names -> the transformers DINOv2 repos holding the same weights.
DINOV2_HUB_REPOS: dict[str, str] = {
    "dinov2_vits14": "facebook/dinov2-small",
    "dinov2_vitb14": "facebook/dinov2-base",
    "dinov2_vitl14": "facebook/dinov2-large",
    "dinov2_vitg14": "facebook/dinov2-giant",
    "dinov2_vits14_reg": "facebook/dinov2-with-registers-small",
    "dinov2_vitb14_reg": "facebook/dinov2-with-registers-base",
    "dinov2_vitl14_reg": "facebook/dinov2-with-registers-large",
    "dinov2_vitg14_reg": "facebook/dinov2-with-registers-giant",
}
HF_WEIGHTS_NAME = "model.safetensors"


# -- the Hugging Face cache -------------------------------------------------------------------------------------------


def hf_cache_dir() -> Path:
    """The hub cache folder, read from the environment at call time: `HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    huggingface_hub's default (`~/.cache/huggingface/hub`)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def find_in_hf_cache(file: HubFile, revision: str | None = None) -> Path | None:
    """Path of `file` in the local Hugging Face cache (snapshot of `revision`, default the `main` ref), or None.

    Offline only: nothing is downloaded. Raises `WaiError` when huggingface_hub is not installed.
    """
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError as exc:
        raise MapaMissingDependencyError(
            f"looking up {file} in the Hugging Face cache needs huggingface_hub "
            "(pip install 'wai-toolkit[hub]'), or pass the weight file's path explicitly"
        ) from exc
    found = try_to_load_from_cache(file.repo_id, file.filename, cache_dir=hf_cache_dir(), revision=revision)
    return Path(found) if isinstance(found, str) else None


def _hub_hint(files: tuple[HubFile, ...]) -> str:
    names = " or ".join(str(f) for f in files)
    return f"{names} in the Hugging Face cache {hf_cache_dir()}"


# -- official checkpoints ---------------------------------------------------------------------------------------------


def official_hub_files(model: nn.Module) -> tuple[HubFile, ...]:
    """The released files that fit `model`, preferred first (MapAnything V1 prefers facebook/map-anything-v1)."""
    family = family_of(model)
    files = OFFICIAL_HUB_FILES.get(family, ())
    config = getattr(model, "config", None)
    if getattr(config, "name", None) == "mapanything_v1":
        files = tuple(sorted(files, key=lambda f: f.repo_id != "facebook/map-anything-v1"))
    if (
        family == "moge2"
    ):  # a released MoGe-2 file fits only the architecture with (or without) the normal head
        normal = bool(config.pred_head.normal_head)
        files = tuple(f for f in files if f.repo_id.endswith("-normal") == normal)
    return files


def load_official_checkpoint(
    model: nn.Module, path: str | Path | None = None, strict: bool = True
) -> LoadReport:
    """Load a released checkpoint of the model's family through that family's key mapping.

    Without `path`, the family's released file is taken from the Hugging Face cache (offline). With `strict`, any
    key left missing or unexpected after mapping raises, naming the keys.
    """
    family = family_of(model)
    if path is None:
        files = official_hub_files(model)
        if not files:
            raise MapaWeightsNotFoundError(
                f"no released checkpoint is known for family {family!r}; pass a path"
            )
        path = next((p for p in map(find_in_hf_cache, files) if p is not None), None)
        if path is None:
            raise MapaWeightsNotFoundError(
                f"no official {family} checkpoint found: looked for {_hub_hint(files)} "
                f"({OFFICIAL_SOURCES.get(family, 'download it')}, or pass its path)"
            )
    raw = read_checkpoint(path, OFFICIAL_SOURCES.get(family, ""))
    mapped = KEY_MAPPERS.get(family, identity_mapping)(raw)
    return load_state_dict_with_report(model, mapped, strict=strict, source=str(path))


# -- DINOv2 -----------------------------------------------------------------------------------------------------------

_HF_LAYER = re.compile(r"^encoder\.layer\.(\d+)\.(.+)$")
_HF_LAYER_RENAMES = {
    "norm1.": "norm1.",
    "norm2.": "norm2.",
    "attention.output.dense.": "attn.proj.",
    "layer_scale1.lambda1": "ls1.gamma",
    "layer_scale2.lambda1": "ls2.gamma",
    "mlp.fc1.": "mlp.fc1.",
    "mlp.fc2.": "mlp.fc2.",
    "mlp.weights_in.": "mlp.w12.",
    "mlp.weights_out.": "mlp.w3.",
}
_HF_TOP_RENAMES = {
    "embeddings.cls_token": "cls_token",
    "embeddings.mask_token": "mask_token",
    "embeddings.register_tokens": "register_tokens",
    "embeddings.position_embeddings": "pos_embed",
    "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "layernorm.weight": "norm.weight",
    "layernorm.bias": "norm.bias",
}


def is_hf_dinov2_layout(state_dict: StateDict) -> bool:
    """True when the keys are transformers' DINOv2 names (`embeddings.*`, `encoder.layer.*`, optional `dinov2.`)."""
    return any(k.removeprefix("dinov2.").startswith(("embeddings.", "encoder.layer.")) for k in state_dict)


def map_hf_dinov2_to_hub(state_dict: StateDict) -> StateDict:
    """transformers `Dinov2Model` / `Dinov2WithRegistersModel` names -> torch-hub DINOv2 names.

    Per layer the separate `attention.attention.{query,key,value}` weights `(C, C)` and biases `(C,)` are stacked in
    q, k, v order into `attn.qkv` `(3C, C)` / `(3C,)`; `layer_scale{1,2}.lambda1` -> `ls{1,2}.gamma`; SwiGLU's
    `weights_in` / `weights_out` -> `w12` / `w3`; `layernorm` -> `norm`. A `dinov2.` prefix (classification
    checkpoints) is stripped and a classifier head is dropped. Unknown keys raise.
    """
    out: StateDict = {}
    qkv: dict[tuple[int, str], dict[str, torch.Tensor]] = {}
    for raw_key, value in state_dict.items():
        key = raw_key.removeprefix("dinov2.")
        if key.startswith("classifier."):
            continue
        if key in _HF_TOP_RENAMES:
            out[_HF_TOP_RENAMES[key]] = value
            continue
        match = _HF_LAYER.match(key)
        if match is None:
            raise MapaCheckpointError(f"unexpected key {raw_key!r} in a Hugging Face DINOv2 state dict")
        layer, rest = int(match.group(1)), match.group(2)
        attn = re.match(r"^attention\.attention\.(query|key|value)\.(weight|bias)$", rest)
        if attn is not None:
            qkv.setdefault((layer, attn.group(2)), {})[attn.group(1)] = value
            continue
        for old, new in _HF_LAYER_RENAMES.items():
            if rest.startswith(old):
                out[f"blocks.{layer}.{new}{rest[len(old) :]}"] = value
                break
        else:
            raise MapaCheckpointError(f"unexpected key {raw_key!r} in a Hugging Face DINOv2 state dict")
    for (layer, kind), parts in sorted(qkv.items()):
        absent = [p for p in ("query", "key", "value") if p not in parts]
        if absent:
            raise MapaCheckpointError(
                f"Hugging Face DINOv2 layer {layer}: attention {kind} lacks {', '.join(absent)}"
            )
        out[f"blocks.{layer}.attn.qkv.{kind}"] = torch.cat([parts["query"], parts["key"], parts["value"]])
    return out


def dinov2_cache_path(name: str) -> Path:
    """Where torch hub caches `name` (e.g. "dinov2_vitg14") weights: `<hub dir>/checkpoints/<name>_pretrain.pth`."""
    return Path(torch.hub.get_dir()) / "checkpoints" / f"{name}_pretrain.pth"


def _dinov2_file(path: str | Path | None, name: str) -> Path:
    """An explicit path, else the torch-hub cache, else the Hugging Face cache of the matching repo."""
    if path is not None:
        return Path(path)
    hub_path = dinov2_cache_path(name)
    if hub_path.is_file():
        return hub_path
    repo = DINOV2_HUB_REPOS.get(name)
    try:
        hf_path = find_in_hf_cache(HubFile(repo, HF_WEIGHTS_NAME)) if repo is not None else None
    except MapaMissingDependencyError as exc:
        raise MapaWeightsNotFoundError(
            f"DINOv2 weights {name!r} not found in the torch-hub cache {hub_path}, and {exc}"
        ) from exc
    if hf_path is not None:
        return hf_path
    hf_hint = f" nor {_hub_hint((HubFile(repo, HF_WEIGHTS_NAME),))}" if repo is not None else ""
    raise MapaWeightsNotFoundError(
        f"DINOv2 weights {name!r} not found in the torch-hub cache {hub_path}{hf_hint} "
        f"(download {DINOV2_URL.format(name=name)} and pass its path)"
    )


def read_dinov2_checkpoint(path: str | Path, name: str = "dinov2_vitl14") -> StateDict:
    """DINOv2 weights under torch-hub names, from a torch-hub `.pth` or a Hugging Face `model.safetensors`."""
    raw = read_checkpoint(path, f"download {DINOV2_URL.format(name=name)} and pass its path")
    return map_hf_dinov2_to_hub(raw) if is_hf_dinov2_layout(raw) else raw


def init_encoder_from_dinov2(
    encoder: nn.Module, path: str | Path | None = None, name: str = "dinov2_vitl14"
) -> LoadReport:
    """Fill a `VisionTransformer` from DINOv2 weights (local file, else the torch-hub cache, else the Hugging Face
    cache); every encoder tensor must be filled (blocks beyond the kept ones and an Identity norm's weights are
    dropped first)."""
    file = _dinov2_file(path, name)
    raw = read_dinov2_checkpoint(file, name)
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
    raw = read_dinov2_checkpoint(file, name)
    mapped = map_dinov2_to_info_sharing(raw, first_block, len(info_sharing.self_attention_blocks))
    report = load_state_dict_with_report(info_sharing, mapped, strict=False, source=str(file))
    allowed = ("view_pos_table", "proj_embed.")
    report.missing = [k for k in report.missing if not k.startswith(allowed)]
    if not report.ok:
        raise MapaCheckpointError(
            f"DINOv2 init of the multi-view transformer from {file} failed: {report.summary()}"
        )
    return report
