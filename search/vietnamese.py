"""Vietnamese text as the index sees it: NFC, words, and length-preserving folding.

Both engines must cut text into the same words and fold them the same way, so
the rules live here once and are handed to each engine in its own syntax:

- **NFC** at index and query time (``nfc``).
- **Words** are maximal runs of letters, combining marks and digits
  (``WORD_PATTERN`` for the Rust and Java regex engines, ``words`` in Python).
  A Vietnamese word of several syllables is several words here.
- **Folding** removes every tone and vowel mark and turns ``đ``/``Đ`` into
  ``d``/``D``. It maps each NFC character to exactly one character, so a folded
  text has the same length as its original and character offsets found in one
  are valid in the other (``fold``). Lower-casing is done per word by the
  engines' analyzers, never on whole texts (it does not preserve length for a
  few non-Vietnamese letters).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterator

#: A word for the Rust (tantivy) and Java (Elasticsearch/OpenSearch) regex engines.
WORD_PATTERN = r"[\p{L}\p{M}\p{N}]+"

MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
#: The same rule for Python's ``re`` (``[^\W_]`` is a letter or a digit).
_WORD_RE = re.compile(rf"(?:[^\W_]|[{MARKS}])+")

#: Longest word the analyzers keep, in characters; longer runs are OCR noise.
MAX_WORD_CHARS = 100


def _folding_table() -> dict[int, str]:
    table: dict[int, str] = {}
    ranges = [(0x00C0, 0x0250), (0x1E00, 0x1F00)]
    for lo, hi in ranges:
        for cp in range(lo, hi):
            ch = chr(cp)
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
            if len(base) == 1 and base != ch:
                table[cp] = base
    table[ord("đ")] = "d"
    table[ord("Đ")] = "D"
    return table


#: Character → folded character, one for one (``str.translate`` table).
FOLD_TABLE: dict[int, str] = _folding_table()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """``Văn Miếu, đình`` → ``Van Mieu, dinh``; ``len(fold(t)) == len(t)`` for every ``t``."""
    return text.translate(FOLD_TABLE)


def exact_key(word: str) -> str:
    """How a word is indexed in the exact field: NFC, lower-case."""
    return nfc(word).lower()


def folded_key(word: str) -> str:
    """How a word is indexed in the folded field: NFC, folded, lower-case."""
    return fold(nfc(word)).lower()


def folding_mappings() -> list[str]:
    """The folding table as rules for an Elasticsearch/OpenSearch ``mapping`` char filter."""
    return [f"{chr(cp)} => {base}" for cp, base in sorted(FOLD_TABLE.items())]


@dataclass(frozen=True, slots=True)
class Word:
    """A word of a text: ``text[start:end]``, with its exact and folded keys."""

    start: int
    end: int
    exact: str
    folded: str


def words(text: str) -> Iterator[Word]:
    """The words of ``text`` (already NFC) with character offsets, as both engines cut them."""
    for m in _WORD_RE.finditer(text):
        w = m.group()
        if len(w) > MAX_WORD_CHARS:
            continue
        lower = w.lower()
        yield Word(m.start(), m.end(), lower, fold(lower))


def word_keys(text: str) -> list[tuple[str, str]]:
    """(exact, folded) keys of each word in a piece of user input."""
    return [(w.exact, w.folded) for w in words(nfc(text))]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffc]")


def strip_controls(text: str) -> tuple[str, bool]:
    """Replace control and invisible formatting characters by spaces; say whether any were found."""
    cleaned, n = _CONTROL.subn(" ", text)
    return cleaned, n > 0
