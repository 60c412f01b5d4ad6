"""The loader's image shrinking filters against the reference's (PIL Lanczos): fidelity, aliasing and speed.

    python benchmarks/bench_resize_filters.py [--images 'GLOB'] [--scales 0.695,0.55,0.51,0.45,0.35]

For each shrink factor it prints, per cv2 filter (area, linear, lanczos4):

- PSNR against PIL's Lanczos resize (what the reference loader uses) over real photos, mean over the images;
- the amplitude left by a cosine grating above the new Nyquist frequency, as a fraction of its input amplitude
  (0 is a perfect low-pass; what is left folds back as a false, lower frequency), PIL Lanczos as the baseline;
- the time of one 768x576 resize, as a ratio to INTER_AREA's.

`mapa_train.data.crop.AUTO_LINEAR_MIN_SCALE` (the "auto" switch from bilinear to area) comes from this table.
"""

from __future__ import annotations

import argparse
import glob
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

FILTERS = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "lanczos4": cv2.INTER_LANCZOS4}
DEFAULT_IMAGES = str(Path(__file__).resolve().parents[1].parent / "shared/realdata/*/images/*.jpg")


def pil_lanczos(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-12))


def scaled(image: np.ndarray, scale: float) -> tuple[int, int]:
    return round(image.shape[1] * scale), round(image.shape[0] * scale)


def fidelity(images: list[np.ndarray], scale: float) -> dict[str, float]:
    out = {}
    for name, flag in FILTERS.items():
        values = []
        for image in images:
            size = scaled(image, scale)
            values.append(psnr(cv2.resize(image, size, interpolation=flag), pil_lanczos(image, size)))
        out[name] = float(np.mean(values))
    return out


def alias_amplitude(scale: float, frequency: float, width: int = 768) -> dict[str, float]:
    """Amplitude left of a horizontal cosine of `frequency` cycles per source pixel, per filter."""
    x = np.arange(width)
    row = np.clip(128 + 100 * np.cos(2 * np.pi * frequency * x + 0.3), 0, 255)
    image = np.repeat(row[None, :, None], 3, axis=2).repeat(32, axis=0).astype(np.uint8)
    size = (round(width * scale), 32)
    results = {name: cv2.resize(image, size, interpolation=flag) for name, flag in FILTERS.items()}
    results["PIL lanczos"] = pil_lanczos(image, size)
    return {
        name: float(out[16, 8:-8, 0].astype(np.float64).std() * np.sqrt(2) / 100)
        for name, out in results.items()
    }


def speed(scale: float, repeats: int = 20) -> dict[str, float]:
    image = np.random.default_rng(0).integers(0, 256, (576, 768, 3), dtype=np.uint8)
    size = scaled(image, scale)
    seconds = {}
    for name, flag in FILTERS.items():
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                cv2.resize(image, size, interpolation=flag)
            best = min(best, (time.perf_counter() - start) / repeats)
        seconds[name] = best
    return {name: value / seconds["area"] for name, value in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", default=DEFAULT_IMAGES, help="glob of real photos")
    parser.add_argument("--scales", default="0.695,0.55,0.51,0.45,0.35")
    parser.add_argument("--max-images", type=int, default=24)
    args = parser.parse_args()
    files = sorted(glob.glob(args.images))
    if not files:
        raise SystemExit(f"no images match {args.images!r}; pass --images")
    step = max(1, len(files) // args.max_images)
    images = [cv2.cvtColor(cv2.imread(f), cv2.COLOR_BGR2RGB) for f in files[::step][: args.max_images]]
    print(f"{len(images)} photos from {args.images}")
    for scale in (float(s) for s in args.scales.split(",")):
        nyquist = scale / 2
        print(f"\nscale {scale} (new Nyquist {nyquist:.3f} cycles per source pixel)")
        print(
            "  PSNR vs PIL Lanczos (dB): "
            + "  ".join(f"{k} {v:.1f}" for k, v in fidelity(images, scale).items())
        )
        print("  time vs area:             " + "  ".join(f"{k} {v:.2f}" for k, v in speed(scale).items()))
        for frequency in (nyquist + 0.02, (nyquist + 0.5) / 2, 0.49):
            amp = alias_amplitude(scale, frequency)
            print(
                f"  grating {frequency:.2f} amplitude left: "
                + "  ".join(f"{k} {v:.2f}" for k, v in amp.items())
            )


if __name__ == "__main__":
    main()
