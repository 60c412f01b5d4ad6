"""Command-line front ends: `wai` (data side) and `mapa-train` (trainer). Thin wrappers over library calls."""
