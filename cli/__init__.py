"""Command-line front ends: `wai` (data side) and `mapa-train` (models and prediction stages).

Thin wrappers over library calls."""
