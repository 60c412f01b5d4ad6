"""The dynamic batch sampler: batch-size arithmetic, identical order on every rank, disjoint round-robin shards,
seed reproducibility, token budget, and mid-epoch resume; the validation sampler."""

from __future__ import annotations

import pytest

from mapa_train.data.resolutions import RES_518_MANY_AR
from mapa_train.data.sampler import DynamicBatchSampler, ValidationSampler, validation_batch_size
from mapa_train.errors import MapaConfigError


def sampler(**kwargs) -> DynamicBatchSampler:
    defaults = dict(resolutions=RES_518_MANY_AR, view_counts=[2, 3, 4], ipg=36, seed=1)
    defaults.update(kwargs)
    size = defaults.pop("size", 1000)
    return DynamicBatchSampler(size, **defaults)


def test_batch_size_arithmetic_and_length() -> None:
    s = sampler()
    assert [s.batch_size(0, k) for k in range(3)] == [18, 12, 9]
    assert s.max_batch_size == 18 and len(s) == 1000 // 18
    assert len(sampler(world_size=4)) == (1000 // 18) // 4
    mono = sampler(view_counts=[1], ipg=48)
    assert mono.batch_size(0, 0) == 48
    assert sampler(view_counts=[24], ipg=12).batch_size(0, 0) == 1  # max(1, ipg // N)
    assert validation_batch_size(36, 4) == 18 and validation_batch_size(36, 24) == 2


def test_every_batch_has_one_aspect_ratio_and_view_count() -> None:
    s = sampler()
    s.set_epoch(0)
    batches = list(s)
    assert len(batches) == len(s)
    seen = set()
    for batch in batches:
        ars, nvs = {b[1] for b in batch}, {b[2] for b in batch}
        assert len(ars) == 1 and len(nvs) == 1
        assert len(batch) == s.batch_size(ars.pop(), nv := nvs.pop())
        seen.add(nv)
        assert all(0 <= b[0] < 1000 for b in batch)
    assert seen == {0, 1, 2}
    flat = [b[0] for batch in batches for b in batch]
    assert len(flat) == len(set(flat))  # each virtual sample at most once per epoch


def test_ranks_share_the_order_and_take_disjoint_round_robin_shards() -> None:
    world = 3
    ranks = [sampler(world_size=world, rank=r) for r in range(world)]
    for r in ranks:
        r.set_epoch(2)
    shards = [list(r) for r in ranks]
    assert len({len(s) for s in shards}) == 1
    global_order = list(sampler().global_batches(2))
    for r, shard in enumerate(shards):
        assert shard == global_order[r::world][: len(shard)]
    ids = [{b[0] for batch in shard for b in batch} for shard in shards]
    assert not (ids[0] & ids[1]) and not (ids[1] & ids[2]) and not (ids[0] & ids[2])


def test_seed_and_epoch_change_the_order_reproducibly() -> None:
    def run(seed: int, epoch: int) -> list:
        s = sampler(seed=seed)
        s.set_epoch(epoch)
        return list(s)

    assert run(1, 0) == run(1, 0)
    assert run(1, 0) != run(2, 0)  # the reference ignores the run seed; we do not
    assert run(1, 0) != run(1, 1)


def test_resume_from_a_saved_position_gives_the_remaining_batches() -> None:
    s = sampler(world_size=2, rank=1)
    s.set_epoch(3)
    full = list(s)
    s = sampler(world_size=2, rank=1)
    s.set_epoch(3)
    it = iter(s)
    head = [next(it) for _ in range(7)]
    state = s.state_dict()
    assert state == {"epoch": 3, "position": 7, "seed": 1}
    resumed = sampler(world_size=2, rank=1)
    resumed.load_state_dict(state)
    resumed.set_epoch(3)
    assert head + list(resumed) == full
    # The next epoch starts at its beginning again.
    resumed.set_epoch(4)
    assert len(list(resumed)) == len(full)
    # A DataLoader prefetches: the trainer passes what the step consumed.
    assert s.state_dict(position=5)["position"] == 5
    with pytest.raises(MapaConfigError, match="seed"):
        sampler(seed=9).load_state_dict(state)


def test_token_budget_keeps_batches_even() -> None:
    s = sampler(token_budget=36 * 37 * 37, view_counts=list(range(2, 25)), ipg=36)
    s.set_epoch(0)
    for batch in list(s)[:50]:
        ar, nv = batch[0][1], batch[0][2]
        w, h = RES_518_MANY_AR[ar]
        tokens = len(batch) * (nv + 2) * (w // 14) * (h // 14)
        assert tokens <= 36 * 37 * 37 or len(batch) == 1
        # Adding one more set would exceed the budget.
        assert tokens + (nv + 2) * (w // 14) * (h // 14) > 36 * 37 * 37


def test_drop_last_false_shrinks_the_final_batch() -> None:
    s = sampler(size=40, view_counts=[2], ipg=36, drop_last=False)
    batches = list(s.global_batches(0))
    assert [len(b) for b in batches] == [18, 18, 4]
    assert [len(b) for b in sampler(size=40, view_counts=[2], ipg=36).global_batches(0)] == [18, 18]


def test_validation_sampler_shards_like_distributed_sampler() -> None:
    shards = [list(ValidationSampler(10, 2, world_size=3, rank=r)) for r in range(3)]
    assert shards[0] == [[0, 3], [6, 9]] and shards[1] == [[1, 4], [7, 0]] and shards[2] == [[2, 5], [8, 1]]
    assert len(ValidationSampler(10, 4)) == 3
