"""The ink of a page, on a small copy: the rules taken out (see
:mod:`digitize.layout.rules`), then connected components sorted into
characters, pictures, frames and the scanner's border.

Everything here works on the *working copy*: the page reduced by an integer
``factor`` so that a line of body text is about ``WORK_TEXT_HEIGHT_PX``
pixels high. Lengths ending in ``_px`` are pixels of that copy; multiply by
``factor`` for pixels of the page. ``char_px`` (the median height of the
character-sized components, about an x-height plus a little) is the yardstick
every other threshold is measured in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from digitize import preprocess
from digitize.layout.rules import (
    BAR_ELONGATION,
    BAR_FILL,
    RULE_ELONGATION,
    RULE_LENGTH_CHARS,
    RULE_THICKNESS_CHARS,
    Frame,
    faint_column_rules,
    label,
    rect,
    rule_strokes,
)

WORK_TEXT_HEIGHT_PX = 8.0  # body text lines are reduced to about this height
NOMINAL_CHAR_SHARE = 0.65  # a character is about this share of a line's height
MIN_SKEW_DEG = 0.25  # a page skewed less than this is analysed as it is (straightening costs more than it helps)
MIN_CONTRAST = 35  # grey levels between paper and ink below which a page is blank
NOISE_AREA_CHAR2 = 0.04  # components smaller than this many char_px² are specks
BIG_CHARS = 6.0  # components taller and wider than this are pictures, frames or big letters
HUGE_CHARS = 16.0  # ... and beyond this never letters
PICTURE_MIN_FILL = 0.15  # a big component filling less of its box is a frame or a drawing
FRAME_EDGE_SHARE = 0.6  # a frame keeps this share of its ink near its box's edges
LETTER_MAX_FILL = 0.65
IN_PICTURE_SHARE = 0.5  # a rule this much inside a picture is part of it
BORDER_SPAN = 0.3  # a strip touching an edge, this share of it long ...
BORDER_DEPTH = 0.1  # ... and at most this share of the page deep is the scanner's border
BORDER_MAX_SHARE = 0.2  # dark rows and columns this far in from an edge are cleared first
PICTURE_CLOSE_CHARS = 2.0  # a picture's pieces this close make one area
PICTURE_MARGIN_CHARS = 0.5
RULE_PIECE_CHARS = 2.5  # a stroke this many char_px high ...
RULE_PIECE_WIDTH_PX = 2  # ... and at most this wide (working pixels) is a piece of a faint column rule
RULE_REACH_CHARS = 15.0  # a column rule is drawn on this many char_px past its ends through clear paper
RULE_MIN_CHARS = 5.0  # ... when it is at least this long
FLANK_CHARS = 6.0  # ... and text stands within this many char_px on both sides of it ...
FLANK_GAP_CHARS = 2.5  # ... on rows this close, at most (the space between two lines)
FLANK_SIZE_CHARS = 1.6  # ... text of body size: letters no taller than this many char_px
FLANK_HOLE_CHARS = 2.5  # ... (rows without it on one side, this many char_px at most, between such rows)
RULE_JOIN_CHARS = 3.0  # pieces of a broken column rule this far apart (clear paper between) are one rule
STEM_HEIGHT_RATIO = 1.3  # a vertical "rule" with letters this near its length tall beside it ...
STEM_ROWS_SHARE = 0.8  # ... on this share of its rows ...
STEM_REACH_SHARE = 0.5  # ... within this share of its length on both sides is a letter's stem
PICTURE_PIECE_CHARS = 2.5  # a component this many char_px high touching a picture is a piece of it ...
PIECE_INSIDE_SHARE = 0.5  # ... when this share of its ink lies within the picture's bounding box

# component classes
SPECK, CHAR, RULE_H, RULE_V, PICTURE, FRAME, BORDER = range(7)


@dataclass
class PageInk:
    """The working copy and its components.

    ``labels`` ``(h, w) int32``: component label of each pixel (0 = paper);
    ``stats`` ``(n, 5) int32``: cv2 ``x, y, w, h, area`` per label (row 0 is
    the paper); ``classes`` ``(n,) int8``: one of SPECK, CHAR, RULE_H,
    RULE_V, PICTURE, FRAME, BORDER (row 0 unused).
    """

    factor: int
    gray: np.ndarray
    ink: np.ndarray
    labels: np.ndarray
    stats: np.ndarray
    classes: np.ndarray
    char_px: float
    rules: np.ndarray
    column_rules: np.ndarray
    rules_h: np.ndarray
    rules_v: np.ndarray
    frame: Frame
    blank: bool = False
    picture_strokes: np.ndarray | None = None  # straight strokes of the pictures, taken out with the rules
    _class_map: np.ndarray | None = None  # (h, w) int8 class of each pixel, -1 on paper; made on first use

    @property
    def shape(self) -> tuple[int, int]:
        return self.gray.shape

    def mask(self, *classes: int) -> np.ndarray:
        """``(h, w) bool``: the pixels of components of the given classes."""
        if self._class_map is None:
            self._class_map = self.classes[self.labels]
            self._class_map[self.labels == 0] = -1
        found = self._class_map == classes[0]
        for c in classes[1:]:
            found |= self._class_map == c
        return found

    def boxes(self, *classes: int) -> np.ndarray:
        """``(k, 4) int`` boxes ``x0, y0, x1, y1`` (end exclusive) of the
        components of the given classes, working pixels."""
        chosen = np.flatnonzero(np.isin(self.classes, classes))
        chosen = chosen[chosen > 0]
        x, y, w, h = (self.stats[chosen, i] for i in range(4))
        return np.stack([x, y, x + w, y + h], axis=1) if chosen.size else np.zeros((0, 4), int)


def reduction_factor(size: tuple[int, int], *, text_height_px: float | None, dpi: float | None) -> int:
    """The integer reduction bringing body text to about ``WORK_TEXT_HEIGHT_PX``.

    Uses the text height when known (pixels of the page), else the dpi
    (10-point type is about 30 px high at 300 dpi), else the page size (a
    page 3300 px high is taken for 300 dpi)."""
    if not text_height_px and dpi:
        text_height_px = preprocess.TEXT_HEIGHT_AT_300_DPI_PX * dpi / 300.0
    if not text_height_px:
        text_height_px = preprocess.TEXT_HEIGHT_AT_300_DPI_PX * max(size) / 3300.0
    return max(1, int(text_height_px / WORK_TEXT_HEIGHT_PX + 0.5))


def working_copy(image: Image.Image, factor: int) -> np.ndarray:
    """The page as ``(h, w) uint8`` grey, box-reduced by ``factor``."""
    gray = image if image.mode == "L" else image.convert("L")
    if factor > 1:
        gray = gray.reduce(factor)
    return np.asarray(gray)


def binarise(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ink by Otsu's threshold: ``(ink (h, w) bool, blank)``; a page whose
    two classes differ by less than ``MIN_CONTRAST`` grey levels is blank."""
    threshold = preprocess.otsu_threshold(gray)
    dark = gray <= threshold
    if not dark.any() or dark.all():
        return np.zeros_like(dark), True
    contrast = float(gray[~dark].mean()) - float(gray[dark].mean())
    if contrast < MIN_CONTRAST:
        return np.zeros_like(dark), True
    return dark, False


