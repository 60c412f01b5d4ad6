"""The PLY container: header parsing, element reading (binary either endianness, or ASCII) and writing.

This layer knows elements and properties, not meshes: `read_ply` returns ``{element: {property: array}}`` where a
scalar property is an (N,) array and a list property is an (N, K) array when every record has K items (faces), or
a list of arrays otherwise. Reading is vectorised with NumPy structured dtypes; a non-uniform list element falls
back to a per-record walk.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wai.atomic import atomic_write_bytes
from wai.errors import WaiFormatError, where

#: PLY type names (both spellings) -> NumPy type code without byte order.
PLY_TYPES: dict[str, str] = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip
#: NumPy type code -> PLY type name used when writing.
PLY_NAMES: dict[str, str] = {
    "i1": "char", "u1": "uchar", "i2": "short", "u2": "ushort",
    "i4": "int", "u4": "uint", "f4": "float", "f8": "double",
}  # fmt: skip
_ASCII_FORMATS = {"f4": "%.9g", "f8": "%.17g"}  # enough digits to round-trip exactly
ENCODINGS = {"ascii": "", "binary_little_endian": "<", "binary_big_endian": ">"}


@dataclass
class Property:
    name: str
    code: str  # item type code, e.g. "f4"
    count_code: str | None = None  # set for list properties


@dataclass
class Element:
    name: str
    count: int
    properties: list[Property] = field(default_factory=list)


def _fail(path: Path, message: str) -> WaiFormatError:
    return WaiFormatError(f"{where(file=str(path))}: PLY: {message}")


def parse_header(blob: bytes, path: Path) -> tuple[str, list[Element], int]:
    """(encoding, elements, offset of the body) from the start of a PLY file."""
    if not blob.startswith(b"ply"):
        raise _fail(path, "not a PLY file (it does not start with 'ply')")
    marker = blob.find(b"end_header")
    if marker < 0:
        raise _fail(path, "no 'end_header' line (truncated or not a PLY file)")
    newline = blob.find(b"\n", marker)
    if newline < 0:
        raise _fail(path, "truncated after 'end_header'")
    lines = blob[:marker].decode("ascii", errors="replace").splitlines()
    encoding: str | None = None
    elements: list[Element] = []
    for number, line in enumerate(lines[1:], start=2):
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        try:
            if words[0] == "format":
                encoding = words[1]
                if encoding not in ENCODINGS:
                    raise _fail(path, f"unknown format '{encoding}' on header line {number}")
            elif words[0] == "element":
                elements.append(Element(words[1], int(words[2])))
            elif words[0] == "property" and words[1] == "list":
                elements[-1].properties.append(Property(words[4], PLY_TYPES[words[3]], PLY_TYPES[words[2]]))
            elif words[0] == "property":
                elements[-1].properties.append(Property(words[2], PLY_TYPES[words[1]]))
            else:
                raise _fail(path, f"unexpected header line {number}: '{line}'")
        except (IndexError, KeyError, ValueError) as exc:
            if isinstance(exc, WaiFormatError):
                raise
            raise _fail(path, f"cannot parse header line {number}: '{line}'") from exc
    if encoding is None:
        raise _fail(path, "the header has no 'format' line")
    return encoding, elements, newline + 1


def _first_record_counts(blob: bytes, offset: int, element: Element, order: str, path: Path) -> list[int]:
    """List lengths in the first binary record of `element` (to guess a uniform layout)."""
    counts = []
    for prop in element.properties:
        if prop.count_code is None:
            offset += np.dtype(prop.code).itemsize
            continue
        try:
            count = int(np.frombuffer(blob, order + prop.count_code, 1, offset)[0])
        except ValueError as exc:  # the buffer ends before the first record's list length
            raise _fail(
                path, f"truncated in element '{element.name}' ({element.count} records expected)"
            ) from exc
        counts.append(count)
        offset += np.dtype(prop.count_code).itemsize + count * np.dtype(prop.code).itemsize
    return counts


def _uniform_dtype(element: Element, order: str, counts: list[int]) -> np.dtype:
    fields, lists = [], iter(counts)
    for prop in element.properties:
        if prop.count_code is None:
            fields.append((prop.name, order + prop.code))
        else:
            fields.append((f"{prop.name}__count", order + prop.count_code))
            fields.append((prop.name, order + prop.code, (next(lists),)))
    return np.dtype(fields)


def _read_binary_element(blob: bytes, offset: int, element: Element, order: str, path: Path):
    """({property: array}, offset after the element) for one binary element."""
    if element.count == 0:
        return {p.name: np.zeros(0, p.code) for p in element.properties}, offset
    counts = (
        _first_record_counts(blob, offset, element, order, path)
        if any(p.count_code for p in element.properties)
        else []
    )
    dtype = _uniform_dtype(element, order, counts)
    if offset + dtype.itemsize * element.count <= len(blob):
        records = np.frombuffer(blob, dtype, element.count, offset)
        uniform = all(
            np.all(records[f"{p.name}__count"] == c)
            for p, c in zip([p for p in element.properties if p.count_code], counts, strict=True)
        )
        if uniform:
            out = {p.name: records[p.name].astype(p.code) for p in element.properties}
            return out, offset + dtype.itemsize * element.count
    elif not counts:
        raise _fail(path, f"truncated in element '{element.name}' ({element.count} records expected)")
    return _walk_binary_element(blob, offset, element, order, path)


def _walk_binary_element(blob: bytes, offset: int, element: Element, order: str, path: Path):
    """Per-record reader for elements whose lists differ in length."""
    columns: dict[str, list] = {p.name: [] for p in element.properties}
    try:
        for _ in range(element.count):
            for prop in element.properties:
                if prop.count_code is None:
                    columns[prop.name].append(np.frombuffer(blob, order + prop.code, 1, offset)[0])
                    offset += np.dtype(prop.code).itemsize
                    continue
                count = int(np.frombuffer(blob, order + prop.count_code, 1, offset)[0])
                offset += np.dtype(prop.count_code).itemsize
                columns[prop.name].append(
                    np.frombuffer(blob, order + prop.code, count, offset).astype(prop.code)
                )
                offset += count * np.dtype(prop.code).itemsize
    except ValueError as exc:
        raise _fail(
            path, f"truncated in element '{element.name}' ({element.count} records expected)"
        ) from exc
    out = {}
    for prop in element.properties:
        values = columns[prop.name]
        out[prop.name] = values if prop.count_code else np.array(values, dtype=prop.code)
    return out, offset


def _read_ascii_element(lines: list[list[str]], element: Element, path: Path):
    """{property: array} for one ASCII element from its token lines."""
    widths = {len(tokens) for tokens in lines}
    if len(widths) == 1 and lines:
        table = np.array(lines, dtype=np.float64)
        out, column = {}, 0
        for prop in element.properties:
            if prop.count_code is None:
                out[prop.name] = table[:, column].astype(prop.code)
                column += 1
                continue
            count = int(table[0, column])
            if not np.all(table[:, column] == count):
                break
            out[prop.name] = table[:, column + 1 : column + 1 + count].astype(prop.code)
            column += 1 + count
        else:
            return out
    columns: dict[str, list] = {p.name: [] for p in element.properties}
    for tokens in lines:
        position = 0
        for prop in element.properties:
            if prop.count_code is None:
                columns[prop.name].append(float(tokens[position]))
                position += 1
            else:
                count = int(tokens[position])
                columns[prop.name].append(np.array(tokens[position + 1 : position + 1 + count], np.float64))
                position += 1 + count
    return {
        p.name: [v.astype(p.code) for v in columns[p.name]]
        if p.count_code
        else np.array(columns[p.name], p.code)
        for p in element.properties
    }


def read_ply(path: Path) -> dict[str, dict[str, np.ndarray | list[np.ndarray]]]:
    """All elements of the PLY file at `path`: ``{element: {property: values}}``."""
    blob = path.read_bytes()
    encoding, elements, offset = parse_header(blob, path)
    result: dict[str, dict] = {}
    if encoding == "ascii":
        rows = [line.split() for line in blob[offset:].decode("ascii", errors="replace").splitlines()]
        rows = [row for row in rows if row]
        start = 0
        for element in elements:
            chunk = rows[start : start + element.count]
            if len(chunk) < element.count:
                raise _fail(path, f"truncated in element '{element.name}' ({element.count} records expected)")
            try:
                result[element.name] = _read_ascii_element(chunk, element, path)
            except (ValueError, IndexError) as exc:
                raise _fail(path, f"bad ASCII record in element '{element.name}': {exc}") from exc
            start += element.count
        return result
    order = ENCODINGS[encoding]
    for element in elements:
        result[element.name], offset = _read_binary_element(blob, offset, element, order, path)
    return result


def write_ply(
    path: Path,
    vertex: list[tuple[str, np.ndarray]],
    faces: np.ndarray | None = None,
    ascii: bool = False,
    comments: tuple[str, ...] = (),
) -> Path:
    """Write a `vertex` element (ordered (name, (N,) array) pairs) and optional (F, 3) triangle `faces`.

    Binary little-endian by default; faces are a `vertex_indices` list with a uchar count and int32 indices.
    """
    count = len(vertex[0][1]) if vertex else 0
    lines = ["ply", f"format {'ascii' if ascii else 'binary_little_endian'} 1.0"]
    lines += [f"comment {c}" for c in comments]
    lines.append(f"element vertex {count}")
    lines += [f"property {PLY_NAMES[values.dtype.str[1:]]} {name}" for name, values in vertex]
    if faces is not None:
        lines += [f"element face {len(faces)}", "property list uchar int vertex_indices"]
    lines.append("end_header")
    body = io.BytesIO()
    body.write(("\n".join(lines) + "\n").encode("ascii"))
    if ascii:
        if vertex:
            table = np.column_stack([values.astype(np.float64) for _, values in vertex])
            formats = [_ASCII_FORMATS.get(values.dtype.str[1:], "%d") for _, values in vertex]
            np.savetxt(body, table, fmt=formats)
        if faces is not None:
            np.savetxt(body, np.column_stack([np.full(len(faces), 3), faces]), fmt="%d")
    else:
        dtype = np.dtype([(name, "<" + values.dtype.str[1:]) for name, values in vertex])
        records = np.empty(count, dtype)
        for name, values in vertex:
            records[name] = values
        body.write(records.tobytes())
        if faces is not None:
            face_records = np.empty(len(faces), np.dtype([("n", "u1"), ("idx", "<i4", (3,))]))
            face_records["n"] = 3
            face_records["idx"] = faces
            body.write(face_records.tobytes())
    atomic_write_bytes(path, body.getvalue())
    return path
