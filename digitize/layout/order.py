"""Reading order, columns and articles.

Order follows Breuel's two rules for text blocks (T. M. Breuel, "High
performance document layout analysis", 2003; in the form OCRopus gives
them), sorted topologically:

1. a comes before b when they overlap sideways and a lies above b;
2. a comes before b when a lies wholly left of b, unless some block c
   separates them: c meets the rows they span and reaches across the gap
   between them, like a headline over the columns of its story.

So columns are read top to bottom, left to right, and a headline comes
before the columns under it while the columns above it come first. (Which
blocks take part, and where running heads, straddling captions and folios
go, is :func:`digitize.layout.analyse.read_sequence`'s business.)
Boxes are ``(n, 4)`` arrays ``x0, y0, x1, y1`` (end exclusive), any unit.
"""

from __future__ import annotations

import numpy as np

OVERLAP_MIN = 2  # boxes overlapping sideways by less than this do not count as overlapping ...
OVERLAP_SHARE = 0.1  # ... nor by less than this share of the narrower
ARTICLE_SPAN_SHARE = 0.6  # a headline over this share of a block's width heads its article
DECK_CENTRE_SHARE = 0.25  # a deck's centre lies within this share of its headline's width from the headline's
COLUMN_ROWS_PERCENTILE = 75  # a page has as many columns as this percentile of its rows show


def sideways_overlap(boxes: np.ndarray) -> np.ndarray:
    """``(n, n) bool``: the boxes' x ranges overlap by at least
    ``OVERLAP_SHARE`` of the narrower (neighbouring columns touching by a
    few pixels do not)."""
    x0, x1 = boxes[:, 0], boxes[:, 2]
    width = x1 - x0
    shared = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    return shared >= np.maximum(OVERLAP_MIN, OVERLAP_SHARE * np.minimum(width[:, None], width[None, :]))


def precedence(boxes: np.ndarray) -> np.ndarray:
    """``(n, n) bool``: ``before[a, b]`` when a must be read before b.

    As in OCRopus (``ocrolib.morph.reading_order``): a before b when they
    overlap sideways and a starts higher; or when a lies left of b and no
    box c separates them, c meeting the rows the two span and reaching
    across the gap between them (a headline over both columns)."""
    n = len(boxes)
    if n == 0:
        return np.zeros((0, 0), bool)
    x0, y0, x1, y1 = (boxes[:, i] for i in range(4))
    overlap = sideways_overlap(boxes)
    np.fill_diagonal(overlap, False)
    before = overlap & (y0[:, None] < y0[None, :])
    left_of = ~overlap & (x0[:, None] < x0[None, :]) & (x1[:, None] < x1[None, :])
    np.fill_diagonal(left_of, False)
    for a in np.flatnonzero(left_of.any(axis=1)):
        right = np.flatnonzero(left_of[a])  # the b's
        top = np.minimum(y0[a], y0[right])[:, None]
        bottom = np.maximum(y1[a], y1[right])[:, None]
        crossing = (y1[None, :] >= top) & (y0[None, :] <= bottom) & (x0[None, :] < x1[a]) & (x1[None, :] > x0[right][:, None])
        crossing[:, a] = False
        crossing[np.arange(len(right)), right] = False
        before[a, right[~crossing.any(axis=1)]] = True
    return before


def reading_order(boxes: np.ndarray) -> list[int]:
    """Indices of ``boxes`` in reading order: a topological sort of
    :func:`precedence`, taking the leftmost (then topmost) free box each
    time; a cycle (a layout the rules cannot settle) is broken at the
    topmost box left."""
    n = len(boxes)
    if n == 0:
        return []
    before = precedence(boxes)
    waiting = before.sum(axis=0)
    done = np.zeros(n, bool)
    rank = np.empty(n, int)
    rank[np.lexsort((boxes[:, 1], boxes[:, 0]))] = np.arange(n)
    order: list[int] = []
    for _ in range(n):
        free = np.flatnonzero(~done & (waiting == 0))
        if len(free):
            pick = int(free[np.argmin(rank[free])])
        else:
            left = np.flatnonzero(~done)
            pick = int(left[np.argmin(boxes[left, 1])])
        done[pick] = True
        order.append(pick)
        waiting = waiting - before[pick]
    return order


def sections(boxes: np.ndarray, rules: np.ndarray, min_width_px: float, join_px: float = 0.0) -> np.ndarray:
    """``(n,) int``: the band of the page each box lies in (by its middle),
    the bands cut by horizontal ``rules`` (boxes ``x0, y0, x1, y1``) at least
    ``min_width_px`` long: a rule across the page closes a section, and the
    columns above it are read before anything below it. Pieces of a rule
    (a faint rule binarised broken) on one row, at most ``join_px`` apart
    and with middles within that of each other, count as one."""
    if len(boxes) == 0 or len(rules) == 0:
        return np.zeros(len(boxes), int)
    rows: list[list[float]] = []  # x0, x1, middle
    for x0, y0, x1, y1 in sorted(rules.tolist()):
        middle = (y0 + y1) / 2.0
        for row in rows:
            if abs(row[2] - middle) <= join_px and x0 - row[1] <= join_px:
                row[1] = max(row[1], x1)
                break
        else:
            rows.append([float(x0), float(x1), middle])
    joined = np.array([[r[0], r[2], r[1], r[2]] for r in rows])
    wide = joined[(joined[:, 2] - joined[:, 0]) >= min_width_px]
    cuts = np.sort((wide[:, 1] + wide[:, 3]) / 2.0)
    middles = (boxes[:, 1] + boxes[:, 3]) / 2.0
    return np.searchsorted(cuts, middles).astype(int)