def char_height_px(stats: np.ndarray) -> float:
    """Median height of the character-sized components (working pixels)."""
    w, h, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
    chars = (h >= 3) & (h <= 60) & (w <= 4 * h) & (area >= 4)
    if chars.sum() < 10:
        return 6.0
    return float(np.median(h[chars]))


def page_ink(image: Image.Image, factor: int, skew_deg: float = 0.0) -> PageInk:
    """Reduce (and straighten by ``skew_deg``), binarise, take out the
    rules, label and classify the components of a page."""
    gray = working_copy(image, factor)
    frame = Frame(factor, gray.shape, 0.0)
    if abs(skew_deg) >= MIN_SKEW_DEG:
        fill = preprocess.paper_level(gray)
        gray = np.asarray(Image.fromarray(gray).rotate(-skew_deg, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=fill))
        frame = Frame(factor, frame.reduced_shape, skew_deg, gray.shape)
    ink, blank = binarise(gray)
    ink &= ~preprocess.border_mask(ink, max_fraction=BORDER_MAX_SHARE)  # the scanner's dark frame
    nominal_char_px = NOMINAL_CHAR_SHARE * WORK_TEXT_HEIGHT_PX
    rules_h_mask, rules_v_mask, rules_h, rules_v = rule_strokes(ink, nominal_char_px)
    faint = faint_column_rules(image, factor, gray, nominal_char_px, frame)
    if faint.any():
        _, _, faint_stats = label(faint)
        x, y, w, h = (faint_stats[1:, i].astype(np.int64) for i in range(4))
        rules_v = np.concatenate([rules_v, np.stack([x, y, x + w, y + h], axis=1)])
        rules_v_mask |= faint
    rules = rules_h_mask | rules_v_mask
    rest = ink & ~rules
    count, labels, stats = label(rest)
    stems = letter_stems(rules_v, stats)
    if stems.any():  # thin stems of big serif capitals, not rules: given back to their letters
        stem_mask = np.zeros_like(rules_v_mask)
        for x0, y0, x1, y1 in rules_v[stems]:
            stem_mask[y0:y1, x0:x1] = True
        rules_v_mask &= ~stem_mask
        rules_v = rules_v[~stems]
        rules = rules_h_mask | rules_v_mask
        rest = ink & ~rules
        count, labels, stats = label(rest)
    char_px = char_height_px(stats)
    classes = classify_components(labels, stats, char_px, gray.shape, rules)
    pieces = rule_pieces(stats, classes, char_px)
    if pieces.any():
        classes[pieces] = SPECK
        piece_mask = pieces[labels]
        rules = rules | piece_mask
        rules_v_mask = rules_v_mask | piece_mask
        x, y, w, h = (stats[pieces, i].astype(np.int64) for i in range(4))  # boxed too, or a page with a
        rules_v = np.concatenate([rules_v, np.stack([x, y, x + w, y + h], axis=1)])  # picture loses them
    page = PageInk(factor, gray, ink, labels, stats, classes, char_px, rules, rules_v_mask, rules_h, rules_v, frame, blank)
    return extend_column_rules(_with_picture_pieces(_without_picture_strokes(page)))


