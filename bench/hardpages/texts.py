"""The Vietnamese prose the hard pages print (``texts/*.txt``, see README.md).

Each file is one article: a first line ``# Title``, then one paragraph per
non-blank line (a letter's greeting, date or signature is its own paragraph). The file name's prefix gives the split: files
``dev-*.txt`` feed only the dev pages and ``test-*.txt`` only the test pages,
so no passage is shared between tuning and reporting.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

TEXT_DIR = Path(__file__).with_name("texts")
SPLITS = ("dev", "test")


@dataclass(frozen=True)
class Article:
    """One text file: its title and its paragraphs (NFC, single spaces)."""

    name: str
    title: str
    paragraphs: tuple[str, ...]


def _tidy(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def parse_article(name: str, source: str) -> Article:
    """Parse one text file's content (see module docstring for the format)."""
    lines = source.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise ValueError(f"{name}: the first line must be '# Title'")
    paragraphs = [_tidy(line) for line in lines[1:] if line.strip()]
    return Article(name=name, title=_tidy(lines[0][2:]), paragraphs=tuple(paragraphs))


@lru_cache(maxsize=None)
def articles(split: str) -> tuple[Article, ...]:
    """The articles of one split, in file-name order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    paths = sorted(TEXT_DIR.glob(f"{split}-*.txt"))
    if not paths:
        raise FileNotFoundError(f"no texts for split {split!r} in {TEXT_DIR}")
    return tuple(parse_article(p.name, p.read_text(encoding="utf-8")) for p in paths)


@dataclass(frozen=True)
class Piece:
    """One unit of text to typeset: a heading (an article's title) or a paragraph."""

    text: str
    is_title: bool
    article: str


class TextStream:
    """An endless stream of pieces from one split, starting at a chosen article
    and paragraph and running on through the following articles (wrapping
    round). Titles come before their article's first paragraph."""

    def __init__(self, split: str, start_article: int, start_paragraph: int = 0):
        self._articles = articles(split)
        self._article = start_article % len(self._articles)
        first = self._articles[self._article]
        self._paragraph = min(start_paragraph, len(first.paragraphs) - 1)
        self._title_due = self._paragraph == 0

    def article(self, offset: int = 0) -> Article:
        """The article the stream is in (``offset`` 0), or one ``offset`` after it."""
        return self._articles[(self._article + offset) % len(self._articles)]

    def next_piece(self) -> Piece:
        art = self._articles[self._article]
        if self._title_due:
            self._title_due = False
            return Piece(art.title, True, art.name)
        piece = Piece(art.paragraphs[self._paragraph], False, art.name)
        self._paragraph += 1
        if self._paragraph >= len(art.paragraphs):
            self._article = (self._article + 1) % len(self._articles)
            self._paragraph = 0
            self._title_due = True
        return piece

    def next_paragraph(self) -> str:
        """The next paragraph, skipping titles."""
        while True:
            piece = self.next_piece()
            if not piece.is_title:
                return piece.text

    def next_title(self) -> str:
        """Skip to the start of the next article and return its title."""
        while True:
            piece = self.next_piece()
            if piece.is_title:
                return piece.text


def stream_for(split: str, rng: np.random.Generator, article_hint: int) -> TextStream:
    """A stream starting at article ``article_hint`` (mod the split's count) and a
    random paragraph in its first half."""
    arts = articles(split)
    article = article_hint % len(arts)
    paragraph = int(rng.integers(0, max(1, len(arts[article].paragraphs) // 2)))
    return TextStream(split, article, paragraph)
