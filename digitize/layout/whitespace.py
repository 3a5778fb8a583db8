"""Column gutters found by whitespace analysis.

A gutter is a corridor of paper between two stretches of text: on each row
of it, a white run at least a character wide with text (or a picture, a
frame) at both ends, and, as a whole, straight enough to hold a vertical
white line at least ``GUTTER_MIN_LINES`` text lines long, with the text on
at least one side aligned (the justified ends of one column's lines, the
starts of the next one's). Word spaces are closed first (wider for big type,
whose spaces are wider), so the rivers of white that justified text makes
do not count; the narrow ends a corridor picks up where it runs into a word
space are trimmed; a patch of worn type, ragged on both sides, is no gutter.
Column rules do not block a corridor: a narrow gutter with a rule down its
middle is still one gutter.

Everything is in working pixels (see :mod:`digitize.layout.ink`).
"""

from __future__ import annotations

import cv2
import numpy as np

from digitize.layout.ink import PageInk
from digitize.layout.lines import line_pieces
from digitize.layout.rules import label, rect

WORD_GAP_CHARS = 0.6  # word spaces up to about 2 × this are closed
LINE_GAP_CHARS = 1.5  # the gap between the lines of a paragraph is closed
BIG_TYPE_CHARS = 1.5  # pieces of lines with type this many char_px high get spaces closed in proportion ...
BIG_TYPE_SPACE = 0.75  # ... this share of their character height on each side
GUTTER_MIN_WIDTH_CHARS = 1.0  # a gutter is at least this wide ...
GUTTER_MIN_LINES = 6  # ... and this many lines of body text long
LINE_PITCH_CHARS = 2.5  # a line of body text every this many char_px, about
ALIGN_TOLERANCE_CHARS = 0.5  # a side is aligned when its text edges lie this close to their median ...
ALIGNED_ROWS_SHARE = 0.6  # ... on this share of the corridor's rows
GUTTER_END_WIDTH_SHARE = 0.6  # corridor ends narrower than this share of its usual width are cut


def closed_text(page: PageInk, text: np.ndarray) -> np.ndarray:
    """``(h, w) uint8``: the text mask with word spaces and the gaps between
    the lines of a paragraph closed; pieces of big type (median character
    height over ``BIG_TYPE_CHARS``) widened in proportion, as their spaces are."""
    char = page.char_px
    gap = max(1, int(round(WORD_GAP_CHARS * char)))
    closed = cv2.morphologyEx(text, cv2.MORPH_CLOSE, rect(2 * gap + 1, int(LINE_GAP_CHARS * char) | 1))
    pieces = line_pieces(page, text)
    for (x0, y0, x1, y1), size in zip(pieces.boxes, pieces.char_px):
        if size > BIG_TYPE_CHARS * char:
            pad = int(BIG_TYPE_SPACE * size)
            cv2.rectangle(closed, (int(x0 - pad), int(y0)), (int(x1 + pad), int(y1 - 1)), 1, -1)
    return closed


def _has_aligned_side(mine: np.ndarray, left: np.ndarray, right: np.ndarray, char_px: float) -> bool:
    """Is the text along at least one side of a corridor aligned, as the
    justified ends of one column's lines or the starts of the next one's
    are? A corridor of worn or faded type has ragged sides. ``mine`` is the
    corridor in its box, ``left``/``right`` the blocker columns there;
    only the narrow part of the corridor (where it separates) is judged."""
    widths = mine.sum(axis=1)
    narrow = widths <= 2 * np.percentile(widths, 25)
    rows = np.flatnonzero(narrow)
    first = np.argmax(mine[rows], axis=1)
    last = mine.shape[1] - 1 - np.argmax(mine[rows, ::-1], axis=1)
    tolerance = ALIGN_TOLERANCE_CHARS * char_px
    for edge in (left[rows, first].astype(float), right[rows, last].astype(float)):
        if np.mean(np.abs(edge - np.median(edge)) <= tolerance) >= ALIGNED_ROWS_SHARE:
            return True
    return False


def white_run_ends(blocker: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel, the column of the nearest blocker pixel at or left of
    it (-1 if none) and at or right of it (width if none): ``(h, w)`` ints."""
    height, width = blocker.shape
    dtype = np.int16 if width < 32000 else np.int32
    columns = np.arange(width, dtype=dtype)[None, :]
    left = np.maximum.accumulate(np.where(blocker, columns, dtype(-1)), axis=1)
    right = np.minimum.accumulate(np.where(blocker, columns, dtype(width))[:, ::-1], axis=1)[:, ::-1]
    return left, right


def gutters(page: PageInk, text: np.ndarray, obstacles: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """The gutters of a page: ``(mask (h, w) bool, boxes)``, boxes
    ``(x0, y0, x1, y1)`` end exclusive, working pixels.

    ``text``: ``(h, w) uint8`` mask of the character components;
    ``obstacles``: ``(h, w) bool`` pictures, rules, frames, borders."""
    char = page.char_px
    blocker = (closed_text(page, text) > 0) | obstacles
    left, right = white_run_ends(blocker)
    height, width = blocker.shape
    run = right.astype(np.int32) - left - 1
    bounded = (~blocker) & (left >= 0) & (right < width)
    corridor = (bounded & (run >= max(3, int(round(GUTTER_MIN_WIDTH_CHARS * char))))).view(np.uint8)
    del run, bounded
    min_length = int(GUTTER_MIN_LINES * LINE_PITCH_CHARS * char)
    corridor = cv2.morphologyEx(corridor, cv2.MORPH_OPEN, rect(1, min_length))
    count, labels, stats = label(corridor)
    mask = np.zeros((height, width), bool)
    boxes = []
    for i in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if h < min_length:
            continue
        mine = labels[y : y + h, x : x + w] == i
        widths = mine.sum(axis=1)
        keep = np.flatnonzero(widths >= GUTTER_END_WIDTH_SHARE * np.percentile(widths, 25))
        top, bottom = int(keep[0]), int(keep[-1]) + 1
        if bottom - top < min_length:
            continue
        if not _has_aligned_side(mine[top:bottom], left[y + top : y + bottom, x : x + w], right[y + top : y + bottom, x : x + w], char):
            continue
        mask[y + top : y + bottom, x : x + w] |= mine[top:bottom]
        boxes.append((x, y + top, x + w, y + bottom))
    return mask, boxes
