"""A page's text as the catalogue stores it: compressed, behind a column type that reads and writes ``str``.

A page of 1,500 Vietnamese words is about 8.5 KB of UTF-8; at ten million pages the text alone would be
most of the catalogue. ``PackedText`` keeps it as bytes: a format byte, then

- ``0x00`` and the UTF-8 itself, for short texts (compression would add more than it saves), or
- ``0x01`` and the text's UTF-8 compressed with bzip2 (level 9).

bzip2 was chosen by measuring the compressors of Python's standard library and two from PyPI on real
Vietnamese text: on 8.5 KB pieces of the shared *Lục Vân Tiên* bzip2 kept 35 % of the UTF-8, brotli (11)
39 %, LZMA 41 %, zstd (19) 41 %, zlib (9) 43 %; on the four demo texts (3–6 KB) bzip2 kept 38–46 %, LZMA
43–52 %. It decompresses such a page in well under a millisecond. The empty text is always ``b"\\x00"``, so ``column != ""`` still compares
(the bound value is packed the same way).

Readers and writers never see the bytes: ``Page.text`` and ``Transcription.text`` are ``str``.
"""

from __future__ import annotations

import bz2

from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

RAW = 0x00
BZIP2 = 0x01
MIN_PACKED_BYTES = 200  # below this, bzip2's own header (about 40 bytes) and blocks rarely pay


def pack(text: str) -> bytes:
    """``text`` as stored: the format byte and the UTF-8, compressed when that is smaller."""
    data = text.encode("utf-8")
    if len(data) >= MIN_PACKED_BYTES:
        packed = bz2.compress(data, 9)
        if len(packed) < len(data):
            return bytes((BZIP2,)) + packed
    return bytes((RAW,)) + data


def unpack(value: bytes) -> str:
    """The text of a stored value (see :func:`pack`); a value in no known format raises ``ValueError``."""
    value = bytes(value)  # PostgreSQL's driver gives a memoryview
    if not value:
        raise ValueError("a packed text is never empty: it starts with its format byte")
    kind, body = value[0], value[1:]
    if kind == RAW:
        return body.decode("utf-8")
    if kind == BZIP2:
        return bz2.decompress(body).decode("utf-8")
    raise ValueError(f"unknown packed text format {kind:#04x}")


class PackedText(TypeDecorator):
    """A ``str`` column stored as :func:`pack` bytes (``BLOB`` on SQLite, ``bytea`` on PostgreSQL)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else pack(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unpack(value)

    @property
    def python_type(self):
        return str
