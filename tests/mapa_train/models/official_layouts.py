"""Official state-dict key names of VGGT, π³ and MoGe-2, written out from the documented layouts (spec §4), for
the key-mapping tests. Independent of our module code: only the documented patterns and the layer counts."""

from __future__ import annotations

from collections.abc import Iterable


def _wb(prefix: str) -> list[str]:
    return [f"{prefix}.weight", f"{prefix}.bias"]


def block_keys(prefix: str, qk_norm: bool = False, layer_scale: bool = True) -> list[str]:
    keys = _wb(f"{prefix}.norm1") + _wb(f"{prefix}.attn.qkv") + _wb(f"{prefix}.attn.proj")
    keys += _wb(f"{prefix}.norm2") + _wb(f"{prefix}.mlp.fc1") + _wb(f"{prefix}.mlp.fc2")
    if qk_norm:
        keys += _wb(f"{prefix}.attn.q_norm") + _wb(f"{prefix}.attn.k_norm")
    if layer_scale:
        keys += [f"{prefix}.ls1.gamma", f"{prefix}.ls2.gamma"]
    return keys


def dinov2_keys(prefix: str, depth: int, registers: bool, mask_token: bool) -> list[str]:
    keys = [
        f"{prefix}.cls_token",
        f"{prefix}.pos_embed",
        *_wb(f"{prefix}.patch_embed.proj"),
        *_wb(f"{prefix}.norm"),
    ]
    keys += [f"{prefix}.register_tokens"] if registers else []
    keys += [f"{prefix}.mask_token"] if mask_token else []
    for i in range(depth):
        keys += block_keys(f"{prefix}.blocks.{i}")
    return keys


def _many(prefixes: Iterable[str]) -> list[str]:
    return [k for p in prefixes for k in _wb(p)]


def _vggt_dpt_keys(head: str, feature_only: bool = False) -> list[str]:
    keys = _wb(f"{head}.norm")
    keys += _many(f"{head}.projects.{k}" for k in range(4))
    keys += _many(f"{head}.resize_layers.{k}" for k in (0, 1, 3))
    keys += [f"{head}.scratch.layer{k}_rn.weight" for k in range(1, 5)]
    for k in range(1, 5):
        units = ("resConfUnit2",) if k == 4 else ("resConfUnit1", "resConfUnit2")
        keys += _many(f"{head}.scratch.refinenet{k}.{u}.{c}" for u in units for c in ("conv1", "conv2"))
        keys += _wb(f"{head}.scratch.refinenet{k}.out_conv")
    keys += _wb(f"{head}.scratch.output_conv1")
    if not feature_only:
        keys += _many([f"{head}.scratch.output_conv2.0", f"{head}.scratch.output_conv2.2"])
    return keys


def _tracker_block_keys(prefix: str, cross: bool) -> list[str]:
    """One update-transformer block: `nn.MultiheadAttention` names under `attn` (self) or `cross_attn`."""
    attn = f"{prefix}.cross_attn" if cross else f"{prefix}.attn"
    norms = ("norm1", "norm_context", "norm2") if cross else ("norm1", "norm2")
    keys = _many(f"{prefix}.{n}" for n in norms)
    keys += [f"{attn}.in_proj_weight", f"{attn}.in_proj_bias", *_wb(f"{attn}.out_proj")]
    return keys + _many([f"{prefix}.mlp.fc1", f"{prefix}.mlp.fc2"])


def vggt_track_head_keys(depth: int, predict_conf: bool = True) -> list[str]:
    """VGGT's `track_head.*`: a feature-only DPT and the tracker with a `depth`-round update transformer."""
    keys = _vggt_dpt_keys("track_head.feature_extractor", feature_only=True)
    t = "track_head.tracker"
    keys += _many([f"{t}.corr_mlp.fc1", f"{t}.corr_mlp.fc2"]) + [f"{t}.query_ref_token"]
    u = f"{t}.updateformer"
    keys += _many(f"{u}.{m}" for m in ("input_norm", "input_transform", "output_norm", "flow_head"))
    keys += [f"{u}.virual_tracks"]  # sic, as in the released checkpoints
    for i in range(depth):
        keys += _tracker_block_keys(f"{u}.time_blocks.{i}", cross=False)
        keys += _tracker_block_keys(f"{u}.space_virtual_blocks.{i}", cross=False)
        keys += _tracker_block_keys(f"{u}.space_point2virtual_blocks.{i}", cross=True)
        keys += _tracker_block_keys(f"{u}.space_virtual2point_blocks.{i}", cross=True)
    keys += _many(f"{t}.{m}" for m in ("fmap_norm", "ffeat_norm", "ffeat_updater.0", "vis_predictor.0"))
    if predict_conf:
        keys += _wb(f"{t}.conf_predictor.0")
    return keys


