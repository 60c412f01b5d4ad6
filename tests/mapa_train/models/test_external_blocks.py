"""Blocks added for VGGT, π³ and MoGe-2: 2-D RoPE, grid positions, view-plane coordinates and their embedding."""

from __future__ import annotations

import math

import torch

from mapa_train.models.blocks.rope import RotaryEmbedding2D, grid_positions
from mapa_train.models.blocks.view_plane import add_uv_embedding, sincos_embedding_2d, view_plane_uv


def test_rope_scores_depend_only_on_relative_position() -> None:
    torch.manual_seed(0)
    rope = RotaryEmbedding2D(100.0)
    q, k = torch.randn(1, 2, 1, 16), torch.randn(1, 2, 1, 16)

    def score(pq: tuple[int, int], pk: tuple[int, int]) -> torch.Tensor:
        rq = rope(q, torch.tensor([[pq]]))
        rk = rope(k, torch.tensor([[pk]]))
        return (rq * rk).sum(-1)

    torch.testing.assert_close(score((3, 5), (1, 2)), score((10, 7), (8, 4)), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(score((3, 5), (1, 2)), score((3, 5), (2, 2)))
    # position (0, 0) is the identity and the norm is kept everywhere
    torch.testing.assert_close(rope(q, torch.zeros(1, 1, 2, dtype=torch.long)), q)
    torch.testing.assert_close(rope(q, torch.tensor([[[4, 9]]])).norm(dim=-1), q.norm(dim=-1))


def test_grid_positions_put_special_tokens_at_origin() -> None:
    pos = grid_positions(2, 2, 3, 5, torch.device("cpu"))
    assert tuple(pos.shape) == (2, 5 + 6, 2)
    assert pos[:, :5].abs().sum() == 0
    assert pos[0, 5].tolist() == [1, 1] and pos[0, 7].tolist() == [1, 3] and pos[0, 8].tolist() == [2, 1]


def test_view_plane_uv_has_unit_half_diagonal() -> None:
    uv = view_plane_uv(300, 400)
    assert tuple(uv.shape) == (300, 400, 2)
    # pixel-centre extremes approach the corners of a plane whose half-diagonal is 1
    corner = uv[-1, -1]
    assert math.isclose(corner.norm().item(), 1.0, rel_tol=1e-2)
    torch.testing.assert_close(uv[0, 0], -uv[-1, -1])
    assert math.isclose((uv[0, -1, 0] / uv[-1, 0, 1]).item(), 400 / 300, rel_tol=1e-2)
    # same aspect ratio, different resolution: same span
    assert math.isclose(view_plane_uv(30, 40)[-1, -1].norm().item(), 1.0, rel_tol=0.05)


def test_sincos_embedding_shape_and_scale() -> None:
    uv = view_plane_uv(4, 6)
    emb = sincos_embedding_2d(uv, 16)
    assert tuple(emb.shape) == (4, 6, 16) and bool((emb.abs() <= 1).all())
    x = torch.zeros(2, 16, 4, 6)
    out = add_uv_embedding(x, 56, 84, ratio=0.1)
    torch.testing.assert_close(out[0], 0.1 * emb.permute(2, 0, 1))
