"""Telling bad pages apart: blank, a picture, mostly margin, upside down,
mirrored, and readings not to be trusted.

Small pure functions the pipeline's ``layout`` and ``recheck`` stages ask;
they look at a downscaled copy of the page (see
:func:`digitize.preprocess.analysis_copy`) or at tesseract's word rows, never
run tesseract themselves. Gray levels are 0 = black ink, 255 = white paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image

from digitize import preprocess
from digitize.reading import TsvWord

# ink is darker than the paper by at least this much on the analysis copy
# (box-filtered, so sensor noise of a blank scan stays well below it)
INK_CONTRAST = 48
MIN_INK_CELLS = 12  # fewer inked cells of the analysis copy than this: a blank page
# the part worth reading is bounded by anything this much darker than the
# paper (faint pencil, a pale stamp), so that no mark is cut off
FAINT_CONTRAST = 24
# read only the inked part when it covers less than this share of the page
MARGIN_CROP_MAX_SHARE = 0.25
# a page without text this dark is called a picture (text pages measured 0.08-0.39)
PICTURE_DARK_SHARE = 0.5
MARGIN_PAD_SHARE = 0.02  # kept around the inked part, as a share of the page's longer side


@dataclass(frozen=True)
class PageLook:
    """What a glance at the page shows.

    ``blank``: no ink worth reading. ``ink_box``: ``(x, y, w, h)`` pixels
    around the ink (None when blank). ``margin_box``: the part worth reading
    when wide margins surround it (the ink box padded), None when the ink
    spreads over most of the page. ``inked_share``: the ink box's share of
    the page area. ``dark_share``: the share of the page darker than its
    paper by ``INK_CONTRAST`` (text pages a few percent up to about 25 %,
    pictures more).
    """

    blank: bool
    ink_box: tuple[int, int, int, int] | None
    margin_box: tuple[int, int, int, int] | None
    inked_share: float
    dark_share: float


def look_at(image: Image.Image) -> PageLook:
    """Glance at a page ("L" or "1"): is it blank, where is its ink."""
    gray, x_scale, y_scale = preprocess.analysis_copy(image)
    if gray.size == 0:
        return PageLook(True, None, None, 0.0, 0.0)
    paper = preprocess.paper_level(gray)
    dark = gray.astype(np.int16) <= paper - INK_CONTRAST
    ink = dark & (_neighbours(dark) > 0)  # a lone inked cell is a speck of dust
    dark_share = float(dark.mean())
    if int(ink.sum()) < MIN_INK_CELLS:
        return PageLook(True, None, None, 0.0, dark_share)
    faint = gray.astype(np.int16) <= paper - FAINT_CONTRAST
    marks = (faint & (_neighbours(faint) > 1)) | ink
    rows = np.flatnonzero(marks.any(axis=1))
    cols = np.flatnonzero(marks.any(axis=0))
    x0, x1 = int(cols[0]) * x_scale, min(image.width, (int(cols[-1]) + 1) * x_scale)
    y0, y1 = int(rows[0]) * y_scale, min(image.height, (int(rows[-1]) + 1) * y_scale)
    box = (x0, y0, x1 - x0, y1 - y0)
    share = (box[2] * box[3]) / float(image.width * image.height)
    margin_box = None
    if share < MARGIN_CROP_MAX_SHARE:
        pad = round(MARGIN_PAD_SHARE * max(image.size)) + max(x_scale, y_scale)
        mx0, my0 = max(0, x0 - pad), max(0, y0 - pad)
        mx1, my1 = min(image.width, x1 + pad), min(image.height, y1 + pad)
        margin_box = (mx0, my0, mx1 - mx0, my1 - my0)
    return PageLook(False, box, margin_box, share, dark_share)


def _neighbours(mask: np.ndarray) -> np.ndarray:
    """How many of each cell's 8 neighbours are set, ``(h, w) int``."""
    padded = np.pad(mask.astype(np.uint8), 1)
    height, width = mask.shape
    total = np.zeros((height, width), np.uint8)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy != 1 or dx != 1:
                total += padded[dy : dy + height, dx : dx + width]
    return total


# ------------------------------------------------------------------ readings
POOR_CONFIDENCE = 55.0  # a reading whose mean word confidence is below this gets a second look
BETTER_BY = 15.0  # a turned or flipped reading must beat the first's mean confidence by this much
GOOD_WORD_CONFIDENCE = 60.0  # a "good" word: word-like and at least this sure
TEXT_PAGE_GOOD_SHARE = 0.35  # a page holds text when at least this share of its words are good
CAPTION_GOOD_SHARE = 0.6  # on a page without text, a line this good is kept (a caption)
SPECK_CONFIDENCE = 10.0  # "words" of symbols alone below this are specks, rules and frames
_EDGE_PUNCTUATION = ".,;:!?\"'“”‘’„()[]{}«»<>-–—…*/"
_INNER_MARKS = "'’-­.·"  # inside a word: apostrophes, hyphens, abbreviation dots


