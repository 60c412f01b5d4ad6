#!/usr/bin/env bash
# Remakes the README's "Benchmark" table and plot: the tiny models (random weights) on the synthetic dataset's test
# split, 2 to 24 views, 5 sets per scene, at 224x168. Usage: bash docs/benchmark_readme.sh [WORKDIR]
set -euo pipefail
WORK=${1:-/tmp/benchmark_readme}
D=$WORK/data
rm -rf "$WORK" && mkdir -p "$D"
wai convert synthetic --dst "$D/synthetic" --num-scenes 4 --min-frames 24 --max-frames 32
wai covis "$D/synthetic"
printf "objects_001\nroom_000\n" > "$D/test_scenes.txt"
wai splits "$D/synthetic" --dataset synthetic --out "$D/meta" --test-list "$D/test_scenes.txt"
for m in mapanything_tiny vggt_tiny pi3_tiny; do
  mapa-train benchmark --model "$m" --data "$D" --datasets synthetic --metadata "$D/meta" \
    --views 2,4,8,16,24 --sets-per-scene 5 --resolution 224x168 --out "$WORK/$m"
done
mapa-train benchmark plot "$WORK/mapanything_tiny" "$WORK/vggt_tiny" "$WORK/pi3_tiny" --out "$WORK/plots"
cp "$WORK/plots/pointmaps_abs_rel.png" docs/benchmark_pointmaps_abs_rel.png
