"""The error hierarchy of `mapa_train` (imports nothing heavy, so the CLI can catch it without torch).

Every error raised on a bad model name, config, checkpoint or model input derives from `MapaError`; each subclass
also derives from the matching built-in, so callers that catch `ValueError`, `KeyError` or `FileNotFoundError` keep
working. Problems with a WAI dataset itself (a scene's camera, a frame's image) stay `wai.errors` classes.
"""

from __future__ import annotations


class MapaError(Exception):
    """Base class of every error `mapa_train` raises on bad arguments, configs, weights or inputs."""


class MapaConfigError(MapaError, ValueError):
    """A model config, override, variant setting or run option is invalid."""


class MapaUnknownNameError(MapaConfigError, KeyError):
    """A model, family or task name is not registered."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class MapaInputError(MapaError, ValueError):
    """Views or tensors given to a model lack a key or have the wrong shape or values."""


class MapaCheckpointError(MapaError, ValueError):
    """A weight file cannot be read, or its tensors do not fit the model."""


class MapaWeightsNotFoundError(MapaError, FileNotFoundError):
    """A weight or model-config file does not exist where it was looked for."""


class MapaMissingDependencyError(MapaError, ImportError):
    """An optional package that this operation needs is not installed."""


class MapaDataError(MapaError, ValueError):
    """A training sample cannot be built from a scene (missing modality, bad depth); the message names scene and frame."""


class MapaTrainingError(MapaError, RuntimeError):
    """A training run had to stop (non-finite or exploding loss, out of memory); every rank raises it together."""
