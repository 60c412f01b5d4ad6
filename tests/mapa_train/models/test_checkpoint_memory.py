"""Checkpointing of the geometric-input encoders and the whole DPT head: same results, and the parts really
recompute. (That checkpointing cuts activation memory is tested for every model in test_registry_models.py;
`benchmarks/bench_models.py` measures peak memory at real sizes.)"""

from __future__ import annotations

import pytest
import torch

from mapa_train.models.blocks.checkpointing import checkpoint_in_chunks
from mapa_train.models.blocks.dpt_head import DPTRegressionHead
from mapa_train.models.blocks.geometric_encoders import DenseRepresentationEncoder
from mapa_train.models.mapanything.model import MapAnything
from mapa_train.models.mapanything.task import get_task
from mapa_train.models.registry import build_model
from tests.mapa_train.models.conftest import make_views


def _step(model: MapAnything, views: list[dict]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    out = model(views, task=get_task("pass_through"))
    loss = sum(o["pts3d"].square().mean() + o["conf"].mean() + o["metric_scaling_factor"].sum() for o in out)
    loss.backward()
    pts = torch.stack([o["pts3d"].detach() for o in out])
    return pts, {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize(
    "parts",
    [
        {"encoder": True},
        {"pred_head": True},
        {"encoder": True, "info_sharing": True, "pred_head": True},
    ],
    ids=["encoder", "pred_head", "all"],
)
def test_new_checkpointed_paths_give_equal_outputs_and_gradients(parts: dict[str, bool]) -> None:
    torch.manual_seed(0)
    model = build_model("mapanything_tiny")
    views = make_views(
        3, batch=2, height=28, width=70
    )  # all geometric inputs present: dense encoders are used
    model.set_gradient_checkpointing(encoder=False, info_sharing=False, pred_head=False)
    plain_pts, plain = _step(model, views)
    model.set_gradient_checkpointing(**parts)
    ckpt_pts, checkpointed = _step(model, views)
    torch.testing.assert_close(ckpt_pts, plain_pts, atol=1e-6, rtol=1e-5)
    for name, grad in plain.items():
        torch.testing.assert_close(checkpointed[name], grad, atol=1e-6, rtol=1e-5, msg=name)


def _count_calls(module: torch.nn.Module) -> list[int]:
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("enabled", [False, True])
def test_dense_encoders_and_whole_head_recompute_per_view(enabled: bool) -> None:
    torch.manual_seed(0)
    model = build_model("mapanything_tiny")
    model.set_gradient_checkpointing(encoder=enabled, info_sharing=False, pred_head=enabled)
    ray_conv = _count_calls(model.ray_dirs_encoder.conv_in)
    depth_conv = _count_calls(model.depth_encoder.conv_in)
    out_conv = _count_calls(model.dpt_regressor_head.conv2[0])
    num_views = 3
    _step(model, make_views(num_views))
    # Checkpointed: the backward pass runs each part again; the head runs once per view in each pass.
    assert ray_conv[0] == depth_conv[0] == (2 if enabled else 1)
    assert out_conv[0] == (2 * num_views if enabled else 1)


def test_reference_encoder_key_switches_the_dense_encoders() -> None:
    model = build_model("mapanything_tiny", {"model.encoder.gradient_checkpointing": True})
    assert model.ray_dirs_encoder.gradient_checkpointing and model.depth_encoder.gradient_checkpointing
    model.set_gradient_checkpointing(encoder=False)
    assert not (model.ray_dirs_encoder.gradient_checkpointing or model.encoder.model.gradient_checkpointing)


def test_block_level_checkpointing_is_exact() -> None:
    torch.manual_seed(0)
    head = DPTRegressionHead(8, 3)
    encoder = DenseRepresentationEncoder(3, 16, 14, (8, 12, 16))
    features = torch.randn(2, 8, 16, 20, requires_grad=True)
    dense_in = torch.randn(2, 3, 28, 42, requires_grad=True)

    def grads(on: bool) -> list[torch.Tensor]:
        head.gradient_checkpointing = encoder.gradient_checkpointing = on
        for t in (features, dense_in, *head.parameters(), *encoder.parameters()):
            t.grad = None
        (head(features, (30, 44)).square().sum() + encoder(dense_in).square().sum()).backward()
        return [t.grad.clone() for t in (features, dense_in, *head.parameters(), *encoder.parameters())]

    for a, b in zip(grads(False), grads(True), strict=True):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-5)


def test_checkpoint_in_chunks_matches_one_call() -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    x = torch.randn(5, 3, 8, 8, requires_grad=True)
    whole = conv(x)
    chunked = checkpoint_in_chunks(True, conv, [x], chunk_size=2)
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=1e-5)
    (g_whole,) = torch.autograd.grad(whole.sum(), x)
    (g_chunked,) = torch.autograd.grad(chunked.sum(), x)
    torch.testing.assert_close(g_chunked, g_whole, atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        checkpoint_in_chunks(True, conv, [x], chunk_size=0)
