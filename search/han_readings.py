"""Hán characters found by their Sino-Vietnamese reading: ``tiến sĩ`` (or ``tien si``) finds 進士 (issue #14).

A Vietnamese reader who does not know the characters knows their readings. The Unicode Han database
(Unihan) gives a Vietnamese reading for 8,308 characters (``kVietnamese``); Debian's ``unicode-data``
package ships it (``/usr/share/unicode/Unihan_Readings.txt.bz2``), read here once per process. A character
without one borrows that of its traditional or simplified form or of the same character drawn otherwise
(``Unihan_Variants``).

Both engines index a page's **reading** (:func:`reading_text`): the reading of each of its Hán characters in
order, one syllable per character, so a phrase of readings is a phrase of characters; runs of Hán
characters apart in the text stay apart (a line break between them). A character with several readings is
indexed with the first Unihan lists. Non-Hán text is not in the reading (it is in ``text`` already).

Highlights are character offsets into the page text, like every other highlight: the spans a query
matches in the reading (:func:`reading_spans`) are turned back into the characters they were read from, so
a hit on ``văn miếu`` is boxed on 文 and 廟.
"""

from __future__ import annotations

import bz2
import logging
import re
import unicodedata
import zipfile
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

UNIHAN_DIRS = (Path("/usr/share/unicode"), Path("/usr/share/unicode-data"))
READINGS_FILE = "Unihan_Readings.txt"
VARIANTS_FILE = "Unihan_Variants.txt"
FIELD = "kVietnamese"
# a character without a reading of its own takes that of its traditional form, its simplified form or the
# same character drawn otherwise (PP-OCR writes some simplified forms: 记 for 記, which has "kí")
VARIANT_FIELDS = ("kTraditionalVariant", "kZVariant", "kSimplifiedVariant")
RUN_BREAK = "\n"  # between runs of Hán characters apart in the text


class ReadingsMissing(RuntimeError):
    """The Unicode Han database is not installed."""


def _lines(name: str = READINGS_FILE) -> list[str]:
    for folder in UNIHAN_DIRS:
        plain, packed, archive = folder / name, folder / f"{name}.bz2", folder / "Unihan.zip"
        if plain.is_file():
            return plain.read_text(encoding="utf-8").splitlines()
        if packed.is_file():
            return bz2.decompress(packed.read_bytes()).decode("utf-8").splitlines()
        if archive.is_file():
            with zipfile.ZipFile(archive) as z:
                return z.read(name).decode("utf-8").splitlines()
    raise ReadingsMissing(f"the Unicode Han database ({name}) is not installed: apt-get install unicode-data")


@lru_cache(maxsize=1)
def readings() -> dict[str, tuple[str, ...]]:
    """Character → its Vietnamese readings (NFC, lower case), as Unihan lists them."""
    out: dict[str, tuple[str, ...]] = {}
    for line in _lines():
        if not line.startswith("U+") or f"\t{FIELD}\t" not in line:
            continue
        code, _, value = line.split("\t", 2)
        out[chr(int(code[2:], 16))] = tuple(unicodedata.normalize("NFC", v).lower() for v in value.split())
    borrowed: dict[str, tuple[str, ...]] = {}
    for line in _lines(VARIANTS_FILE):
        if not line.startswith("U+"):
            continue
        code, field, value = line.split("\t", 2)
        character = chr(int(code[2:], 16))
        if field not in VARIANT_FIELDS or character in out or character in borrowed:
            continue
        for variant in value.split():
            found = out.get(chr(int(variant.split("<")[0][2:], 16)))
            if found:
                borrowed[character] = found
                break
    out.update(borrowed)
    return out


@lru_cache(maxsize=1)
def _table() -> dict[str, tuple[str, ...]]:
    """:func:`readings`, or an empty table (said once in the log) when the database is missing: pages are
    still indexed and found by their characters."""
    try:
        return readings()
    except ReadingsMissing as exc:
        log.warning("%s; Hán text is searchable by its characters only", exc)
        return {}


def reading_of(character: str) -> str | None:
    """The first Vietnamese reading of ``character``, or None."""
    found = _table().get(character)
    return found[0] if found else None