def vggt_keys(
    encoder_depth: int, depth: int, trunk_depth: int, point_head: bool = True, track_depth: int | None = None
) -> list[str]:
    """VGGT's documented layout; `track_head.*` (with a `track_depth`-round tracker) only when that is given."""
    keys = ["aggregator.camera_token", "aggregator.register_token"]
    keys += dinov2_keys("aggregator.patch_embed", encoder_depth, registers=True, mask_token=True)
    for kind in ("frame", "global"):
        for i in range(depth):
            keys += block_keys(f"aggregator.{kind}_blocks.{i}", qk_norm=True)
    keys += ["camera_head.empty_pose_tokens"]
    for i in range(trunk_depth):
        keys += block_keys(f"camera_head.trunk.{i}")
    keys += _many(
        f"camera_head.{m}" for m in ("token_norm", "trunk_norm", "embed_pose", "poseLN_modulation.1")
    )
    keys += _many(["camera_head.pose_branch.fc1", "camera_head.pose_branch.fc2"])
    for head in ("depth_head", "point_head") if point_head else ("depth_head",):
        keys += _vggt_dpt_keys(head)
    if track_depth is not None:
        keys += vggt_track_head_keys(track_depth)
    return keys


def pi3_keys(encoder_depth: int, depth: int, decoder_depth: int) -> list[str]:
    keys = ["register_token", "image_mean", "image_std"]
    keys += dinov2_keys("encoder", encoder_depth, registers=True, mask_token=False)
    for i in range(depth):
        keys += block_keys(f"decoder.{i}", qk_norm=True)
    for name in ("point_decoder", "conf_decoder", "camera_decoder"):
        keys += _wb(f"{name}.projects") + _wb(f"{name}.linear_out")
        for i in range(decoder_depth):
            keys += block_keys(f"{name}.blocks.{i}", layer_scale=False)
    keys += _wb("point_head.proj") + _wb("conf_head.proj")
    keys += _many(f"camera_head.res_conv.{i}.res_conv{j}" for i in (0, 1) for j in (1, 2, 3))
    keys += _many(f"camera_head.{m}" for m in ("more_mlps.0", "more_mlps.2", "fc_t", "fc_rot"))
    return keys


def _conv_stack_keys(prefix: str, res_blocks: list[int], output_level: int | None) -> list[str]:
    keys = _many(f"{prefix}.input_blocks.{i}" for i in range(5))
    keys += _many(f"{prefix}.resamplers.{i}.{j}" for i in range(3) for j in (0, 1)) + _wb(
        f"{prefix}.resamplers.3.1"
    )
    keys += _many(
        f"{prefix}.res_blocks.{i}.{b}.layers.{j}"
        for i, n in enumerate(res_blocks)
        for b in range(n)
        for j in (2, 5)
    )
    if output_level is not None:
        keys += _wb(f"{prefix}.output_blocks.{output_level}")
    return keys


def moge2_keys(
    encoder_depth: int,
    neck_res: list[int],
    head_res: list[int],
    normal_head: bool,
    buffers: bool = True,
    taps: int = 4,
) -> list[str]:
    keys = ["encoder.image_mean", "encoder.image_std"] if buffers else []
    keys += dinov2_keys("encoder.backbone", encoder_depth, registers=False, mask_token=buffers)
    keys += _many(f"encoder.output_projections.{i}" for i in range(taps))
    keys += _conv_stack_keys("neck", neck_res, None)
    for head in ("points_head", "mask_head", *(("normal_head",) if normal_head else ())):
        keys += _conv_stack_keys(head, head_res, 4)
    keys += _many(f"scale_head.{i}" for i in (0, 2, 4))
    return keys
