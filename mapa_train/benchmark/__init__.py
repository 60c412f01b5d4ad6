"""`mapa-train benchmark`: the reference's dense N-view benchmark (ETH3D, ScanNet++ v2, TartanAirV2-WB) for any
registered model, with the reference's eight metrics, corrected variants beside them, and deterministic sets.

    from mapa_train.benchmark.runner import BenchmarkConfig, run_benchmark
    result = run_benchmark(BenchmarkConfig(model="vggt_tiny", data=root, out=out, datasets=("synthetic",)))
"""
