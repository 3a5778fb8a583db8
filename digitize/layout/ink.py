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
    char_px = char_height_px(stats)
    classes = classify_components(labels, stats, char_px, gray.shape)
    page = PageInk(factor, gray, ink, labels, stats, classes, char_px, rules, rules_v_mask, rules_h, rules_v, frame, blank)
    return _without_picture_strokes(page)


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


def classify_components(
    labels: np.ndarray, stats: np.ndarray, char_px: float, shape: tuple[int, int]
) -> np.ndarray:
    """``(n,) int8`` class of each component (see the module constants)."""
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
        elif not _is_big_letter(i, x, y, w, h, fill, char_px, classes):
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


def _is_big_letter(i, x, y, w, h, fill, char_px, classes) -> bool:
    """A big component with at least two neighbours of like height on its
    row (a headline or masthead letter) rather than a picture."""
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
    return int(near.sum()) >= 2


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