def mean_confidence(rows: Sequence[TsvWord]) -> float | None:
    """The mean confidence (0-100) of word rows; None without any."""
    confidences = [max(0.0, min(100.0, r.conf)) for r in rows if r.conf >= 0]
    return sum(confidences) / len(confidences) if confidences else None


def is_poor(rows: Sequence[TsvWord]) -> bool:
    """A reading worth a second look: words were found, but not confidently."""
    mean = mean_confidence(rows)
    return mean is not None and mean < POOR_CONFIDENCE


def clearly_better(new: Sequence[TsvWord], old: Sequence[TsvWord]) -> bool:
    """Whether a second reading (of the page turned or flipped) beats the
    first one by a margin no chance variation gives."""
    new_mean, old_mean = mean_confidence(new), mean_confidence(old)
    if new_mean is None:
        return False
    return old_mean is None or new_mean >= old_mean + BETTER_BY


SAMPLE_LINES = 12  # at most this many lines are read again to test a guess


def sample_of(rows: Sequence[TsvWord], pad_px: int = 4) -> tuple[tuple[int, int, int, int], list[TsvWord]]:
    """A sample of a reading to try a second reading on: whole lines from the
    middle of the page (a third of them, at most ``SAMPLE_LINES``), as the
    box ``(x, y, w, h)`` around them (padded) and their word rows."""
    lines: dict[tuple[int, int, int], list[TsvWord]] = {}
    for row in rows:
        lines.setdefault((row.block_num, row.par_num, row.line_num), []).append(row)
    ordered = sorted(lines.values(), key=lambda line: min(r.top for r in line))
    count = max(1, min(SAMPLE_LINES, len(ordered) // 3))
    start = (len(ordered) - count) // 2
    chosen = [r for line in ordered[start : start + count] for r in line]
    x0 = min(r.left for r in chosen) - pad_px
    y0 = min(r.top for r in chosen) - pad_px
    x1 = max(r.left + r.width for r in chosen) + pad_px
    y1 = max(r.top + r.height for r in chosen) + pad_px
    return (max(0, x0), max(0, y0), x1 - max(0, x0), y1 - max(0, y0)), chosen


def is_specks(text: str) -> bool:
    """A "word" without a letter or a digit: dots, dashes, bars, quotes."""
    return not any(ch.isalnum() for ch in text)


def is_wordlike(text: str) -> bool:
    """Letters (with inner apostrophes, hyphens, dots), or a number, once
    the punctuation at its ends is set aside: what text is made of, in any
    alphabet. ``"d'appeler,"``, ``"Nguyễn"``, ``"1935."`` are; ``"1_=^"``,
    ``"ỷ—.”"``, ``"x3"`` are not."""
    core = text.strip(_EDGE_PUNCTUATION)
    if not core:
        return False
    if any(ch.isdigit() for ch in core):
        return all(ch.isdigit() or ch in ".,:/-%" for ch in core)
    return any(ch.isalpha() for ch in core) and all(ch.isalpha() or ch in _INNER_MARKS for ch in core)


def is_good(row: TsvWord) -> bool:
    return row.conf >= GOOD_WORD_CONFIDENCE and is_wordlike(row.text)


def holds_text(rows: Sequence[TsvWord]) -> bool:
    """Whether a reading is of text at all (perhaps poorly read) rather than
    of a picture, noise or an upside-down page: enough of its words are
    word-like and read with some confidence. Real pages measured 0.57 (a
    Fraktur block read with the French model) to 0.98; pictures, and pages
    read upside down or mirrored, 0 to 0.27."""
    if not rows:
        return False
    return sum(1 for r in rows if is_good(r)) / len(rows) >= TEXT_PAGE_GOOD_SHARE


def garbage_rows(rows: Sequence[TsvWord]) -> set[int]:
    """The ``index`` of rows that are tesseract's inventions, not text:

    - on any page, "words" of symbols alone read with confidence below
      ``SPECK_CONFIDENCE`` (specks of dust, rules, the edge of a frame);
    - on a page that does not hold text (:func:`holds_text`: a picture,
      noise, a page that could not be turned the right way), every word but
      the word-like ones of lines that read well (a caption).

    Real words read with low confidence on a page of text are kept: they are
    worth a librarian's correction.
    """
    if not holds_text(rows):
        lines: dict[tuple[int, int, int], list[TsvWord]] = {}
        for row in rows:
            lines.setdefault((row.block_num, row.par_num, row.line_num), []).append(row)
        kept = set()
        for line in lines.values():
            good = [r for r in line if is_good(r)]
            if len(good) >= 2 and len(good) >= CAPTION_GOOD_SHARE * len(line):
                kept |= {r.index for r in line if is_wordlike(r.text)}
        return {r.index for r in rows} - kept
    return {r.index for r in rows if 0 <= r.conf < SPECK_CONFIDENCE and is_specks(r.text)}
