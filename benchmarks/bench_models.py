"""Forward+backward time and peak activation memory of MapAnything, with and without gradient checkpointing.

    python benchmarks/bench_models.py            # tiny and mid at 4 and 24 views (CPU), plus full V1.1 on CUDA

Peak activation memory is the step's peak minus the memory held before it (model, gradients, inputs), after a
warm-up step: `torch.cuda.max_memory_allocated` on CUDA; on CPU each row runs in a fresh process and reads the
resident high-water mark (see `mapa_train.models.benchmark`). The ratio line compares checkpointing against the
plain run measured in the same invocation (the target at 24 views is ≤ 0.5× peak activation memory).
"""

from __future__ import annotations

import argparse

from mapa_train.models.benchmark import format_result, measure, measure_in_subprocess

SIZES = {"mapanything_tiny": (56, 70), "mapanything_mid": (168, 224)}
TARGET_RATIO = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(SIZES))
    parser.add_argument("--views", nargs="+", type=int, default=[4, 24])
    parser.add_argument(
        "--no-gpu", action="store_true", help="skip the full V1.1 run even when CUDA is available"
    )
    args = parser.parse_args()
    for name in args.models:
        height, width = SIZES.get(name, (168, 224))
        for views in args.views:
            plain = measure_in_subprocess(name, views, height, width, checkpointing=False)
            ckpt = measure_in_subprocess(name, views, height, width, checkpointing=True)
            print(format_result(plain))
            print(format_result(ckpt))
            ratio = ckpt.peak_activation_mib / max(plain.peak_activation_mib, 1e-6)
            target = f" (target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})"
            print(
                f"  ratio ckpt/plain: time {ckpt.step_s / plain.step_s:.2f}x, "
                f"peak activation memory {ratio:.2f}x{target if views >= 24 else ''}"
            )
    if args.no_gpu:
        return
    import importlib

    torch = importlib.import_module("torch")
    if torch.cuda.is_available():
        for checkpointing in (False, True):
            print(
                format_result(
                    measure("mapanything_v1.1", 4, 392, 518, checkpointing, device="cuda", bf16=True)
                )
            )
    else:
        print("CUDA not available: skipping the full V1.1 run (4 views, 518x392, bf16)")


if __name__ == "__main__":
    main()
