"""The loss terms, one idea per module; `mapa_train.losses.registry` maps term kinds to them."""
