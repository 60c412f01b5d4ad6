"""An estimate of a run's peak GPU memory per process, printed at start-up, and the measurement it is checked
against.

Static part (exact, from the model's own parameters): fp32 weights, one gradient per trainable value, AdamW's two
fp32 moments per trainable value, and with more than one process DDP's gradient buckets (one more copy of the
trainable gradients; DDP's default `gradient_as_bucket_view=False`). Weights stay fp32 under bf16 autocast, so
there is no separate master copy.

Activation part (MapAnything only; a formula in the model config's numbers): for the worst batch the sampler can
draw (the view count whose sets x views is largest, at the largest resolution of the set),

    encoder      images x blocks x tokens x C_enc x (HELD + BLOCK[dtype, ffn] unless checkpointed)
    info_sharing images x layers x tokens x D     x (HELD + BLOCK[dtype, ffn] unless checkpointed)
    pred_head    images x pixels x feature_dim x HEAD (unless checkpointed)
                 + images x (4 x tokens x D x HELD + pixels x (PIXEL + PIXEL_PER_FEATURE x feature_dim))

and, for every checkpointed part, the largest segment it recomputes in the backward pass (one block over all
images, or one head chunk of one view). The per-element constants are bytes fitted to what autograd saves for the
backward pass of the tiny and mid MapAnything on CPU (`saved_activation_bytes`, which also counts the inputs that
non-reentrant checkpoints hold), fp32 at 56x42..224x168 and bf16 at 518x392, with every checkpointing combination
(`benchmarks/bench_memory_estimate.py` prints the ratios). The loss's own saved
tensors, allocator fragmentation, cuDNN/cuBLAS workspaces and the CUDA context are not included.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from omegaconf import DictConfig
from torch import nn

from mapa_train.train.summary import sets_per_gpu

GIB = 2**30


def _size(nbytes: float) -> str:
    """GiB with one decimal, or MiB below 1 GiB (the tiny models)."""
    return f"{nbytes / GIB:.1f} GiB" if nbytes >= GIB else f"{nbytes / 2**20:.1f} MiB"


#: Bytes per token x channel that a transformer block saves for backward beyond its input, by (dtype, FFN kind).
#: fp32 is 79 at every size measured; under bf16 autocast the CPU figure falls with the token count (its attention
#: kernel changes) and is taken at the training resolution (518x392, 1,036 tokens), where flash attention also runs.
BLOCK_BYTES = {
    ("fp32", "mlp"): 79.0,
    ("fp32", "swiglufused"): 79.0,
    ("bf16", "mlp"): 51.0,
    ("bf16", "swiglufused"): 46.0,
}
#: Bytes per token x channel a checkpointed block still holds: its fp32 input (the residual stream stays fp32).
HELD_BYTES = 4.0
#: Bytes per pixel x DPT feature channel that the head (run in fp32) saves and checkpointing removes.
HEAD_BYTES_PER_FEATURE = 9.1
#: Bytes per pixel saved whatever the flags (output maps, full-resolution resize, image inputs): a + b x feature_dim.
PIXEL_BYTES = 129.0
PIXEL_BYTES_PER_FEATURE = 0.47


@dataclass(frozen=True)
class MemoryEstimate:
    """One estimate, in bytes. `saved` is what autograd keeps between forward and backward; `recompute` the largest
    checkpointed segment rebuilt during backward. Activations are None for model families without a formula."""

    weights: int
    grads: int
    optimizer: int
    ddp_buckets: int
    saved: float | None
    recompute: float | None
    images: int
    views: int
    width: int
    height: int
    dtype: str
    checkpointing: tuple[str, ...]

    @property
    def static(self) -> int:
        return self.weights + self.grads + self.optimizer + self.ddp_buckets

    @property
    def activations(self) -> float | None:
        return None if self.saved is None else self.saved + (self.recompute or 0.0)

    @property
    def total(self) -> float:
        return self.static + (self.activations or 0.0)

    def line(self) -> str:
        """The start-up line."""
        ckpt = ", ".join(self.checkpointing) or "none"
        batch = f"{self.images // self.views} x {self.views} views at {self.width}x{self.height}"
        if self.activations is None:
            return (
                f"estimated memory per GPU: {_size(self.static)} for weights+grads+optimizer; activations "
                f"are not estimated for this model family ({batch}, {self.dtype})"
            )
        return (
            f"estimated peak memory per GPU: {_size(self.total)} (weights+grads+optimizer "
            f"{_size(self.static)}, activations {_size(self.activations)} for {batch}, {self.dtype}, "
            f"checkpointing: {ckpt}); an estimate, not a measurement"
        )


def static_bytes(model: nn.Module, world: int = 1) -> dict[str, int]:
    """Weights, gradients (trainable values), AdamW moments and DDP buckets of `model` as it will be trained."""
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    grads = sum(p.numel() * p.element_size() for p in trainable)
    return {
        "weights": sum(p.numel() * p.element_size() for p in params),
        "grads": grads,
        "optimizer": 2 * sum(p.numel() * 4 for p in trainable),  # exp_avg, exp_avg_sq (fp32 for fp32 weights)
        "ddp_buckets": grads if world > 1 else 0,
    }


def worst_batch(ipg: int, view_counts: tuple[int, ...]) -> tuple[int, int]:
    """(images, views) of the largest batch the sampler can draw: max over N of max(1, ipg // N) x N."""
    return max((sets_per_gpu(ipg, n) * n, n) for n in view_counts)


def mapanything_activation_bytes(
    config: Any,
    images: int,
    views: int,
    width: int,
    height: int,
    bf16: bool,
    encoder: bool = False,
    info_sharing: bool = False,
    pred_head: bool = False,
    frozen: tuple[str, ...] = (),
) -> tuple[float, float]:
    """(saved, recompute) bytes of one training forward of a `MapAnythingConfig` on `images` images of
    width x height (views per set `views`), under bf16 autocast or fp32, with the given checkpointing flags.

    `frozen` names parts ("encoder", "info_sharing") that save nothing because neither they nor anything before
    them needs a gradient (the heads-only fine-tune)."""
    enc, aat, head = config.encoder, config.info_sharing, config.pred_head
    grid = (height // enc.patch_size) * (width // enc.patch_size)
    pixels = height * width
    dtype = "bf16" if bf16 else "fp32"
    enc_depth = enc.keep_first_n_layers or enc.depth
    enc_tokens = images * (grid + 1 + enc.num_register_tokens) * enc.embed_dim  # token x channel values
    aat_tokens = images * (grid + (1 if config.use_register_tokens_from_encoder else 0)) * aat.dim
    enc_block = enc_tokens * BLOCK_BYTES[dtype, enc.ffn]
    aat_block = aat_tokens * BLOCK_BYTES[dtype, aat.ffn]
    head_part = images * pixels * head.feature_dim * HEAD_BYTES_PER_FEATURE
    parts = {  # part -> (checkpointing on, saved plainly, saved checkpointed, largest recomputed segment)
        "encoder": (
            encoder,
            enc_depth * (enc_block + enc_tokens * HELD_BYTES),
            enc_depth * enc_tokens * HELD_BYTES,
            enc_block,
        ),
        "info_sharing": (
            info_sharing,
            aat.depth * (aat_block + aat_tokens * HELD_BYTES),
            aat.depth * aat_tokens * HELD_BYTES,
            aat_block,
        ),
        "pred_head": (
            pred_head,
            head_part,
            0.0,
            head_part / max(1, views),
        ),  # one chunk = one view of every set
    }
    per_pixel = PIXEL_BYTES + PIXEL_BYTES_PER_FEATURE * head.feature_dim
    saved = images * (4 * grid * aat.dim * HELD_BYTES + pixels * per_pixel)
    recompute = 0.0
    for name, (on, plain, checkpointed, segment) in parts.items():
        if name not in frozen:
            saved += checkpointed if on else plain
            recompute = max(recompute, segment if on else 0.0)
    return saved, recompute


def largest_resolution(cfg: DictConfig) -> tuple[int, int]:
    """(W, H) of the training resolution set with the most pixels."""
    from omegaconf import OmegaConf

    from mapa_train.data.resolutions import resolve_resolutions

    value = cfg.dataset.resolution_train
    resolutions = resolve_resolutions(value if isinstance(value, str) else OmegaConf.to_container(value))
    return max(resolutions, key=lambda wh: (wh[0] * wh[1], wh))


def checkpointing_flags(cfg: DictConfig) -> dict[str, bool]:
    """The three gradient-checkpointing switches of a run config."""
    return {
        "encoder": bool(cfg.model.encoder.gradient_checkpointing),
        "info_sharing": bool(cfg.model.info_sharing.module_args.gradient_checkpointing),
        "pred_head": bool(cfg.model.pred_head.gradient_checkpointing),
    }


#: MapAnything's parameters after the image side (the multi-view transformer, then the heads).
_AFTER_ENCODER = ("info_sharing.", "dpt_", "pose_head.", "scale_head.")


def frozen_parts(model: nn.Module) -> tuple[str, ...]:
    """MapAnything parts that save no activations: the image side (encoders, fusion, scale token) when none of it
    is trained, and then the multi-view transformer too when it is not trained either."""
    named = list(model.named_parameters())
    if any(p.requires_grad for n, p in named if not n.startswith(_AFTER_ENCODER)):
        return ()
    if any(p.requires_grad for n, p in named if n.startswith("info_sharing.")):
        return ("encoder",)
    return ("encoder", "info_sharing")


def estimate_memory(
    model: nn.Module, cfg: DictConfig, world: int, view_counts: tuple[int, ...]
) -> MemoryEstimate:
    """The estimate for training `model` (trainable flags already set) as `cfg` describes, on `world` processes."""
    from mapa_train.models.mapanything.config import MapAnythingConfig

    tp = cfg.train_params
    images, views = worst_batch(int(tp.max_num_of_imgs_per_gpu), tuple(view_counts))
    width, height = largest_resolution(cfg)
    bf16 = bool(tp.amp)
    flags = checkpointing_flags(cfg)
    saved = recompute = None
    config = getattr(model, "config", None)
    if isinstance(config, MapAnythingConfig):
        saved, recompute = mapanything_activation_bytes(
            config, images, views, width, height, bf16, **flags, frozen=frozen_parts(model)
        )
    return MemoryEstimate(
        **static_bytes(model, world),
        saved=saved,
        recompute=recompute,
        images=images,
        views=views,
        width=width,
        height=height,
        dtype="bf16" if bf16 else "fp32",
        checkpointing=tuple(name for name, on in flags.items() if on),
    )


def estimate_for_config(cfg: DictConfig, world: int) -> MemoryEstimate:
    """The estimate of a run config without running it: the model is built on the meta device (no memory, no
    weights read), its checkpointing flags and lr-0 freezes applied as the run would."""
    from mapa_train.data.dataset import view_counts
    from mapa_train.models.registry import build_model
    from mapa_train.train.model_setup import model_overrides
    from mapa_train.train.optim import build_param_groups

    model = build_model(cfg.model.name, model_overrides(cfg), device="meta")
    if hasattr(model, "set_gradient_checkpointing"):
        model.set_gradient_checkpointing(**checkpointing_flags(cfg))
    build_param_groups(model, cfg.train_params)
    counts = view_counts(int(cfg.dataset.num_views), bool(cfg.dataset.variable_num_views))
    return estimate_memory(model, cfg, world, counts)


@contextlib.contextmanager
def _count_checkpoint_inputs(note: Callable[[torch.Tensor], None]) -> Iterator[None]:
    """Report the tensor arguments of every non-reentrant checkpoint the models run (held until backward)."""
    from mapa_train.models.blocks import checkpointing

    original = checkpointing.checkpoint

    def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        for arg in args:
            if torch.is_tensor(arg):
                note(arg)
        return original(fn, *args, **kwargs)

    checkpointing.checkpoint = counting
    try:
        yield
    finally:
        checkpointing.checkpoint = original


def saved_activation_bytes(model: nn.Module, forward: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes of distinct tensor storage (parameters excluded) that `forward()` leaves for the backward pass: what
    autograd saves plus the inputs that checkpoints keep for their recomputation. Returns (bytes, forward())."""
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    held: dict[int, int] = {}

    def note(tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key not in params and storage.nbytes() > 0:
            held[key] = max(held.get(key, 0), storage.nbytes())

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        note(tensor)
        return tensor

    with _count_checkpoint_inputs(note), torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = forward()
    return sum(held.values()), result


def oom_message(cfg: DictConfig, views: list[dict[str, Any]], estimate: MemoryEstimate | None) -> str:
    """What an out-of-memory error says: the batch, the knobs that lower the need and their current values."""
    flags = checkpointing_flags(cfg)
    image = views[0].get("img") if views else None
    batch = (
        f"{image.shape[0]} x {len(views)} views at {image.shape[-1]}x{image.shape[-2]}"
        if torch.is_tensor(image)
        else f"{len(views)} views"
    )
    guess = f"; the start-up estimate was {_size(estimate.total)}" if estimate is not None else ""
    return (
        f"out of memory on a batch of {batch}{guess}. Lower train_params.max_num_of_imgs_per_gpu (now "
        f"{int(cfg.train_params.max_num_of_imgs_per_gpu)}) or switch on gradient checkpointing: "
        f"model.encoder.gradient_checkpointing (now {str(flags['encoder']).lower()}), "
        f"model.info_sharing.module_args.gradient_checkpointing (now {str(flags['info_sharing']).lower()}), "
        f"model.pred_head.gradient_checkpointing (now {str(flags['pred_head']).lower()})"
    )
