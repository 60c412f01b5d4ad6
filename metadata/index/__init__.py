"""The parquet index of datasets, scenes and frames (`wai index`): build with `build_index`, query with
`open_index(META).scenes(...)` / `.frames(...)`."""

from metadata.index.build import IndexReport, build_index, read_manifest
from metadata.index.graph_stats import GraphStats, covisibility_stats
from metadata.index.query import Index, open_index

__all__ = [
    "GraphStats",
    "Index",
    "IndexReport",
    "build_index",
    "covisibility_stats",
    "open_index",
    "read_manifest",
]
