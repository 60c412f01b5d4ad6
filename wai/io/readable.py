"""`readable`: JSON and YAML documents, as the reference reads and writes them.

JSON is written UTF-8 with 2-space indentation (the reference's layout), YAML in block style; both keep key order.
NumPy scalars and arrays in the data are written as plain numbers and lists. NaN and infinity are refused, since
strict JSON readers cannot parse them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from wai.atomic import atomic_write_text
from wai.io.codec import Codec, format_error

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_plain(value: Any) -> Any:
    """`value` with NumPy scalars/arrays and tuples turned into Python numbers and lists (dict order kept)."""
    if isinstance(value, dict):
        return {to_plain(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


class ReadableCodec(Codec):
    """JSON / YAML. Options: load `as_text` (return the raw UTF-8 text instead of parsing it)."""

    name = "readable"
    suffixes = (".json", ".yaml", ".yml")
    description = "JSON / YAML <-> dict or list (key order kept)"

    def load(self, path: Path, as_text: bool = False) -> Any:
        """The parsed document (dict, list, ...), or its text with `as_text=True`."""
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise format_error(path, self.name, f"not UTF-8 text: {exc}") from exc
        if as_text:
            return text
        try:
            if path.suffix.lower() == ".json":
                return json.loads(text)
            return yaml.load(text, Loader=_YAML_LOADER)
        except json.JSONDecodeError as exc:
            raise format_error(
                path, self.name, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        except yaml.YAMLError as exc:
            raise format_error(path, self.name, f"invalid YAML: {exc}") from exc

    def store(self, path: Path, data: Any) -> Path:
        plain = to_plain(data)
        try:
            if path.suffix.lower() == ".json":
                text = json.dumps(plain, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
            else:
                text = yaml.dump(plain, Dumper=_YAML_DUMPER, sort_keys=False, allow_unicode=True)
        except (TypeError, ValueError, yaml.YAMLError) as exc:
            raise format_error(path, self.name, f"cannot serialise the data: {exc}") from exc
        atomic_write_text(path, text)
        return path
