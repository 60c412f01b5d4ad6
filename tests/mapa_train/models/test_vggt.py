"""VGGT specifics: pose encoding conventions, first-frame tokens, native predictions, the wrapper's geometry, and
the track head (shapes, gradients, checkpointing, its attention, sampling, embeddings and correlation window)."""

from __future__ import annotations

import math

import pytest
import torch

from mapa_train.errors import MapaInputError
from mapa_train.models.geometry import fov_from_focal, quat_to_rotmat, rotmat_to_quat
from mapa_train.models.registry import build_model
from mapa_train.models.vggt.aggregator import first_frame_tokens
from mapa_train.models.vggt.camera_head import pose_encoding_to_extrinsics_intrinsics
from mapa_train.models.vggt.track_attention import PackedAttention
from mapa_train.models.vggt.track_sampling import (
    CorrelationPyramid,
    grid_sincos_embedding,
    motion_embedding,
    sample_points,
)


def test_pose_encoding_to_camera() -> None:
    q, _ = torch.linalg.qr(torch.randn(3, 3))
    rot = q * torch.sign(torch.linalg.det(q))
    quat = rotmat_to_quat(rot)
    encoding = torch.cat(
        [
            torch.tensor([0.1, -0.2, 0.3]),
            quat,
            torch.tensor([fov_from_focal(300.0, 480), fov_from_focal(320.0, 640)]),
        ]
    )
    extrinsics, intrinsics = pose_encoding_to_extrinsics_intrinsics(encoding[None], 480, 640)
    torch.testing.assert_close(extrinsics[0, :, :3], rot, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(extrinsics[0, :, 3], torch.tensor([0.1, -0.2, 0.3]))
    expected = torch.tensor([[320.0, 0, 320], [0, 300.0, 240], [0, 0, 1]])
    torch.testing.assert_close(intrinsics[0], expected, atol=1e-3, rtol=1e-5)


def test_first_frame_gets_its_own_tokens() -> None:
    param = torch.stack([torch.zeros(1, 4), torch.ones(1, 4)])[None]  # (1, 2, 1, 4)
    tokens = first_frame_tokens(param, batch=2, views=3)
    assert tuple(tokens.shape) == (2, 3, 1, 4)
    assert tokens[:, 0].abs().sum() == 0 and bool((tokens[:, 1:] == 1).all())
    assert tuple(first_frame_tokens(param, 1, 1).shape) == (1, 1, 1, 4)


def test_native_predictions() -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny").eval()
    with torch.no_grad():
        pred = model.predict(torch.rand(2, 3, 3, 28, 42))
    assert len(pred["pose_enc_list"]) == model.config.pred_head.camera_iterations
    assert tuple(pred["pose_enc"].shape) == (2, 3, 9) and bool((pred["pose_enc"][..., 7:] >= 0).all())
    assert tuple(pred["depth"].shape) == (2, 3, 28, 42, 1) and bool((pred["depth"] > 0).all())
    assert tuple(pred["world_points"].shape) == (2, 3, 28, 42, 3)
    assert bool((pred["depth_conf"] >= 1).all()) and bool((pred["world_points_conf"] >= 1).all())


def test_wrapper_world_points_follow_the_predicted_pose() -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny").eval()
    with torch.no_grad():
        out = model([{"img": torch.rand(1, 3, 28, 42)} for _ in range(2)])
    for o in out:
        rot = quat_to_rotmat(o["cam_quats"])
        world = torch.einsum("bij,bhwj->bhwi", rot, o["pts3d_cam"]) + o["cam_trans"][:, None, None]
        torch.testing.assert_close(o["pts3d"], world, atol=1e-4, rtol=1e-4)
        # z-depth and range agree through the unit rays
        torch.testing.assert_close(o["depth_z"], o["depth_along_ray"] * o["ray_directions"][..., 2:3])
        k = o["intrinsics"][0]
        assert math.isclose(k[0, 2].item(), 21.0) and math.isclose(k[1, 2].item(), 14.0)


# --- track head ---------------------------------------------------------------------------------------------


def _queries(batch: int, tracks: int, height: int, width: int) -> torch.Tensor:
    return torch.rand(batch, tracks, 2) * torch.tensor([width - 1.0, height - 1.0])


@pytest.mark.parametrize(("views", "height", "width"), [(1, 28, 42), (3, 42, 28)])
def test_track_forward_backward(views: int, height: int, width: int) -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny")
    query = _queries(2, 5, height, width)
    out = model.track(torch.rand(2, views, 3, height, width), query)
    assert tuple(out["tracks"].shape) == (2, views, 5, 2)
    assert len(out["track_list"]) == model.config.pred_head.track.iterations
    assert out["track_list"][-1] is out["tracks"]
    torch.testing.assert_close(out["tracks"][:, 0], query)  # the query view keeps its points
    for key in ("visibility", "track_conf"):
        assert tuple(out[key].shape) == (2, views, 5)
        assert bool(((out[key] > 0) & (out[key] < 1)).all())
    loss = sum(t.sum() for t in out["track_list"]) + out["visibility"].sum() + out["track_conf"].sum()
    loss.backward()
    named = dict(model.named_parameters())
    learns = [k for k in named if k.startswith("track_head.")]
    if views > 1:  # with one view nothing moves, so the coordinate branch gets no signal from it alone
        for key in learns:
            assert named[key].grad is not None and bool(named[key].grad.abs().sum() > 0), key
    assert named["aggregator.frame_blocks.0.attn.qkv.weight"].grad is not None


def test_track_logits_and_predict_agree() -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny").eval()
    images, query = torch.rand(1, 2, 3, 28, 42), _queries(1, 4, 28, 42)
    with torch.no_grad():
        probs = model.track(images, query)
        logits = model.track(images, query, logits=True)
        pred = model.predict(images, query_points=query)
        short = model.track(images, query, iterations=1)
    torch.testing.assert_close(torch.sigmoid(logits["visibility"]), probs["visibility"])
    torch.testing.assert_close(torch.sigmoid(logits["track_conf"]), probs["track_conf"])
    torch.testing.assert_close(pred["tracks"], probs["tracks"])
    torch.testing.assert_close(pred["visibility"], probs["visibility"])
    torch.testing.assert_close(short["tracks"], probs["track_list"][0])


def test_track_feature_maps_are_half_resolution() -> None:
    model = build_model("vggt_tiny")
    tokens = model.aggregator(torch.rand(1, 2, 3, 28, 42), set(model.config.pred_head.dpt_layers))
    tapped = [tokens[i] for i in model.config.pred_head.dpt_layers]
    fmaps = model.track_head.feature_extractor(tapped, model.aggregator.patch_start_idx, (28, 42), 14)
    assert tuple(fmaps.shape) == (2, model.config.pred_head.track.features, 14, 21)


def test_track_head_checkpointing_gives_equal_gradients() -> None:
    torch.manual_seed(0)
    model = build_model("vggt_tiny")
    images, query = torch.rand(1, 3, 3, 28, 42), _queries(1, 3, 28, 42)

    def grads() -> dict[str, torch.Tensor]:
        model.zero_grad()
        out = model.track(images, query)
        (out["tracks"].sum() + out["visibility"].sum()).backward()
        return {n: p.grad.clone() for n, p in model.track_head.named_parameters() if p.grad is not None}

    plain = grads()
    model.set_gradient_checkpointing(pred_head=True)
    assert model.track_head.tracker.updateformer.gradient_checkpointing
    checkpointed = grads()
    assert plain.keys() == checkpointed.keys() and plain
    for key, grad in plain.items():
        torch.testing.assert_close(checkpointed[key], grad, atol=1e-6, rtol=1e-5, msg=key)


def test_track_input_errors() -> None:
    model = build_model("vggt_tiny")
    images = torch.rand(1, 2, 3, 28, 42)
    with pytest.raises(MapaInputError, match=r"query_points must be \(B=1, N, 2\)"):
        model.track(images, torch.rand(2, 3, 2))
    with pytest.raises(MapaInputError, match="at least one refinement pass"):
        model.track(images, torch.rand(1, 3, 2), iterations=0)
    with pytest.raises(MapaInputError, match="cannot halve feature maps"):
        build_model("vggt_tiny", {"pred_head.track.corr_levels": 6}).track(images, torch.rand(1, 3, 2))
    without = build_model("vggt_tiny", {"pred_head.track_head": False})
    assert not any(k.startswith("track_head.") for k in without.state_dict())
    with pytest.raises(MapaInputError, match="without a track head"):
        without.track(images, torch.rand(1, 3, 2))


def test_packed_attention_matches_torch_multihead_attention() -> None:
    torch.manual_seed(0)
    ours = PackedAttention(16, 4)
    reference = torch.nn.MultiheadAttention(16, 4, batch_first=True)
    reference.load_state_dict(ours.state_dict())  # same parameter names and shapes
    x, context = torch.randn(3, 5, 16), torch.randn(3, 7, 16)
    torch.testing.assert_close(ours(x), reference(x, x, x)[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours(x, context), reference(x, context, context)[0], atol=1e-5, rtol=1e-5)


def test_sampling_reads_cells_and_interpolates() -> None:
    maps = torch.arange(12.0).reshape(1, 1, 3, 4)  # value = 4·y + x
    points = torch.tensor([[[0.0, 0.0], [3.0, 2.0], [1.5, 0.5], [9.0, 1.0]]])
    values = sample_points(maps, points)[0, :, 0]
    torch.testing.assert_close(values, torch.tensor([0.0, 11.0, 3.5, 7.0]))  # last: border-clamped x


def test_grid_embedding_closed_form() -> None:
    emb = grid_sincos_embedding(8, 3, 5)  # quarter = 2 frequencies: 1 and 1/100
    x, y = 4.0, 2.0
    omega = torch.tensor([1.0, 0.01])
    expected = torch.cat([(x * omega).sin(), (x * omega).cos(), (y * omega).sin(), (y * omega).cos()])
    torch.testing.assert_close(emb[0, :, 2, 4], expected)
    flows = torch.tensor([[0.5, -1.0]])
    motion = motion_embedding(flows, 4)  # frequencies 0 and 500
    expected = torch.tensor(
        [0.0, 1.0, math.sin(250.0), math.cos(250.0), 0.0, 1.0, -math.sin(500.0), math.cos(500.0)]
    )
    torch.testing.assert_close(motion[0], expected)


def test_correlation_window_peaks_at_the_matching_cell() -> None:
    # one-hot features: cell (x=5, y=3) of frame 1 carries channel 0; correlation with a channel-0 query feature is
    # 1/sqrt(C) there and 0 elsewhere, so the window around (x=4, y=3) peaks at the +1 x offset
    channels, radius = 4, 1
    fmaps = torch.zeros(1, 2, channels, 8, 8)
    fmaps[0, 1, 0, 3, 5] = 1.0
    pyramid = CorrelationPyramid(fmaps, levels=2, radius=radius)
    assert pyramid.channels == 2 * 9
    features = torch.zeros(1, 2, 1, channels)
    features[..., 0] = 1.0
    coords = torch.tensor([4.0, 3.0]).expand(1, 2, 1, 2)
    corr = pyramid.sample(features, coords)[0, 1, 0]
    level0 = corr[:9].reshape(3, 3)  # [x offset, y offset]
    expected = torch.zeros(3, 3)
    expected[2, 1] = 1.0 / math.sqrt(channels)
    torch.testing.assert_close(level0, expected)
    assert corr[:9].abs().sum() > 0 and bool((pyramid.sample(features, coords)[0, 0] == 0).all())