def letter_stems(rules_v: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """``(k,) bool``: which vertical "rules" (boxes ``rules_v`` ``(k, 4)``,
    working pixels) are the thin stems of big letters: letters of a
    masthead set in a serif face (the hairline stems of its N, the thin
    side of its A) are as long as a short rule. A stem has letters
    (``stats`` ``(n, 5)`` of the components of the ink without the rules,
    label 0 the paper) on both sides, each
    about as tall as it (``STEM_HEIGHT_RATIO``) on the same rows and within
    ``STEM_REACH_SHARE`` of its length; a column rule has small type or
    nothing beside it. Left as rules they cut the masthead into pieces read
    one by one."""
    found = np.zeros(len(rules_v), bool)
    if len(rules_v) == 0 or len(stats) <= 1:
        return found
    x, y, w, h = (stats[1:, i].astype(np.int64) for i in range(4))
    for k, (x0, y0, x1, y1) in enumerate(rules_v):
        length = int(y1 - y0)
        rows = np.minimum(y + h, y1) - np.maximum(y, y0)
        alike = (rows >= STEM_ROWS_SHARE * length) & (h <= STEM_HEIGHT_RATIO * length) & \
            (h * STEM_HEIGHT_RATIO >= length)
        reach = STEM_REACH_SHARE * length
        left = alike & (x + w <= x0 + 1) & (x + w >= x0 - reach)
        right = alike & (x >= x1 - 1) & (x <= x1 + reach)
        found[k] = bool(left.any() and right.any())
    return found


def _without_picture_strokes(page: PageInk) -> PageInk:
    """Straight strokes inside a picture (its frame, a mast, a horizon) are
    the picture's, not rules: dropped from the rules, their ink kept in
    ``rules`` only for the rules that remain."""
    pictures = page.boxes(PICTURE)
    if len(pictures) == 0:
        return page
    inside_h = box_overlap_share(page.rules_h, pictures) >= IN_PICTURE_SHARE
    inside_v = box_overlap_share(page.rules_v, pictures) >= IN_PICTURE_SHARE
    if not (inside_h.any() or inside_v.any()):
        return page
    kept_mask = np.zeros_like(page.rules)
    for x0, y0, x1, y1 in np.concatenate([page.rules_h[~inside_h], page.rules_v[~inside_v]]):
        kept_mask[y0:y1, x0:x1] = page.rules[y0:y1, x0:x1]
    page.picture_strokes = page.rules & ~kept_mask
    page.rules = kept_mask
    page.column_rules &= kept_mask
    page.rules_h = page.rules_h[~inside_h]
    page.rules_v = page.rules_v[~inside_v]
    return page


def extend_column_rules(page: PageInk) -> PageInk:
    """Column rules drawn on past their ends (up to ``RULE_REACH_CHARS``)
    while the paper under them stays clear of letters and of horizontal
    rules and body text stands on both sides of it (within
    ``FLANK_CHARS`` sideways and ``FLANK_GAP_CHARS`` up or down; a bare
    stretch of at most ``FLANK_HOLE_CHARS`` between such rows, where a
    paragraph's short last line and the space after it leave one side
    empty, does not stop it): a faint rule that faded out a line or two
    before the end of its columns leaves those lines free to run on into the next column across a
    gutter narrower than a word space. Pieces of a rule that binarised
    broken (stretches, hairline bits taken for letters, gaps of clear paper
    at most ``RULE_JOIN_CHARS`` long) are joined first: a rule in pieces
    each shorter than ``RULE_MIN_CHARS`` was neither drawn on nor a wall,
    and the lines of two columns a hairline apart ran on into each other."""
    vertical = page.column_rules
    if not vertical.any():
        return page
    hairline = (page.classes == CHAR) & (page.stats[:, 2] <= RULE_PIECE_WIDTH_PX + 1)  # bits of the rule itself
    hairline[0] = False
    hairs = hairline[page.labels]
    blocked = (page.mask(CHAR, PICTURE, FRAME, BORDER, RULE_H) & ~hairs) | (page.rules & ~vertical)
    # pieces of one broken rule, one above the other with clear paper or its hairline bits between, are one rule
    join_px = int(RULE_JOIN_CHARS * page.char_px) | 1
    joined = cv2.morphologyEx((vertical | hairs).view(np.uint8), cv2.MORPH_CLOSE, rect(1, join_px)).view(bool)
    joined &= ~blocked
    count, labels, stats = label(joined)
    min_piece = RULE_PIECE_CHARS * page.char_px
    reach = int(RULE_REACH_CHARS * page.char_px)
    body = (page.classes == CHAR) & (page.stats[:, 3] <= FLANK_SIZE_CHARS * page.char_px)
    body[0] = False
    text = body[page.labels]  # body type only: a headline beside the rule's end is no column
    slack = int(FLANK_GAP_CHARS * page.char_px) | 1
    hole = int(FLANK_HOLE_CHARS * page.char_px) | 1
    height = vertical.shape[0]
    added = np.zeros_like(vertical)
    margin = int(page.char_px)
    pictures = page.boxes(PICTURE) + np.array([-margin, -margin, margin, margin])
    for i in range(1, count):
        x, y, w, h = (int(v) for v in stats[i, :4])
        column = labels[y : y + h, x : x + w] == i
        if h < RULE_MIN_CHARS * page.char_px:
            continue
        if (vertical[y : y + h, x : x + w] & column).any(axis=1).sum() < min_piece:
            continue  # aligned hairline bits (an l over an i) without a stretch of rule among them
        if box_overlap_share(np.array([[x, y, x + w, y + h]]), pictures)[0] >= 0.5:
            continue  # a straight stroke of a picture or its frame, not a column rule
        strip = blocked[:, x : x + w].any(axis=1)
        side = int(FLANK_CHARS * page.char_px)
        flanked = text[:, max(0, x - side) : x].any(axis=1) & text[:, x + w : x + w + side].any(axis=1)
        flanked = cv2.dilate(flanked.astype(np.uint8)[:, None], rect(1, slack))
        # a paragraph's short last line and the space after it leave one side bare for a line or two
        flanked = cv2.morphologyEx(flanked, cv2.MORPH_CLOSE, rect(1, hole)).ravel().astype(bool)
        top = y
        while top > 0 and y - top < reach and not strip[top - 1] and flanked[top - 1]:
            top -= 1
        bottom = y + h
        while bottom < height and bottom - (y + h) < reach and not strip[bottom] and flanked[bottom]:
            bottom += 1
        profile = column.any(axis=0)
        added[y : y + h, x : x + w] |= column & ~vertical[y : y + h, x : x + w]
        added[top:y, x : x + w] |= profile
        added[y + h : bottom, x : x + w] |= profile
    if added.any():
        pieces = np.unique(page.labels[added & hairs])
        if len(pieces):
            page.classes[pieces[pieces > 0]] = SPECK
            page._class_map = None
            added |= np.isin(page.labels, pieces[pieces > 0])
        page.column_rules = vertical | added
        page.rules = page.rules | added
    return page


def rule_pieces(stats: np.ndarray, classes: np.ndarray, char_px: float) -> np.ndarray:
    """``(n,) bool``: hairline strokes far taller than any letter of body
    text, the inked stretches of a faint column rule that binarised
    broken (too short for rules, taken for letters they would close the
    narrow gutter beside them)."""
    w, h = stats[:, 2], stats[:, 3]
    found = (classes == CHAR) & (w <= RULE_PIECE_WIDTH_PX) & (h >= RULE_PIECE_CHARS * char_px)
    found[0] = False
    return found


def _with_picture_pieces(page: PageInk) -> PageInk:
    """Components too low to be pictures by themselves but far taller than
    body text (``PICTURE_PIECE_CHARS``) that touch a picture's area are
    pieces of it (a dark corner of a half-tone cut off by its lighter
    part): taken for letters, they would join the headline beside them.
    Only pieces lying mostly within a picture's bounding box: two lines of a
    caption run together under a photograph are not."""
    if not (page.classes == PICTURE).any():
        return page
    area = picture_area(page)
    frames = np.zeros(area.shape, bool)  # the pictures' bounding boxes: a piece of one lies in them
    for x0, y0, x1, y1 in page.boxes(PICTURE):
        frames[y0:y1, x0:x1] = True
    h = page.stats[:, 3]
    candidates = np.flatnonzero((page.classes == CHAR) & (h >= PICTURE_PIECE_CHARS * page.char_px))
    changed = False
    for i in candidates[candidates > 0]:
        x, y, w, hh = (int(v) for v in page.stats[i, :4])
        mine = page.labels[y : y + hh, x : x + w] == i
        inside = (frames[y : y + hh, x : x + w] & mine).sum()
        if inside < PIECE_INSIDE_SHARE * mine.sum():
            continue  # words of a caption set close under the picture, run together, touching its edge
        if (area[y : y + hh, x : x + w] & mine).any():
            page.classes[i] = PICTURE
            changed = True
    if changed:
        page._class_map = None
    return page


def classify_components(
    labels: np.ndarray, stats: np.ndarray, char_px: float, shape: tuple[int, int],
    rules: np.ndarray | None = None,
) -> np.ndarray:
    """``(n,) int8`` class of each component (see the module constants);
    ``rules`` ``(h, w) bool`` (optional): a big component is a letter only
    with neighbours on its side of every rule."""
    height, width = shape
    x, y, w, h, area = (stats[:, i].astype(np.int64) for i in range(5))
    fill = area / np.maximum(1, w * h)
    classes = np.full(len(stats), CHAR, np.int8)
    classes[area <= max(2.0, NOISE_AREA_CHAR2 * char_px * char_px)] = SPECK
    classes[0] = SPECK  # label 0 is the paper

    thin = RULE_THICKNESS_CHARS * char_px + 1
    long_ = RULE_LENGTH_CHARS * char_px
    bar_h = (w >= BAR_ELONGATION * h) & (fill >= BAR_FILL) & (w >= long_)
    bar_v = (h >= BAR_ELONGATION * w) & (fill >= BAR_FILL) & (h >= long_)
    classes[((w >= long_) & ((h <= thin) | (w >= RULE_ELONGATION * h))) | bar_h] = RULE_H
    classes[((h >= long_) & ((w <= thin) | (h >= RULE_ELONGATION * w))) | bar_v] = RULE_V

    big = (w >= BIG_CHARS * char_px) & (h >= BIG_CHARS * char_px) & (classes == CHAR)
    big |= ((w >= 3 * BIG_CHARS * char_px) | (h >= 3 * BIG_CHARS * char_px)) & (classes == CHAR)
    for i in np.flatnonzero(big):
        if _is_border(x[i], y[i], w[i], h[i], width, height):
            classes[i] = BORDER
        elif fill[i] < PICTURE_MIN_FILL:
            classes[i] = FRAME if _is_frame(labels, stats, i) else PICTURE
        elif not _is_big_letter(i, x, y, w, h, fill, char_px, classes, rules):
            classes[i] = PICTURE
    return classes


class Coverage:
    """How much of a box a mask covers, in constant time per box (an integral image)."""

    def __init__(self, mask: np.ndarray):
        self.integral = cv2.integral(mask.view(np.uint8))

    def pixels(self, boxes: np.ndarray) -> np.ndarray:
        """``(n,)`` pixels of the mask inside each box ``x0, y0, x1, y1``."""
        s = self.integral
        x0, y0, x1, y1 = (np.asarray(boxes).reshape(-1, 4)[:, i] for i in range(4))
        return s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]

    def share(self, boxes: np.ndarray) -> np.ndarray:
        """``(n,)`` share of each box's area the mask covers."""
        boxes = np.asarray(boxes).reshape(-1, 4)
        area = np.maximum(1, (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        return self.pixels(boxes) / area


def picture_area(page: PageInk) -> np.ndarray:
    """``(h, w) bool``: the pictures with their pieces closed up, the holes
    they enclose (the light parts of a framed photograph) filled, and a small
    margin."""
    pictures = page.mask(PICTURE)
    if page.picture_strokes is not None:
        pictures = pictures | page.picture_strokes
    pictures = pictures.view(np.uint8)
    if not pictures.any():
        return pictures.view(bool)
    close = int(PICTURE_CLOSE_CHARS * page.char_px) | 1
    area = cv2.morphologyEx(pictures, cv2.MORPH_CLOSE, rect(close, close))
    outside = np.pad(1 - area, 1, constant_values=1)
    flood = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2)  # paper reachable from the page's edge
    area = np.where(outside[1:-1, 1:-1] == 2, 0, 1).astype(np.uint8)
    margin = int(PICTURE_MARGIN_CHARS * page.char_px) * 2 + 1
    return cv2.dilate(area, rect(margin, margin)).view(bool)


def _is_border(x, y, w, h, width, height) -> bool:
    """A strip along an edge of the page (the scanner's border, the edge of
    the facing page): touching it, long along it and shallow across it."""
    along_top_or_bottom = (y == 0 or y + h == height) and w >= BORDER_SPAN * width and h <= BORDER_DEPTH * height
    along_sides = (x == 0 or x + w == width) and h >= BORDER_SPAN * height and w <= BORDER_DEPTH * width
    return bool(along_top_or_bottom or along_sides)


def _is_frame(labels: np.ndarray, stats: np.ndarray, i: int) -> bool:
    """A box drawn round something: most of its ink near its bounding box."""
    x, y, w, h = (int(v) for v in stats[i, :4])
    mine = labels[y : y + h, x : x + w] == i
    edge = max(2, min(w, h) // 20)
    inner = mine[edge:-edge, edge:-edge].sum() if h > 2 * edge and w > 2 * edge else 0
    return (mine.sum() - inner) >= FRAME_EDGE_SHARE * mine.sum()


def _is_big_letter(i, x, y, w, h, fill, char_px, classes, rules: np.ndarray | None = None) -> bool:
    """A big component with at least two neighbours of like height on its
    row (a headline or masthead letter) rather than a picture. Neighbours
    across a rule do not count (a dark corner of a photograph beside the
    headline of the next column is no letter of it)."""
    if fill[i] >= LETTER_MAX_FILL:
        return False
    if w[i] >= HUGE_CHARS * char_px and h[i] >= HUGE_CHARS * char_px:
        return False
    top, bottom = y[i], y[i] + h[i]
    overlap = np.minimum(bottom, y + h) - np.maximum(top, y)
    like = (h >= 0.45 * h[i]) & (h <= 2.0 * h[i]) & (overlap >= 0.5 * np.minimum(h, h[i]))
    gap = np.maximum(x - (x[i] + w[i]), x[i] - (x + w))
    near = like & (gap <= 1.2 * h[i]) & (classes == CHAR)
    near[i] = False
    near[0] = False
    if rules is not None and rules.any():
        for j in np.flatnonzero(near):
            mine, theirs = (x[i], y[i], x[i] + w[i], y[i] + h[i]), (x[j], y[j], x[j] + w[j], y[j] + h[j])
            if _rule_between_sideways(rules, mine, theirs):
                near[j] = False
    return int(near.sum()) >= 2


def _rule_between_sideways(rules: np.ndarray, a, b) -> bool:
    """Does a rule cross the gap between boxes ``a`` and ``b`` (side by
    side) on their common rows?"""
    left, right = (a, b) if a[0] <= b[0] else (b, a)
    x0, x1 = int(left[2]), int(right[0])
    y0, y1 = int(max(a[1], b[1])), int(min(a[3], b[3]))
    if x1 <= x0 or y1 <= y0:
        return False
    return bool(rules[y0:y1, x0:x1].any(axis=1).mean() >= 0.5)


def box_overlap_share(boxes: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``(n,) float``: the largest share of each box's area covered by any one
    of ``others`` (boxes ``x0, y0, x1, y1``)."""
    if len(boxes) == 0 or len(others) == 0:
        return np.zeros(len(boxes))
    b = boxes[:, None, :]
    o = others[None, :, :]
    iw = np.clip(np.minimum(b[..., 2], o[..., 2]) - np.maximum(b[..., 0], o[..., 0]), 0, None)
    ih = np.clip(np.minimum(b[..., 3], o[..., 3]) - np.maximum(b[..., 1], o[..., 1]), 0, None)
    area = np.maximum(1, (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    return (iw * ih).max(axis=1) / area
