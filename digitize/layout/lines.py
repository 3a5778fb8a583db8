"""Text lines: the character components smeared along their rows, cut at the
gutters, pictures and rules; pieces of big type on one row joined; specks
and picture debris dropped; lines run together (a descender touching the
ascender below) cut apart.

Working pixels throughout (see :mod:`digitize.layout.ink`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from digitize.layout.ink import CHAR, Coverage, PageInk
from digitize.layout.rules import label, rect

GUTTER_GAP_SHARE = 0.8  # a line is cut at a separator only where this share of the lines it crosses have a gap
SMEAR_CHARS = 3.0  # gaps up to this many char_px join characters into one line piece
ROW_OVERLAP = 0.6  # pieces share a row when they overlap by this share of the lower one
PIECE_SIZE_RATIO = 1.5  # pieces of one line have character heights within this ratio
PIECE_GAP_SIZES = 1.6  # big type: pieces this many of their character heights apart still join
IN_PICTURE_SHARE = 0.5  # a line this much inside a picture belongs to the picture
MIN_LINE_HEIGHT_CHARS = 0.8  # a line lower than this is specks or a dotted rule
FEW_CHARS = 3  # a line of at most this many components is suspect (specks, debris)
SIZE_QUANTILE = 0.3  # a line's type size: this quantile of its letters' heights (about the x-height:
# the marks stacked on Vietnamese vowels merge with them at low resolution and only lift the upper quantiles)
MARK_HEIGHT_SHARE = 0.6  # components lower than this share of char_px are marks, not letters
TALL_LINE_RATIO = 1.6  # a line this many times the usual height for its type is two run together ...
CUT_INK_SHARE = 0.5  # ... cut at a row with at most this share of the line's usual ink per row
LONE_BLOT_ASPECT = 2.0  # a lone component narrower than this many times its height is no line
SEPARATOR_ROWS_SHARE = 0.5  # a separator between two pieces must cross half their common rows
CUT_ROWS_SHARE = 0.25  # a separator over this share of a line's rows, through a gap in it, cuts it
JOIN_CHUNK = 256  # pieces compared at a time (memory: chunk × pieces)
BRIDGE_SIZE_RATIO = 1.5  # pieces of a broken line, and the line bridging them, have type within this ratio
BRIDGE_REACH_LINES = 1.0  # a bridging line lies within this many line heights above or below ...
BRIDGE_OVERHANG_CHARS = 1.0  # ... and reaches this many char_px past the gap on either side


@dataclass(frozen=True)
class Lines:
    """Text lines of a page, working pixels.

    ``boxes`` ``(n, 4) int``: ``x0, y0, x1, y1`` (end exclusive);
    ``char_px`` ``(n,) float``: median height of the line's characters;
    ``weight_px`` ``(n,) float``: median square root of their ink areas;
    ``chars`` ``(n,) int``: how many components the line holds.
    """

    boxes: np.ndarray
    char_px: np.ndarray
    weight_px: np.ndarray
    chars: np.ndarray

    def __len__(self) -> int:
        return len(self.boxes)

    def take(self, keep: np.ndarray) -> "Lines":
        return Lines(self.boxes[keep], self.char_px[keep], self.weight_px[keep], self.chars[keep])


def line_pieces(page: PageInk, text: np.ndarray, separators: np.ndarray | None = None) -> Lines:
    """Characters smeared along their rows into pieces of lines (not yet
    joined across wide spaces), cut at ``separators`` ``(h, w) bool``."""
    smear = cv2.morphologyEx(text, cv2.MORPH_CLOSE, rect(int(SMEAR_CHARS * page.char_px) | 1, 1))
    if separators is not None:
        smear[separators] = 0
    count, pieces, stats = label(smear)
    if count <= 1:
        return Lines(np.zeros((0, 4), np.int64), np.zeros(0), np.zeros(0), np.zeros(0, int))
    boxes = np.stack(
        [stats[1:, 0], stats[1:, 1], stats[1:, 0] + stats[1:, 2], stats[1:, 1] + stats[1:, 3]], axis=1
    ).astype(np.int64)
    char_px, weight_px, chars = _piece_characters(page, pieces, count)
    return Lines(boxes, char_px, weight_px, chars)


def find_lines(page: PageInk, text: np.ndarray, separators: np.ndarray, pictures: Coverage) -> Lines:
    """Lines from the ``text`` mask ``(h, w) uint8``; ``separators`` ``(h, w)
    bool`` (gutters, pictures, rules) are never crossed; lines mostly in
    ``pictures`` belong to them."""
    pieces = line_pieces(page, text, separators)
    if len(pieces) == 0:
        return pieces
    group = _join_pieces(pieces.boxes, pieces.char_px, separators)
    lines = _merge_groups(pieces, group)
    lines = lines.take(~_is_debris(lines, page.char_px, pictures))
    lines = cut_at_separators(split_tall_lines(lines, text), text, page.column_rules)
    return join_broken_lines(lines, separators)


def cut_at_separators(lines: Lines, text: np.ndarray, separators: np.ndarray) -> Lines:
    """Lines cut where a separator ``(h, w) bool`` (the vertical rules
    between columns) crosses them through a gap in their letters: the smear
    of the last lines of two columns can run round the end of a column rule
    a little shorter than the text, and a line of one column must not go on
    into the next."""
    boxes, keep_index = [], []
    changed = False
    # a separator is a gutter's rule only if (nearly) every line it crosses has a gap there: a faint
    # stroke through a one-column block meets a word space in a line now and then, not in all of them
    width = separators.shape[1]
    crossed, gapped = np.zeros(width, int), np.zeros(width, int)
    seen = []
    for box in lines.boxes:
        x0, y0, x1, y1 = (int(v) for v in box)
        if x1 - x0 > 2 and y1 > y0:
            crossing = separators[y0:y1, x0:x1].mean(axis=0) >= CUT_ROWS_SHARE
            empty = ~(text[y0:y1, x0:x1].astype(bool) & ~separators[y0:y1, x0:x1]).any(axis=0)
            crossed[x0:x1] += crossing
            gapped[x0:x1] += crossing & empty
            seen.append((crossing, empty))
        else:
            seen.append(None)
    gutter = gapped >= np.ceil(GUTTER_GAP_SHARE * crossed)
    for i, box in enumerate(lines.boxes):
        x0, y0, x1, y1 = (int(v) for v in box)
        parts = [[x0, y0, x1, y1]]
        if seen[i] is not None:
            crossing, empty = seen[i]
            cuts = np.flatnonzero(crossing & empty & gutter[x0:x1])
            cuts = cuts[(cuts > 0) & (cuts < x1 - x0 - 1)]
            if len(cuts):
                parts, start = [], x0
                for c in cuts:
                    if text[y0:y1, start:x0 + c].any():
                        parts.append(_tight(text, [start, y0, x0 + c, y1]))
                    start = x0 + c + 1
                if text[y0:y1, start:x1].any():
                    parts.append(_tight(text, [start, y0, x1, y1]))
                changed |= len(parts) > 1
        boxes.extend(parts)
        keep_index.extend([i] * len(parts))
    if not changed:
        return lines
    index = np.array(keep_index)
    widths = np.array([b[2] - b[0] for b in boxes], float)
    share = widths / np.maximum(1.0, np.bincount(index, weights=widths)[index])
    chars = np.maximum(1, np.round(lines.chars[index] * share)).astype(int)
    cut = Lines(np.array(boxes, dtype=np.int64).reshape(-1, 4), lines.char_px[index], lines.weight_px[index], chars)
    order = np.lexsort((cut.boxes[:, 0], cut.boxes[:, 1]))
    return cut.take(order)


def join_broken_lines(lines: Lines, separators: np.ndarray) -> Lines:
    """Pieces of one line parted by a gap wider than a word space (worn or
    faded words the binarisation lost) joined again, when the line above or
    below, in type of the same size, runs on across the gap with ink on
    both sides of it and no separator stands in the gap or between the
    lines: that gap is inside a column, not a gutter. Left alone, the
    pieces would each start a block of their own and the faded words
    between them would never be read."""
    n = len(lines)
    if n < 3:
        return lines
    integral = cv2.integral(separators.view(np.uint8))

    def blocked(x0: int, y0: int, x1: int, y1: int) -> bool:
        if x1 <= x0 or y1 <= y0:
            return False
        return bool(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0] > 0)

    boxes, size = lines.boxes, lines.char_px
    x0, y0, x1, y1 = boxes.T
    h = y1 - y0
    parent = np.arange(n)
    order = np.argsort(y0, kind="stable")
    starts = y0[order]
    reach = 3 * int(h.max()) + 1
    for i in range(n):
        lo, hi = np.searchsorted(starts, [y0[i] - reach, y1[i] + reach])
        near = order[lo:hi]
        overlap = np.minimum(y1[i], y1[near]) - np.maximum(y0[i], y0[near])
        ratio = np.maximum(size[i], size[near]) / np.maximum(1e-6, np.minimum(size[i], size[near]))
        right = near[(overlap >= ROW_OVERLAP * np.minimum(h[i], h[near])) & (x0[near] > x1[i])
                     & (ratio <= BRIDGE_SIZE_RATIO)]
        if len(right) == 0:
            continue
        j = int(right[np.argmin(x0[right])])  # the next piece on the row
        top, bottom = int(max(y0[i], y0[j])), int(min(y1[i], y1[j]))
        if blocked(int(x1[i]), top, int(x0[j]), bottom):
            continue
        over = BRIDGE_OVERHANG_CHARS * max(size[i], size[j])
        k = near[(near != i) & (near != j)]
        row_h = max(h[i], h[j])
        above = (y1[k] <= top + 1) & (y1[k] >= min(y0[i], y0[j]) - BRIDGE_REACH_LINES * row_h - 1)
        below = (y0[k] >= bottom - 1) & (y0[k] <= max(y1[i], y1[j]) + BRIDGE_REACH_LINES * row_h + 1)
        alike = np.maximum(size[k], size[i]) <= BRIDGE_SIZE_RATIO * np.minimum(size[k], size[i])
        spans = (x0[k] <= x1[i] - over) & (x1[k] >= x0[j] + over)
        for b in k[(above | below) & alike & spans]:
            gap_top, gap_bottom = (int(y1[b]), top) if y1[b] <= top + 1 else (bottom, int(y0[b]))
            if not blocked(int(x1[i]), gap_top, int(x0[j]), gap_bottom):
                ri, rj = _find(parent, i), _find(parent, j)
                parent[max(ri, rj)] = min(ri, rj)
                break
    group = np.array([_find(parent, i) for i in range(n)])
    if len(np.unique(group)) == n:
        return lines
    return _merge_groups(lines, group)


def split_tall_lines(lines: Lines, text: np.ndarray) -> Lines:
    """Lines run together (a descender touching the ascender below) cut
    apart at the emptiest row near one line's height from the top, again
    while what is left is still too tall for its type."""
    if len(lines) == 0:
        return lines
    height = lines.boxes[:, 3] - lines.boxes[:, 1]
    ordinary = lines.chars >= FEW_CHARS + 1
    if ordinary.sum() < 3:
        return lines
    unit_h = float(np.median(height[ordinary] / lines.char_px[ordinary]))  # line height per char_px
    boxes, keep_index = [], []
    for i, box in enumerate(lines.boxes):
        expected = unit_h * lines.char_px[i]
        parts = _cut(text, [int(v) for v in box], expected) if height[i] > TALL_LINE_RATIO * expected else [box]
        boxes.extend(parts)
        keep_index.extend([i] * len(parts))
    if len(boxes) == len(lines):
        return lines
    index = np.array(keep_index)
    split = Lines(np.array(boxes, dtype=np.int64).reshape(-1, 4), lines.char_px[index], lines.weight_px[index], lines.chars[index])
    order = np.lexsort((split.boxes[:, 0], split.boxes[:, 1]))
    return split.take(order)


def _cut(text: np.ndarray, box: list[int], expected_px: float) -> list[list[int]]:
    """Cut a tall box into lines about ``expected_px`` high, top down, at
    rows thin in ink (at most ``CUT_INK_SHARE`` of the box's median row):
    where lines ran together only descenders and ascenders cross; through
    the middle of a line of big letters every row is inked."""
    x0, y0, x1, y1 = box
    parts = []
    lo = max(1, int(0.6 * expected_px))
    typical = float(np.median(text[y0:y1, x0:x1].sum(axis=1)))
    while y1 - y0 > TALL_LINE_RATIO * expected_px:
        hi = int(min(y1 - y0 - 0.6 * expected_px, 1.5 * expected_px))
        if hi <= lo:
            break
        profile = text[y0 + lo : y0 + hi, x0:x1].sum(axis=1)
        rows = np.arange(lo, hi)
        # the emptiest row, nearer one line's height from the top on a tie
        at = int(rows[np.lexsort((np.abs(rows - expected_px), profile))[0]])
        if profile[at - lo] > CUT_INK_SHARE * typical:
            break  # no thin row to cut at: one line of big type in broken pieces, not lines run together
        parts.append(_tight(text, [x0, y0, x1, y0 + at]))
        y0 += at
    parts.append(_tight(text, [x0, y0, x1, y1]))
    return parts


def _tight(text: np.ndarray, box: list[int]) -> list[int]:
    """The box shrunk to the text inside it."""
    x0, y0, x1, y1 = box
    inside = text[y0:y1, x0:x1]
    cols = np.flatnonzero(inside.any(axis=0))
    rows = np.flatnonzero(inside.any(axis=1))
    if len(cols) == 0:
        return box
    return [x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1]


def _is_debris(lines: Lines, char_px: float, pictures: Coverage) -> np.ndarray:
    """``(n,) bool``: "lines" that are specks of a picture, stray marks or
    a lone blot rather than text: mostly inside a picture; one component no
    wider than a couple of letters; a few components smaller than letters;
    a few components touching a picture."""
    width = lines.boxes[:, 2] - lines.boxes[:, 0]
    height = lines.boxes[:, 3] - lines.boxes[:, 1]
    few = lines.chars <= FEW_CHARS
    debris = pictures.share(lines.boxes) >= IN_PICTURE_SHARE
    debris |= lines.chars == 0
    debris |= (lines.chars == 1) & (width < LONE_BLOT_ASPECT * height)
    debris |= height < MIN_LINE_HEIGHT_CHARS * char_px  # specks, dotted and dashed rules
    debris |= few & (pictures.pixels(lines.boxes) > 0)
    return debris


def _piece_characters(page: PageInk, pieces: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each piece (labels 1..count-1): the median height of its
    characters, the median square root of their ink area (bold and big type
    weigh more), and how many there are."""
    x, y, w, h = (page.stats[:, i] for i in range(4))
    # each character's piece, read at the middle of its box: the smear fills a
    # character's box row wherever it has ink on both sides or a neighbour
    piece_of = pieces[y + h // 2, x + w // 2]
    chosen = np.flatnonzero((page.classes == CHAR) & (piece_of > 0))
    owner = piece_of[chosen].astype(np.int64) - 1
    n = count - 1
    chars = np.bincount(owner, minlength=n)
    # sizes from the letters, not their marks: dots and diacritics (ơ's horn,
    # the tone marks stacked on Vietnamese vowels) would drag the medians down
    letters = page.stats[chosen, 3] >= MARK_HEIGHT_SHARE * page.char_px
    heights = _group_quantile(owner[letters], page.stats[chosen[letters], 3].astype(float), n, page.char_px, SIZE_QUANTILE)
    weights = _group_quantile(owner[letters], np.sqrt(page.stats[chosen[letters], 4].astype(float)), n, page.char_px, 0.5)
    return heights, weights, chars


def _group_quantile(owner: np.ndarray, values: np.ndarray, n: int, default: float, q: float) -> np.ndarray:
    """``(n,)`` the ``q`` quantile of ``values`` per ``owner`` (0..n-1), ``default`` where none."""
    order = np.lexsort((values, owner))
    owner, values = owner[order], values[order]
    counts = np.bincount(owner, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    median = np.full(n, float(default))
    has = counts > 0
    at = (counts[has] - 1) * q
    lo = starts[has] + np.floor(at).astype(int)
    hi = starts[has] + np.ceil(at).astype(int)
    median[has] = (values[lo] + values[hi]) / 2.0
    return median


def _join_pieces(boxes: np.ndarray, char_px: np.ndarray, separators: np.ndarray) -> np.ndarray:
    """Union-find over pieces of one row (big type with wide spaces):
    ``(n,) int`` group of each piece."""
    n = len(boxes)
    parent = np.arange(n)
    if n < 2:
        return parent
    integral = cv2.integral(separators.view(np.uint8))
    x0, y0, x1, y1 = boxes.T
    h = y1 - y0
    for start in range(0, n, JOIN_CHUNK):
        rows = slice(start, min(n, start + JOIN_CHUNK))
        overlap = np.minimum(y1[rows, None], y1[None, :]) - np.maximum(y0[rows, None], y0[None, :])
        gap = x0[None, :] - x1[rows, None]  # from the right end of i to the left end of j
        small = np.minimum(char_px[rows, None], char_px[None, :])
        size = np.maximum(char_px[rows, None], char_px[None, :])
        candidate = (
            (overlap >= ROW_OVERLAP * np.minimum(h[rows, None], h[None, :]))
            & (gap >= -1)
            & (gap <= PIECE_GAP_SIZES * size)
            & (size <= PIECE_SIZE_RATIO * np.maximum(1e-6, small))
        )
        for i, j in zip(*np.nonzero(candidate)):
            i += start
            top, bottom = max(y0[i], y0[j]), min(y1[i], y1[j])
            left, right = min(x1[i], x0[j]), max(x1[i], x0[j])
            if right > left:
                blocked = integral[bottom, right] - integral[top, right] - integral[bottom, left] + integral[top, left]
                if blocked >= SEPARATOR_ROWS_SHARE * (bottom - top):
                    continue
            ri, rj = _find(parent, i), _find(parent, j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    return np.array([_find(parent, i) for i in range(n)])


def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return int(i)


def _merge_groups(pieces: Lines, group: np.ndarray) -> Lines:
    """Pieces of one group made one line: the union box, sizes averaged over
    the characters, sorted top to bottom then left to right."""
    ids, inverse = np.unique(group, return_inverse=True)
    k = len(ids)
    boxes = pieces.boxes
    merged = np.zeros((k, 4), np.int64)
    merged[:, :2] = np.iinfo(np.int64).max
    for c, reduce in ((0, np.minimum), (1, np.minimum), (2, np.maximum), (3, np.maximum)):
        reduce.at(merged[:, c], inverse, boxes[:, c])
    weight = np.maximum(pieces.chars, 1).astype(float)
    total = np.bincount(inverse, weights=weight, minlength=k)
    size = np.bincount(inverse, weights=pieces.char_px * weight, minlength=k) / total
    heft = np.bincount(inverse, weights=pieces.weight_px * weight, minlength=k) / total
    count = np.bincount(inverse, weights=pieces.chars, minlength=k).astype(int)
    order = np.lexsort((merged[:, 0], merged[:, 1]))
    return Lines(merged[order], size[order], heft[order], count[order])
