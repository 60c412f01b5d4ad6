"""Shared building blocks of MapAnything, VGGT, π³ and MoGe-2: one module per idea."""
