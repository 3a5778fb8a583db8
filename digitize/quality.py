"""Measuring OCR quality against ground truth.

CER (character error rate) here is the edit distance between the OCR text
and the truth, both NFC with every run of white space folded to one space
and the ends stripped, divided by the length of the truth. Layout white
space therefore does not count; reading order does.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from defusedxml import ElementTree
from rapidfuzz.distance import Levenshtein

_WHITESPACE = re.compile(r"\s+")


def comparable_text(text: str) -> str:
    """NFC, white space folded to single spaces, ends stripped."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def edit_distance(hypothesis: str, truth: str) -> int:
    """Levenshtein distance between the comparable forms of two texts."""
    return Levenshtein.distance(comparable_text(hypothesis), comparable_text(truth))


def cer(hypothesis: str, truth: str) -> float:
    """Character error rate of ``hypothesis`` against ``truth`` (0.0 = perfect;
    may exceed 1.0). An empty truth gives 0.0 for an empty hypothesis, else 1.0."""
    truth_c = comparable_text(truth)
    hypothesis_c = comparable_text(hypothesis)
    if not truth_c:
        return 0.0 if not hypothesis_c else 1.0
    return Levenshtein.distance(hypothesis_c, truth_c) / len(truth_c)


def alto_text(path: Path | str) -> str:
    """The text of an ALTO file: the ``CONTENT`` of the ``String`` elements of
    each ``TextLine`` joined by spaces, lines joined by newlines (any ALTO
    version; hyphenation marks ``HYP`` kept as a trailing hyphen)."""
    root = ElementTree.parse(str(path)).getroot()
    lines = []
    for element in root.iter():
        if _local(element.tag) != "TextLine":
            continue
        words = []
        for child in element:
            name = _local(child.tag)
            if name == "String":
                words.append(child.get("CONTENT", ""))
            elif name == "HYP" and words:
                words[-1] += child.get("CONTENT", "-")
        lines.append(" ".join(words))
    return "\n".join(lines)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# ------------------------------------------------------------------ words
def comparable_words(text: str) -> list[str]:
    """The words of a text for WER: NFC, split on white space."""
    return comparable_text(text).split()


def word_edit_distance(hypothesis: str, truth: str) -> int:
    """Levenshtein distance between the word sequences of two texts."""
    return Levenshtein.distance(comparable_words(hypothesis), comparable_words(truth))


def wer(hypothesis: str, truth: str) -> float:
    """Word error rate: word-level edit distance over the number of truth words."""
    words = comparable_words(truth)
    if not words:
        return 0.0 if not comparable_words(hypothesis) else 1.0
    return word_edit_distance(hypothesis, truth) / len(words)


# ------------------------------------------------------------ reading order
MIN_LINE_CHARS_FOR_ORDER = 12  # shorter truth lines are too ambiguous to place
MIN_LINE_MATCH = 80.0  # rapidfuzz score (0-100) a truth line needs to count as found


def line_positions(hypothesis: str, truth_lines: list[str] | tuple[str, ...]) -> list[int | None]:
    """Where each truth line is found in the hypothesis (character offset of
    its best partial match in the comparable hypothesis), or None when the
    line is short or not found well enough."""
    from rapidfuzz import fuzz

    hyp = comparable_text(hypothesis)
    positions: list[int | None] = []
    for line in truth_lines:
        target = comparable_text(line)
        if len(target) < MIN_LINE_CHARS_FOR_ORDER or not hyp:
            positions.append(None)
            continue
        found = fuzz.partial_ratio_alignment(target, hyp)
        positions.append(found.dest_start if found is not None and found.score >= MIN_LINE_MATCH else None)
    return positions


def reading_order_agreement(hypothesis: str, truth_lines: list[str] | tuple[str, ...]) -> float | None:
    """The share of consecutive pairs of found truth lines that the
    hypothesis reads in the same order (1.0 = every line after the one before
    it; a page whose columns are read in the wrong order scores far lower).
    None when fewer than two lines were found."""
    found = [p for p in line_positions(hypothesis, truth_lines) if p is not None]
    if len(found) < 2:
        return None
    in_order = sum(1 for a, b in zip(found, found[1:]) if b > a)
    return in_order / (len(found) - 1)
