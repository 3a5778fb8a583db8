"""Rules: the straight lines a page is ruled with (column rules, the rules
under a masthead or between stories), found apart from the text that may
touch them.

Two ways, in working pixels (see :mod:`digitize.layout.ink`): straight runs
of ink at least a few characters long that stay thin (a morphological
opening with a line), and, for column rules too faint, thin or broken to
survive the reduction and binarisation, a ridge of darkness down a gutter
seen on a copy reduced down the columns only.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

RULE_LENGTH_CHARS = 8.0  # a rule is at least this many char_px long ...
RULE_THICKNESS_CHARS = 0.6  # ... and at most this thick (plus one pixel)
RULE_ELONGATION = 20.0  # ... or at least this many times longer than thick (a rough or doubled rule)
BAR_ELONGATION = 10.0  # a solid bar this elongated is a rule whatever its thickness
BAR_FILL = 0.7
FAINT_WINDOW_CHARS = 6.0  # faint rules: darkness averaged over bands this many char_px high ...
FAINT_SIDE_PER_FACTOR = 1.3  # ... compared with that this many page pixels per reduction step to either side
FAINT_RIDGE_LEVELS = 10.0  # ... darker by this many grey levels
FAINT_SIDE_SHARE = 0.4  # ... while the sides are at most this share as dark (paper, a gutter)
FAINT_BANDS = 7  # ... in this many bands in a row
FAINT_PAPER_PER_FACTOR = 8  # paper is the lightest grey within this many page pixels per reduction step


class Frame:
    """How the working copy relates to the page: reduced by ``factor``, then
    turned by ``-skew_deg`` (counter-clockwise positive, as PIL rotates)
    about its centre into a frame grown to hold it, so the text lines run
    level. ``shape`` is the working copy's ``(h, w)`` after turning;
    ``reduced_shape`` before. Maps points both ways."""

    def __init__(self, factor: int, reduced_shape: tuple[int, int], skew_deg: float, shape: tuple[int, int] | None = None):
        self.factor = factor
        self.reduced_shape = reduced_shape
        self.shape = shape or reduced_shape
        self.skew_deg = skew_deg

    @property
    def turned(self) -> bool:
        return self.skew_deg != 0.0

    def to_working(self, x_page: np.ndarray, y_page: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Page pixels to (turned) working pixels."""
        return _turn(x_page / self.factor, y_page / self.factor, -self.skew_deg, self.reduced_shape, self.shape)

    def to_page(self, x_work: np.ndarray, y_work: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(Turned) working pixels to page pixels."""
        x, y = _turn(x_work, y_work, self.skew_deg, self.shape, self.reduced_shape)
        return x * self.factor, y * self.factor


def _turn(x, y, angle_deg: float, shape, new_shape):
    """Points turned by ``angle_deg`` counter-clockwise about the centre of a
    ``shape`` frame into a ``new_shape`` frame with the same centre (as
    ``PIL.Image.rotate(expand=True)`` turns an image)."""
    (h, w), (nh, nw) = shape, new_shape
    theta = np.radians(angle_deg)
    cos, sin = np.cos(theta), np.sin(theta)
    dx, dy = np.asarray(x, float) - w / 2.0, np.asarray(y, float) - h / 2.0
    return nw / 2.0 + dx * cos + dy * sin, nh / 2.0 - dx * sin + dy * cos


def rect(width_px: int, height_px: int) -> np.ndarray:
    """A rectangular structuring element for cv2 morphology (width, height)."""
    return cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, int(width_px)), max(1, int(height_px))))


def label(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components (8-connected) of a mask: ``(count, labels (h, w)
    int32, stats (count, 5) int32 x, y, w, h, area)``, label 0 the background."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    return count, labels, stats


def rule_strokes(ink: np.ndarray, char_px: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rules of a page, taken apart from any text touching them: straight
    runs of ink at least ``RULE_LENGTH_CHARS`` long (a morphological opening
    with a line) that stay thin across. ``(horizontal mask, vertical mask,
    horizontal boxes (k, 4), vertical boxes (m, 4))``, masks ``(h, w) bool``,
    boxes ``x0, y0, x1, y1``."""
    length = max(3, int(RULE_LENGTH_CHARS * char_px))
    thin = RULE_THICKNESS_CHARS * char_px + 1
    found = []
    for kernel, across in ((rect(length, 1), 3), (rect(1, length), 2)):
        opened = cv2.morphologyEx(ink.view(np.uint8), cv2.MORPH_OPEN, kernel)
        count, labels, stats = label(opened)
        along = 5 - across  # 2 (width) for horizontal rules, 3 (height) for vertical ones
        fill = stats[:, 4] / np.maximum(1, stats[:, 2] * stats[:, 3])
        bar = (stats[:, along] >= BAR_ELONGATION * stats[:, across]) & (fill >= BAR_FILL)
        keep = (stats[:, across] <= thin) | bar
        keep[0] = False
        x, y, w, h = (stats[keep, i] for i in range(4))
        found.append((keep[labels], np.stack([x, y, x + w, y + h], axis=1).astype(np.int64)))
    (mask_h, boxes_h), (mask_v, boxes_v) = found
    return mask_h, mask_v, boxes_h, boxes_v


def faint_column_rules(
    image: Image.Image, factor: int, working_gray: np.ndarray, char_px: float, frame: "Frame | None" = None
) -> np.ndarray:
    """``(h, w) bool`` in working pixels: column rules too faint, thin or
    broken to survive the reduction and binarisation.

    Found on a copy of the page reduced down the columns only (bands about
    ``FAINT_WINDOW_CHARS`` high, full width), so a hairline keeps its sharpness
    sideways: along a rule the band is darker than ``FAINT_SIDE_PER_FACTOR``
    to either side (and twice as far) while the sides are paper (a gutter);
    ridges in at least ``FAINT_BANDS`` bands in a row make a rule, kept on
    the rows of the working copy where it shows. On a page with a small
    residual skew (``frame``: how the working copy was straightened) the
    bands are sheared so the rules stand upright in them."""
    band_px = max(1, int(FAINT_WINDOW_CHARS * char_px * factor))
    gray = image if image.mode == "L" else image.convert("L")
    bands = np.asarray(gray.reduce((1, band_px)), dtype=np.float32)  # (rows / band_px, width)
    shape = working_gray.shape
    if bands.shape[0] < FAINT_BANDS:
        return np.zeros(shape, bool)
    centres_y = (np.arange(bands.shape[0]) + 0.5) * band_px
    shifts = np.zeros(bands.shape[0], int)
    if frame is not None and frame.turned:
        # along an upright (straightened) line, x in the page drifts by tan(skew) per row
        shifts = np.rint((centres_y - image.height / 2.0) * np.tan(np.radians(frame.skew_deg))).astype(int)
        bands = np.stack([np.roll(row, -k) for row, k in zip(bands, shifts)])
    paper = cv2.dilate(bands, rect(2 * FAINT_PAPER_PER_FACTOR * factor + 1, 1))  # the paper nearby, band by band
    darkness = paper - bands
    step = max(3, int(round(FAINT_SIDE_PER_FACTOR * factor)))
    side = np.maximum.reduce([np.roll(darkness, k, axis=1) for k in (step, -step, 2 * step, -2 * step)])
    ridge = (darkness - side > FAINT_RIDGE_LEVELS) & (side < FAINT_SIDE_SHARE * darkness)
    ridge = cv2.dilate(ridge.view(np.uint8), rect(5, 1))  # a rule drifting a pixel or two from band to band
    ridge = cv2.morphologyEx(ridge, cv2.MORPH_OPEN, rect(1, FAINT_BANDS)).view(bool)
    mask = np.zeros(shape, bool)
    band_rows, xs = np.nonzero(ridge)
    if len(xs) == 0:
        return mask
    page_x = (xs + shifts[band_rows]).astype(float)
    tops, bottoms = band_rows * band_px, (band_rows + 1) * band_px
    if frame is None:
        frame = Frame(factor, shape, 0.0)
    x_top, y_top = frame.to_working(page_x, tops.astype(float))
    x_bottom, y_bottom = frame.to_working(page_x, bottoms.astype(float))
    columns = np.clip(np.rint((x_top + x_bottom) / 2).astype(int), 0, shape[1] - 1)
    first = np.clip(np.floor(np.minimum(y_top, y_bottom)).astype(int), 0, shape[0])
    last = np.clip(np.ceil(np.maximum(y_top, y_bottom)).astype(int), 0, shape[0])
    for x, y0, y1 in zip(columns, first, last):
        mask[y0:y1, x] = True
    return mask & _local_ridge(working_gray, char_px)


def _local_ridge(gray: np.ndarray, char_px: float) -> np.ndarray:
    """``(h, w) bool`` on the working copy: pixels darker (with a neighbour
    either side) than the paper a few pixels to the left and right, row by
    row. Bands reach a little past the ends of a rule; this trims them to
    where the rule is, so a rule ending at a headline does not cut it."""
    g = gray.astype(np.float32)
    paper = cv2.dilate(g, rect(int(3 * char_px) | 1, 1))
    dark = paper - g
    centre = cv2.dilate(dark, rect(3, 1))
    side = np.maximum.reduce([np.roll(dark, k, axis=1) for k in (3, -3, 4, -4)])
    found = ((centre - side > FAINT_RIDGE_LEVELS) & (side < FAINT_SIDE_SHARE * centre)).view(np.uint8)
    return cv2.morphologyEx(found, cv2.MORPH_CLOSE, rect(1, int(char_px) | 1)).view(bool)
