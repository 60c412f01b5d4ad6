"""Turn library errors into one clear line and a non-zero exit status."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from mapa_train.errors import MapaError
from wai.errors import WaiError


def report_wai_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a click command so that a `WaiError` prints ``Error: <message>`` and exits with status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except WaiError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


# The packages of the `train` extra that `mapa_train` imports; without them a command says how to install them.
TRAIN_EXTRA = ("torch", "safetensors", "omegaconf", "accelerate")
INSTALL_HINT = "pip install 'wai-toolkit[train]'"


def reports_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a command so that every expected error ends it with one line and a non-zero status: a `MapaError` or
    `WaiError`, or a missing package of the `train` extra (named, with the install command)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MapaError, WaiError) as exc:
            raise click.ClickException(str(exc)) from exc
        except ModuleNotFoundError as exc:
            root = (exc.name or "").split(".")[0]
            if root not in TRAIN_EXTRA:
                raise
            raise click.ClickException(
                f"mapa-train needs the 'train' extra ({root} is not installed): {INSTALL_HINT}"
            ) from exc

    return wrapper
