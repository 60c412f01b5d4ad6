"""The start-up memory estimate's activation part against what autograd actually saves, on CPU.

    python benchmarks/bench_memory_estimate.py                 # tiny and mid, 2 and 4 views, every flag set
    python benchmarks/bench_memory_estimate.py --models mapanything_mid --views 2 --sizes 518x392 --dtypes bf16

For each model, view count, resolution, dtype and checkpointing combination it runs one training forward
(images-only task, batch 1 per view) and prints the bytes saved for backward (`saved_activation_bytes`: saved
tensors plus checkpoint-held inputs, parameters excluded) next to `mapanything_activation_bytes`'s `saved` part,
and the ratio estimate / measurement. The GPU peak also holds the recomputed segment and the backward's transients.
"""

from __future__ import annotations

import argparse
import itertools

import torch

from mapa_train.models.mapanything.task import get_task
from mapa_train.models.registry import build_model
from mapa_train.train.memory import mapanything_activation_bytes, saved_activation_bytes

SIZES = {"mapanything_tiny": [(56, 42), (112, 84)], "mapanything_mid": [(154, 112), (224, 168)]}


def measure(model, views: int, width: int, height: int, bf16: bool) -> int:
    """Bytes one forward (and its tiny loss) saves for backward."""
    images = [{"img": torch.randn(1, 3, height, width)} for _ in range(views)]

    def forward() -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(images, task=get_task("images_only"))
        return sum(o["pts3d"].float().square().mean() for o in out)

    saved, _ = saved_activation_bytes(model, forward)
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(SIZES))
    parser.add_argument("--views", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--dtypes", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--sizes", nargs="+", default=None, help="WxH sizes (default: two per model)")
    args = parser.parse_args()
    ratios = []
    for name in args.models:
        torch.manual_seed(0)
        model = build_model(name).train()
        sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes] if args.sizes else SIZES[name]
        for views, (width, height), dtype in itertools.product(args.views, sizes, args.dtypes):
            for flags in itertools.product((False, True), repeat=3):
                model.set_gradient_checkpointing(*flags)
                bf16 = dtype == "bf16"
                measured = measure(model, views, width, height, bf16)
                estimate, _ = mapanything_activation_bytes(
                    model.config, views, views, width, height, bf16, *flags
                )
                ratio = estimate / measured
                ratios.append(ratio)
                on = "".join("EIP"[i] if f else "-" for i, f in enumerate(flags))
                print(
                    f"{name:17s} {views:2d}v {width}x{height} {dtype} ckpt {on}: measured "
                    f"{measured / 2**20:8.2f} MiB, estimate {estimate / 2**20:8.2f} MiB, ratio {ratio:.2f}",
                    flush=True,
                )
    print(f"estimate / measurement over {len(ratios)} rows: min {min(ratios):.2f}, max {max(ratios):.2f}")


if __name__ == "__main__":
    main()