def reading_text(text: str) -> tuple[str, list[int]]:
    """The reading of ``text``'s Hán characters, one syllable each, and for each syllable the offset of its
    character in ``text``. ``("", [])`` for a text without a Hán character that has a reading."""
    table = _table()
    parts: list[str] = []
    origins: list[int] = []
    previous = -2
    for offset, ch in enumerate(text):
        found = table.get(ch)
        if not found:
            continue
        if parts:
            parts.append(" " if offset == previous + 1 else RUN_BREAK)
        parts.append(found[0])
        origins.append(offset)
        previous = offset
    return "".join(parts), origins


def has_han(text: str) -> bool:
    """Whether ``text`` holds a Hán character (a quick test before the readings are looked at)."""
    from search.vietnamese import HAN

    return re.search(f"[{HAN}]", text) is not None


def reading_spans(text: str, parsed) -> list[tuple[int, int]]:
    """The characters of ``text`` whose readings the positive items of ``parsed`` (a
    :class:`search.query.ParsedQuery`) match, as ``(start, end)`` offsets into ``text``."""
    from search.highlight import spans_for_query
    from search.vietnamese import words

    reading, origins = reading_text(text)
    if not reading:
        return []
    starts = {w.start: n for n, w in enumerate(words(reading))}  # a syllable's offset → its character
    out = set()
    for start, end in spans_for_query(reading, parsed):
        n = starts.get(start)
        if n is not None:
            out.add((origins[n], origins[n] + 1))
    return sorted(out)


# ------------------------------------------------------------ the character picker
MAX_PICKED = 120
_RADICAL_QUERY = re.compile(r"^\s*(\d{1,3})'?\s*(?:[.+]\s*(\d{1,2}))?\s*$")


@lru_cache(maxsize=1)
def _by_reading() -> dict[str, list[str]]:
    """Folded reading → the characters read so (Unihan's own readings only, in code point order)."""
    from search.vietnamese import fold

    out: dict[str, list[str]] = {}
    for line in _lines():
        if line.startswith("U+") and f"\t{FIELD}\t" in line:
            code, _, value = line.split("\t", 2)
            for reading in value.split():
                key = fold(unicodedata.normalize("NFC", reading).lower())
                out.setdefault(key, []).append(chr(int(code[2:], 16)))
    return out


@lru_cache(maxsize=1)
def _by_radical() -> dict[tuple[int, int], list[str]]:
    """(Kangxi radical 1–214, strokes beyond it) → characters (``kRSUnicode`` of Unihan's IRG sources)."""
    out: dict[tuple[int, int], list[str]] = {}
    for line in _lines("Unihan_IRGSources.txt"):
        if line.startswith("U+") and "\tkRSUnicode\t" in line:
            code, _, value = line.split("\t", 2)
            for rs in value.split():
                radical, _, strokes = rs.replace("'", "").replace('"', "").partition(".")
                out.setdefault((int(radical), int(strokes or 0)), []).append(chr(int(code[2:], 16)))
    return out


def find_characters(query: str, *, limit: int = MAX_PICKED) -> list[tuple[str, tuple[str, ...]]]:
    """Characters for a transcriber to pick: by Sino-Vietnamese (or Nôm) reading, with or without marks
    (``tiến``, ``tien``: those read with the marks typed first), or by component — a Kangxi radical and
    the strokes beyond it (``162.8`` for 進; ``162`` for every character of radical 162, fewest strokes
    first). Each with its readings. Raises ``ValueError`` for a query that is neither."""
    from search.vietnamese import fold

    text = unicodedata.normalize("NFC", query or "").strip().lower()
    if not text or len(text) > 20:
        raise ValueError("type a reading (tiến, tien) or a radical and its strokes (162.8)")
    table = _table()
    found = _RADICAL_QUERY.match(text)
    if found:
        radical, strokes = int(found.group(1)), found.group(2)
        if not 1 <= radical <= 214:
            raise ValueError(f"a Kangxi radical is numbered 1–214, not {radical}")
        index = _by_radical()
        keys = [(radical, int(strokes))] if strokes is not None else sorted(k for k in index if k[0] == radical)
        # fewest strokes first; within a count, the characters Vietnamese has readings for first
        chars = [c for k in keys for c in sorted(index.get(k, []), key=lambda c: (c not in table, ord(c)))]
    else:
        if not re.fullmatch(r"[^\W\d_]+", text):
            raise ValueError("type a reading (tiến, tien) or a radical and its strokes (162.8)")
        chars = _by_reading().get(fold(text), [])
        chars = sorted(chars, key=lambda c: (text not in table.get(c, ()), ord(c)))  # marks as typed first
    return [(c, table.get(c, ())) for c in chars[:limit]]
