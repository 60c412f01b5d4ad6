"""PNG chunk level access: integrity check, text chunks, and adding a text chunk to encoded PNG bytes.

OpenCV decodes pixels but neither reports a truncated file reliably nor exposes text chunks, and the reference's
`labeled_image` keeps its id -> colour table in a `tEXt` chunk. The PNG container is simple enough to walk here
(signature, then length / type / data / CRC records up to `IEND`) without Pillow.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from wai.errors import WaiFormatError, where

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Chunk:
    kind: bytes
    data: bytes


def iter_chunks(blob: bytes, path: Path) -> list[Chunk]:
    """All chunks of a PNG file up to and including `IEND`; raise on a bad signature, a cut or a bad CRC."""
    if not blob.startswith(PNG_SIGNATURE):
        raise WaiFormatError(f"{where(file=str(path))}: not a PNG file (the 8-byte PNG signature is missing)")
    chunks: list[Chunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if pos + 8 > len(blob):
            raise WaiFormatError(
                f"{where(file=str(path))}: truncated PNG: the file ends after {len(blob)} bytes before the IEND chunk"
            )
        length, kind = struct.unpack(">I4s", blob[pos : pos + 8])
        end = pos + 8 + length + 4
        if end > len(blob):
            raise WaiFormatError(
                f"{where(file=str(path))}: truncated PNG: chunk {kind!r} needs {length} bytes but the file ends "
                f"after {len(blob)} bytes"
            )
        data = blob[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", blob[end - 4 : end])
        if zlib.crc32(kind + data) != crc:
            raise WaiFormatError(f"{where(file=str(path))}: corrupt PNG: CRC mismatch in chunk {kind!r}")
        chunks.append(Chunk(kind, data))
        pos = end
        if kind == b"IEND":
            return chunks


def text_chunks(chunks: list[Chunk], path: Path) -> dict[str, str]:
    """Keyword -> text of every `tEXt`, `zTXt` and `iTXt` chunk (Latin-1 for tEXt/zTXt as the PNG spec says).

    A text chunk too short for its own header is a `WaiFormatError` naming `path`; corrupt compressed text raises
    `zlib.error` and bad UTF-8 `UnicodeDecodeError`, which `wai.load` reports as a decode failure of the file.
    """
    texts: dict[str, str] = {}
    for chunk in chunks:
        if chunk.kind not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        keyword, sep, rest = chunk.data.partition(b"\x00")
        if not sep:
            continue
        if chunk.kind == b"tEXt":
            text = rest.decode("latin-1")
        elif chunk.kind == b"zTXt":
            text = zlib.decompress(rest[1:]).decode("latin-1")
        else:
            # iTXt: compression flag, method, language tag \0, translated keyword \0, text (UTF-8).
            if len(rest) < 2:
                raise WaiFormatError(
                    f"{where(file=str(path))}: corrupt PNG: iTXt chunk {keyword!r} is cut before its flags"
                )
            flag = rest[0]
            _language, _, tail = rest[2:].partition(b"\x00")
            _translated, _, payload = tail.partition(b"\x00")
            text = (zlib.decompress(payload) if flag else payload).decode("utf-8")
        texts[keyword.decode("latin-1")] = text
    return texts


def _pack_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def add_text_chunk(png: bytes, keyword: str, text: str) -> bytes:
    """Return `png` with a `tEXt` chunk inserted right after IHDR (so readers see it before the pixel data)."""
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("add_text_chunk expects encoded PNG bytes")
    (ihdr_length,) = struct.unpack(">I", png[8:12])
    cut = len(PNG_SIGNATURE) + 8 + ihdr_length + 4
    payload = keyword.encode("latin-1") + b"\x00" + text.encode("latin-1")
    return png[:cut] + _pack_chunk(b"tEXt", payload) + png[cut:]
