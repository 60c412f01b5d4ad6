"""The trainer's data side: WAI scenes to MapAnything training samples, typed mixtures and batch samplers.

Everything here is numpy and imports without torch, except `mapa_train.data.torch_dataset` (the DataLoader glue).

    from mapa_train.data.mixtures import named_mixture
    from mapa_train.data.dataset import MixedDataset
    from mapa_train.data.sampler import DynamicBatchSampler
"""
