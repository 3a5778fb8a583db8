"""Highlights as character offsets into the stored text, and display snippets made from them.

Offsets, not token order: the catalogue turns each ``(start, end)`` back into
the OCR words (with their boxes) that cover it. Offsets count Python ``str``
characters (code points) of the NFC text.

Two sources of spans, normalised to the same shape (one span per matched word,
sorted, no overlaps):

- ``spans_for_query``: the adapter's own matcher, used by the embedded engine.
  It applies the same rules as the index (words, folding, phrases, prefixes,
  edit distance 1 on folded words of 5+ letters, OCR variants).
- ``spans_from_tagged``: the cluster's highlighter run on the whole text
  (``number_of_fragments: 0``) with private-use marker characters as tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from rapidfuzz.distance import OSA

from search.query import ParsedQuery, Term
from search.vietnamese import FOLD_TABLE, HAN, HAN_OTHER, MARKS, fold, is_han_word, words

#: Tags the cluster puts around highlighted text: private-use characters that never occur in NFC text we index.
PRE_TAG, POST_TAG = "\ue000", "\ue001"

Span = tuple[int, int]


# a word starts and ends where no letter of another word touches it (a Hán character is a word of its own,
# so it never extends a word, and its neighbours never extend it)
_OTHER_WORD_CHAR = rf"[^\W_{HAN}{HAN_OTHER}]"
_B_START = rf"(?<!{_OTHER_WORD_CHAR})(?<![{MARKS}])"
_B_END = rf"(?!{_OTHER_WORD_CHAR})(?![{MARKS}])"
_SEP = r"[\W_]+"
_HAN_SEP = r"[\W_]*"  # Hán characters of a phrase stand side by side


def _variants_by_base() -> dict[str, str]:
    by_base: dict[str, set[str]] = {}
    letters = [chr(c) for c in range(0x30, 0x7B) if chr(c).isalnum()] + [chr(c) for c in FOLD_TABLE]
    for ch in letters:
        base = fold(ch).lower()
        if len(base) == 1:
            by_base.setdefault(base, set()).update({ch, ch.lower(), ch.upper()} - {""})
    return {b: "".join(sorted(c for c in chars if len(c) == 1)) for b, chars in by_base.items()}


_VARIANTS = _variants_by_base()


@lru_cache(maxsize=4096)
def _folded_pattern(folded: str) -> str:
    """A regex matching every spelling of a folded word in the original text: ``van`` → ``[vV][aàá…][nN]``."""
    out = []
    for ch in folded:
        chars = _VARIANTS.get(ch)
        out.append(f"[{re.escape(chars)}]" if chars else re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=4096)
def _whole_words(pattern: str) -> re.Pattern:
    """``pattern`` compiled to match whole words only. Compiled once per pattern and kept: the word
    boundaries' character classes (every Hán character, every combining mark) took most of a search
    page's highlighting time when a query's patterns were joined and compiled anew for each query."""
    return re.compile(_B_START + "(?:" + pattern + ")" + _B_END)


def _edit_matches(term: Term, word: str) -> bool:
    return abs(len(word) - len(term.folded)) <= 1 and OSA.distance(word, term.folded, score_cutoff=1) <= 1


def spans_for_query(text: str, parsed: ParsedQuery, *, max_chars: int = 2_000_000) -> list[Span]:
    """Word spans of ``text`` matched by the positive items of ``parsed``.

    The patterns match the original text with every spelling of each folded
    letter, so no folded copy of the text is needed (folding is one character
    for one: the offsets are the same)."""
    items = parsed.positive_items()
    if not items or not text:
        return []
    text = text[:max_chars]
    found: set[Span] = set()
    alternatives: list[str] = []
    fuzzy_terms: list[Term] = []
    for item in items:
        if isinstance(item, Term):
            if item.prefix:
                alternatives.append(rf"{_folded_pattern(item.folded)}(?:{_OTHER_WORD_CHAR}|[{MARKS}])*")
                continue
            alternatives.append(_folded_pattern(item.folded))
            if item.fuzzy:
                alternatives.extend(_folded_pattern(v) for v in item.ocr_variants())
                if item.edit_fuzzy:
                    fuzzy_terms.append(item)
        else:
            pattern = _folded_pattern(item.terms[0].folded)
            for before, term in zip(item.terms, item.terms[1:]):
                han_pair = is_han_word(before.folded) and is_han_word(term.folded)
                pattern += (_HAN_SEP if han_pair else _SEP) + _folded_pattern(term.folded)
            for m in _whole_words(pattern).finditer(text):
                found.update((m.start() + w.start, m.start() + w.end) for w in words(text[m.start():m.end()]))
    # each alternative on its own: one matches whole words only (a prefix's tail runs to the word's end), so
    # two that match the same word give the same span, and none can hide another's match
    for alternative in dict.fromkeys(alternatives):
        found.update((m.start(), m.end()) for m in _whole_words(alternative).finditer(text))
    if fuzzy_terms:
        for w in words(text):
            if (w.start, w.end) not in found and any(_edit_matches(t, w.folded) for t in fuzzy_terms):
                found.add((w.start, w.end))
    return sorted(found)


def spans_from_tagged(tagged: str) -> tuple[str, list[Span]]:
    """Strip ``PRE_TAG``/``POST_TAG`` from a highlighted text: (plain text, spans in it)."""
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    start: int | None = None
    for ch in tagged:
        if ch == PRE_TAG:
            start = pos
        elif ch == POST_TAG:
            if start is not None and pos > start:
                spans.append((start, pos))
            start = None
        else:
            out.append(ch)
            pos += 1
    return "".join(out), spans


def word_spans(text: str, spans: Iterable[Span]) -> list[Span]:
    """Normalise spans to one span per word they cover, sorted, without duplicates."""
    result: set[Span] = set()
    for s, e in spans:
        found = False
        for w in words(text[s:e]):
            result.add((s + w.start, s + w.end))
            found = True
        if not found and e > s:
            result.add((s, e))
    return sorted(result)


@dataclass(frozen=True)
class Snippet:
    """A short passage for display. ``start`` is its offset in the document text;
    ``highlights`` are offsets into ``text`` (the snippet). ``cut_before``/``cut_after``
    say whether the passage was cut out of a longer text (show an ellipsis)."""

    text: str
    start: int
    highlights: tuple[Span, ...]
    cut_before: bool
    cut_after: bool


def _back_to_space(text: str, pos: int, limit: int) -> int:
    i = pos
    while i > limit and not text[i - 1].isspace():
        i -= 1
    return i if i > limit else pos


def _forward_to_space(text: str, pos: int, limit: int) -> int:
    i = pos
    while i < limit and not text[i].isspace():
        i += 1
    return i if i < limit else pos


def make_snippets(text: str, spans: list[Span], *, max_snippets: int = 3, width: int = 200,
                  context: int = 60) -> list[Snippet]:
    """Up to ``max_snippets`` passages of about ``width`` characters around the highlighted words."""
    if max_snippets <= 0 or not text:
        return []
    n = len(text)
    if not spans:
        end = min(n, width)
        if end < n:
            end = _back_to_space(text, end, 0) if end > width // 2 else end
        return [Snippet(text[:end].strip(), 0, (), False, end < n)]
    out: list[Snippet] = []
    k = 0
    while k < len(spans) and len(out) < max_snippets:
        s0 = spans[k][0]
        start = max(0, s0 - context)
        if start > 0:
            start = _forward_to_space(text, start, s0)
            while start < s0 and text[start].isspace():
                start += 1
        end = min(n, start + width)
        if end < n:
            end = max(_back_to_space(text, end, spans[k][1]), spans[k][1])
        inside = []
        while k < len(spans) and spans[k][1] <= end:
            inside.append((spans[k][0] - start, spans[k][1] - start))
            k += 1
        if not inside:  # a span longer than the window
            end = spans[k][1]
            inside.append((spans[k][0] - start, spans[k][1] - start))
            k += 1
        out.append(Snippet(text[start:end], start, tuple(inside), start > 0, end < n))
    return out
