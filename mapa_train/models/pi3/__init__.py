"""π³ (Pi3): permutation-equivariant multi-view reconstruction with no reference view."""
