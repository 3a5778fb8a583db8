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