def columns_by_rows(boxes: np.ndarray, step_px: int) -> tuple[int, np.ndarray]:
    """The columns of body text, counted across the page: on each row (every
    ``step_px``), the blocks crossing it are ranked left to right; the page
    has as many columns as a quarter of its rows show side by side, and each
    block the column of its median rank. ``(columns, (n,) int column of
    each box)``."""
    n = len(boxes)
    if n == 0:
        return 0, np.zeros(0, int)
    top, bottom = int(boxes[:, 1].min()), int(boxes[:, 3].max())
    rows = np.arange(top, bottom, max(1, step_px))
    crossing = (boxes[None, :, 1] <= rows[:, None]) & (rows[:, None] < boxes[None, :, 3])  # (rows, n)
    counts = crossing.sum(axis=1)
    if not (counts > 0).any():
        return 0, np.zeros(n, int)
    columns = int(np.percentile(counts[counts > 0], COLUMN_ROWS_PERCENTILE, method="lower"))
    x_rank = np.argsort(np.argsort(boxes[:, 0], kind="stable"), kind="stable")
    # rank of each crossing block among those crossing the row: how many crossing ones start left of it
    ranks = np.cumsum(crossing[:, np.argsort(x_rank)], axis=1)[:, x_rank] - 1
    column = np.zeros(n, int)
    for i in range(n):
        mine = ranks[crossing[:, i], i]
        column[i] = int(np.median(mine)) if len(mine) else 0
    return columns, column


def column_of(box, starts: np.ndarray) -> int | None:
    """The column a box starts in: the one whose blocks start nearest its
    left edge (``starts`` ``(k,)``: the usual left edge of each column)."""
    if len(starts) == 0:
        return None
    return int(np.argmin(np.abs(starts - box[0])))


def articles(boxes: np.ndarray, is_headline: np.ndarray, is_text: np.ndarray, gap_px: float) -> np.ndarray:
    """``(n,) int`` article of each box, -1 for none.

    A headline opens an article; headlines stacked under it (deck, subhead
    within ``gap_px``) join it; a text block belongs to the nearest headline
    above it that spans most of its width. Text with no such headline
    (a story continued from elsewhere) stays out."""
    n = len(boxes)
    article = np.full(n, -1)
    heads = np.flatnonzero(is_headline)
    heads = heads[np.argsort(boxes[heads, 1])]
    count = 0
    for h in heads:
        parent = _headline_above(boxes, heads, h, gap_px, article)
        if parent >= 0:
            article[h] = article[parent]
        else:
            article[h] = count
            count += 1
    for t in np.flatnonzero(is_text):
        x0, y0, x1, _ = boxes[t]
        share = (np.minimum(x1, boxes[heads, 2]) - np.maximum(x0, boxes[heads, 0])) / max(1, x1 - x0)
        candidates = heads[(share >= ARTICLE_SPAN_SHARE) & (boxes[heads, 3] <= y0 + gap_px)]
        if len(candidates):
            nearest = candidates[np.argmax(boxes[candidates, 3])]
            between = is_headline & (boxes[:, 1] >= boxes[nearest, 3]) & (boxes[:, 3] <= y0)
            between &= (np.minimum(x1, boxes[:, 2]) - np.maximum(x0, boxes[:, 0])) > 0
            between[nearest] = False
            if not between.any():
                article[t] = article[nearest]
    return article


def _headline_above(boxes, heads, h, gap_px, article) -> int:
    x0, y0, x1, _ = boxes[h]
    for other in heads:
        if other == h or article[other] < 0:
            continue
        ox0, _, ox1, oy1 = boxes[other]
        if not 0 <= y0 - oy1 <= gap_px or min(x1, ox1) - max(x0, ox0) <= 0.5 * min(x1 - x0, ox1 - ox0):
            continue
        # a deck is set under its headline, no wider, centred on it or flush with its left edge; a
        # one-column headline in a corner under a banner across the page opens an article of its own,
        # and so does a banner under a masthead
        if x1 - x0 > (ox1 - ox0) + gap_px:
            continue
        if abs((x0 + x1) - (ox0 + ox1)) / 2 <= DECK_CENTRE_SHARE * (ox1 - ox0) or abs(x0 - ox0) <= gap_px:
            return int(other)
    return -1
