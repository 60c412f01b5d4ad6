"""Turn library errors into one clear line and a non-zero exit status."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

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
