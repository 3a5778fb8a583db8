"""Per-page enhancement before OCR, chosen by measuring the page.

Tesseract thresholds a page with one global (Otsu) level to find its layout,
then reads each line from the grey image with its LSTM. That suits an evenly
lit, clean scan, and fails on a page under uneven light (the shaded part
falls below the threshold and becomes a black blob), on a photographed page
lying on a table, or on a leaf whose back shows through. What a page needs is
decided here from what the page itself shows, never by a global switch:

    condition = measure_page(image)       # tens of ms: a small copy + 16 tiles
    plan = plan_enhancement(condition)    # which stages, each with its reason
    better = enhance(image, plan)         # same size; "L" (or "1")

A clean page gets an empty plan, and :func:`enhance` returns the very image
it was given (no cost, no change). The stages, in the order they run:

- **illumination**: the paper level is estimated on the small copy (a grey
  closing three text lines wide removes the text; a box blur smooths what is
  left) and the page is divided by it (flat-field) — unless, with no other
  whole-page stage planned, even the darkest paper stays well above the
  page's ink/paper threshold (``shade_clearance``): tesseract's global
  threshold then sees the page as flattening would leave it, and the
  pipeline is spared the second reading that would confirm it;
- **borders**: regions joined to the frame whose background is well below
  the paper and which have no text near them (a scanner lid, the table under
  a photographed page, a blank shaded margin) are whitened;
- **dewarp**: a page lying on a background whose outline is a quadrilateral
  with corners off square (photographed at an angle) is warped back to a
  rectangle, within the same frame. Curved lines (book curl) are not
  straightened. Word boxes then need mapping back: :func:`enhance_page`
  returns the transform and :func:`source_box` applies it;
- **denoise**: a 3×3 median, when the noise is high next to the contrast or
  the paper is speckled;
- **show-through**: after flattening, everything lighter than the ink class
  of a three-level Otsu split (ink, show-through, paper) becomes paper; the
  ink keeps its grey levels for tesseract's LSTM. All or nothing, so the
  measurement asks for much evidence, and the pipeline confirms it (with
  flattening, border whitening and rectifying) by a second reading
  (``digitize.pipeline.compare_enhanced``);
- **binarise**: Sauvola's local threshold, window from the text height. Only
  when asked for: on every kind of page measured it read worse than grey.

Conventions as in :mod:`digitize.preprocess`: ``gray`` arrays are ``(h, w)
uint8``, 0 = black ink, 255 = white paper; levels given as fractions are of
255 (``paper_level`` 0.9 = grey 230); lengths in pixels carry ``_px``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from digitize import preprocess

# ------------------------------------------------------------- measurement
ANALYSIS_MAX_SIDE_PX = 1024  # pages are measured on a box-filtered copy this big
TILES = 16  # full-resolution tiles for noise and show-through
TILE_LINES = 5.0  # a tile's side in text heights (clipped to TILE_MIN_PX..TILE_MAX_PX)
TILE_MIN_PX, TILE_MAX_PX = 128, 320
TEXT_HEIGHT_FALLBACK_FRACTION = 1 / 80  # of the page height, when the text height is unknown
BACKGROUND_WINDOW_LINES = 3.0  # closing window, in text heights
FRAME_FRACTION = 0.03  # width of the frame ring, of the shorter side
BORDER_BACKGROUND_LEVEL = 0.65  # of the paper: darker background joined to the frame may not be paper ...
MARK_LEVEL = 0.5  # ... unless text is near: marks at most this fraction of their background
MARK_DENSITY = 0.03  # ... covering this much of a text-height square
BORDER_MIN_AREA = 0.002  # border regions smaller than this fraction of the page are left alone
FAR_FROM_INK_LINES = 0.25  # show-through is grey this far (in text heights) from any ink
SHOW_THROUGH_SMOOTH_PX = 1.0  # Gaussian sigma that hides pixel noise before the three-level split

# ------------------------------------------------------------------ planning
UNEVEN_LIGHT = 0.06  # background spread above which the page is flattened ...
# ... unless its darkest paper stays this far from the ink/paper threshold towards the paper (a
# fraction of paper - threshold): tesseract's global threshold then takes no paper for ink and
# flattening changes nothing it sees (dev pages left flattening-only: 0.49-0.72, every one read as
# well or better unflattened; shadowed pages -0.5 to -0.35, where flattening is what reads them)
SHADE_CLEARANCE = 0.4
NOISY = 0.12  # noise sigma over (paper - ink)
SPECKLED = 0.002  # isolated dark pixels, of the tile area
SHOW_THROUGH = 0.02  # faint grey far from ink, of the tile area ...
SHOW_THROUGH_SOFTNESS = 0.85  # ... with edges softer than this fraction of the ink's ...
SHOW_THROUGH_MAX_INK_LOSS = 0.4  # ... and whitening it would not take more of Otsu's ink than this ...
SHOW_THROUGH_MIN_TEXT_PX = 16.0  # ... on text this tall at least (smaller print is all soft edges)
DARK_BORDER = 0.25  # of the frame ring
PERSPECTIVE_DEG = 1.0  # a page outline with a corner this far off 90° is rectified
PAGE_SURROUNDED = 0.8  # a page outline is sought when border covers this much of the frame ...
PAGE_MIN_AREA = 0.25  # ... the outline must cover this much of the image ...
PAGE_MIN_FILL = 0.9  # ... and the page region this much of its outline

STAGES = ("illumination", "denoise", "show-through", "binarise", "borders", "dewarp")


@dataclass(frozen=True)
class PageCondition:
    """What a page shows, measured on a downscaled copy (and on 16
    full-resolution tiles over its text for noise and show-through).

    - ``background_unevenness``: spread of the estimated paper level over the
      page, ``(p95 - p5) / p95`` (regions taken for border excluded); 0 =
      even light, 0.5 = part of the paper half as bright as the rest;
    - ``contrast``: paper minus ink after flattening, fraction of the paper
      (0.8 well printed, 0.35 faded);
    - ``noise``: noise sigma over the ink-paper difference (``noise_sigma``
      is the same in grey levels, after Immerkær);
    - ``bleed_through``: of the tile area, the fraction that is grey between
      ink and paper (three-level Otsu) and far from any ink;
      ``bleed_sharpness``: the edge steepness of that grey over the edge
      steepness of the ink (show-through is blurred: below 1; faint but
      printed ink: about 1); ``bleed_ink_loss``: the share of what Otsu
      calls ink that whitening the show-through would take away;
    - ``shade_clearance``: how far the darkest paper (5th percentile of
      the estimated paper level, border excluded) stays above Otsu's
      ink/paper threshold of the unflattened page, as a fraction of the
      paper's distance from that threshold: 1 = the darkest paper is as
      bright as the rest, 0 = it reaches the threshold, below 0 = a global
      threshold takes it for ink (a shadow); None when not measured;
    - ``dark_border``: fraction of the frame (a ring 3 % of the page wide)
      covered by dark, unmarked regions joined to the edge;
    - ``colour``: the page holds colour beyond a tint of the paper;
    - ``speckle``: isolated dark pixels, fraction of the tile area;
    - ``bilevel``: the image has two grey levels only (a bilevel scan);
    - ``paper_level``, ``ink_level``: fractions of 255 in the source;
    - ``text_height_px``: typical line height in source pixels (given,
      measured, or guessed from the page height);
    - ``page_corners``: when the page lies on a background (a table, a
      scanner lid) and its outline is a quadrilateral, its corners (top
      left, top right, bottom right, bottom left; source pixels), else None;
      ``perspective_deg``: how far the outline's corners are from square
      (largest deviation from 90°; 0 without an outline).
    """

    background_unevenness: float
    contrast: float
    noise: float
    bleed_through: float
    dark_border: float
    colour: bool
    bleed_sharpness: float = 1.0
    bleed_ink_loss: float = 0.0
    speckle: float = 0.0
    noise_sigma: float = 0.0
    bilevel: bool = False
    paper_level: float = 1.0
    ink_level: float = 0.0
    text_height_px: float | None = None
    perspective_deg: float = 0.0
    page_corners: tuple[tuple[float, float], ...] | None = None
    shade_clearance: float | None = None


@dataclass(frozen=True)
class EnhancementPlan:
    """Which stages :func:`enhance` runs, with a reason for every stage the
    page asked for (and for those the options then refused)."""

    flatten_illumination: bool = False
    denoise: bool = False
    binarise: bool = False
    remove_borders: bool = False
    dewarp: bool = False
    suppress_show_through: bool = False
    reasons: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when :func:`enhance` returns the page unchanged."""
        return not (self.flatten_illumination or self.denoise or self.binarise or self.remove_borders
                    or self.dewarp or self.suppress_show_through)


@dataclass(frozen=True)
class PaperModel:
    """The paper under a page, estimated on a small copy.

    ``small``: ``(h, w) uint8`` box-filtered copy, each pixel the mean of
    ``factor × factor`` source pixels; ``closed``: its grey closing (text
    removed, step edges kept), ``(h, w) uint8``; ``background``: the closing
    smoothed, ``(h, w) float32`` grey levels; ``paper``: the bright paper
    level (95th percentile of ``background``); ``border``: ``(h, w) bool``,
    regions taken for scanner border or table; ``window_px``: the closing
    window on the small copy.
    """

    small: np.ndarray
    factor: int
    window_px: int
    closed: np.ndarray
    background: np.ndarray
    paper: float
    border: np.ndarray


# ============================================================ measurement
def small_copy(image: Image.Image, *, max_side_px: int = ANALYSIS_MAX_SIDE_PX) -> tuple[np.ndarray, int]:
    """A box-filtered grey copy no larger than ``max_side_px``: ``(gray (h, w)
    uint8, factor)``, each copy pixel the mean of ``factor × factor`` source
    pixels (the last row and column may average fewer)."""
    factor = max(1, math.ceil(max(image.size) / max_side_px))
    gray = image if image.mode == "L" else image.convert("L")
    return np.asarray(gray.reduce(factor) if factor > 1 else gray), factor


def text_height_or_guess(image: Image.Image, text_height_px: float | None) -> float:
    """The text height in source pixels: as given, else measured by
    :func:`preprocess.estimate_text_height_px` (on a flattened copy when
    uneven light or a dark surround defeats its global threshold), else
    guessed from the page height (about 80 lines of body text to a page)."""
    if text_height_px:
        return float(text_height_px)
    measured = measure_text_height_px(image)
    return measured if measured else max(8.0, image.height * TEXT_HEIGHT_FALLBACK_FRACTION)


def measure_text_height_px(image: Image.Image) -> float | None:
    """The typical line height of a page in source pixels, or None:
    :func:`preprocess.estimate_text_height_px` on
    :func:`flattened_analysis_copy` (on the plain copy if that finds none)."""
    gray, x_scale, y_scale = flattened_analysis_copy(image)
    measured = preprocess.estimate_text_height_px(gray, x_scale=x_scale, y_scale=y_scale)
    if measured:
        return measured
    gray, x_scale, y_scale = preprocess.analysis_copy(image)
    return preprocess.estimate_text_height_px(gray, x_scale=x_scale, y_scale=y_scale)


def flattened_analysis_copy(image: Image.Image) -> tuple[np.ndarray, int, int]:
    """:func:`preprocess.analysis_copy` divided by its paper level (a grey
    closing a twentieth of the copy tall), with what is far darker than the
    paper (a table, a scanner lid, a deep gutter) made white:
    ``(gray (h, w) uint8, x_scale, y_scale)``. Otsu's global threshold, on
    which the skew and text-height estimates rest, then finds text instead
    of shadow: on photographed spreads and pages on a table the text height
    measured on the plain copy is off by a factor of 2-5 or missing."""
    gray, x_scale, y_scale = preprocess.analysis_copy(image)
    rows = max(5, gray.shape[0] // 20 | 1)
    cols = max(3, int(round(rows * y_scale / x_scale)) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (cols, rows))
    paper = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
    flat = cv2.divide(gray, np.maximum(paper, 1), scale=255.0)
    flat[paper < BORDER_BACKGROUND_LEVEL * percentile(paper, 95)] = 255
    return flat, x_scale, y_scale


def background_window_px(text_height_px: float, factor: int) -> int:
    """The closing window on the small copy: ``BACKGROUND_WINDOW_LINES`` text
    heights, odd, at least 5 pixels."""
    return max(5, int(round(BACKGROUND_WINDOW_LINES * text_height_px / factor)) | 1)


def close_text(gray: np.ndarray, window_px: int) -> np.ndarray:
    """A grey closing with a ``window_px`` square: every dark mark narrower
    than the window (text) filled with the paper around it; step edges (a
    shadow's edge, a page edge) stay where they are. ``(h, w) uint8``. (A
    square, unlike a disc, is separable: OpenCV closes with it in time
    independent of its size.)"""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window_px, window_px))
    return cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)


def smooth_background(closed: np.ndarray, window_px: int) -> np.ndarray:
    """The paper level from a closing, box-blurred over half the window to
    take out the closing's blocky steps: ``(h, w) float32`` grey levels."""
    smooth = window_px // 2 | 1
    return cv2.blur(closed.astype(np.float32), (smooth, smooth), borderType=cv2.BORDER_REPLICATE)


def percentile(values: np.ndarray, q: float, *, max_samples: int = 65536) -> float:
    """``np.percentile`` of an array, on an even subsample of at most
    ``max_samples`` values (page statistics need no more)."""
    flat = values.ravel()
    step = max(1, flat.size // max_samples)
    return float(np.percentile(flat[::step], q)) if flat.size else 0.0


def frame_ring(shape: tuple[int, int], fraction: float = FRAME_FRACTION) -> np.ndarray:
    """``(h, w) bool``: the outer ring of a page, ``fraction`` of its shorter side wide."""
    height, width = shape
    ring_px = max(1, int(round(min(height, width) * fraction)))
    ring = np.ones(shape, bool)
    ring[ring_px : height - ring_px, ring_px : width - ring_px] = False
    return ring


def border_region(gray: np.ndarray, closed: np.ndarray, paper: float, *, text_height_px: float) -> np.ndarray:
    """``(h, w) bool``: what is not paper on a small page: regions joined to
    the image edge whose background (``closed``, see :func:`close_text`) is
    darker than ``BORDER_BACKGROUND_LEVEL`` of ``paper``, minus everything
    near text. Text is where marks (pixels at most ``MARK_LEVEL`` of their
    background) cluster; a page in shadow keeps its text and the paper
    around it, a table or a scanner lid has no such clusters (its grain is
    lighter). ``text_height_px`` is in pixels of the small page."""
    dark = closed < BORDER_BACKGROUND_LEVEL * paper
    if not dark.any():
        return dark
    side = max(3, int(round(text_height_px)) | 1)
    marks = (gray.astype(np.float32) < MARK_LEVEL * np.maximum(closed.astype(np.float32), 1.0)).astype(np.float32)
    density = cv2.blur(marks, (side, side), borderType=cv2.BORDER_REPLICATE)
    near_text = cv2.dilate((density > MARK_DENSITY).astype(np.uint8), np.ones((2 * side + 1, 2 * side + 1), np.uint8))
    candidate = (dark & ~near_text.astype(bool)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=4)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    big = [label for label in edge[edge > 0] if stats[label, cv2.CC_STAT_AREA] >= BORDER_MIN_AREA * gray.size]
    return np.isin(labels, big)


def paper_model(gray_image: Image.Image, text_height_px: float) -> PaperModel:
    """Estimate the paper under a grey page (see :class:`PaperModel`)."""
    small, factor = small_copy(gray_image)
    window_px = background_window_px(text_height_px, factor)
    closed = close_text(small, window_px)
    background = smooth_background(closed, window_px)
    paper = percentile(background, 95)
    border = border_region(small, closed, paper, text_height_px=text_height_px / factor)
    return PaperModel(small, factor, window_px, closed, background, paper, border)


def background_patch(model: PaperModel, x: int, y: int, width: int, height: int) -> np.ndarray:
    """The paper level under the source rectangle ``x, y, width, height``,
    bilinearly interpolated from the small background: ``(height, width)
    float32`` grey levels."""
    small_h, small_w = model.background.shape
    rows = np.clip((np.arange(y, y + height, dtype=np.float32) + 0.5) / model.factor - 0.5, 0, small_h - 1)
    cols = np.clip((np.arange(x, x + width, dtype=np.float32) + 0.5) / model.factor - 0.5, 0, small_w - 1)
    r0 = np.floor(rows).astype(int)
    c0 = np.floor(cols).astype(int)
    r1, c1 = np.minimum(r0 + 1, small_h - 1), np.minimum(c0 + 1, small_w - 1)
    wr, wc = (rows - r0)[:, None], (cols - c0)[None, :]
    top = model.background[r0][:, c0] * (1 - wc) + model.background[r0][:, c1] * wc
    bottom = model.background[r1][:, c0] * (1 - wc) + model.background[r1][:, c1] * wc
    return top * (1 - wr) + bottom * wr


def measurement_tiles(
    ink: np.ndarray, factor: int, image_size: tuple[int, int], tile_px: int, count: int = TILES
) -> list[tuple[int, int]]:
    """Top-left corners (source pixels) of up to ``count`` tiles of
    ``tile_px`` on a regular grid over the text area (the rows and columns
    of the small ``ink`` mask that hold ink)."""
    width, height = image_size
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        top, bottom, left, right = 0, height, 0, width
    else:
        top, bottom = int(rows[0]) * factor, (int(rows[-1]) + 1) * factor
        left, right = int(cols[0]) * factor, (int(cols[-1]) + 1) * factor
    side = int(math.ceil(math.sqrt(count)))
    ys = np.linspace(top, max(top, bottom - tile_px), side).astype(int)
    xs = np.linspace(left, max(left, right - tile_px), side).astype(int)
    clamp_x, clamp_y = max(0, width - tile_px), max(0, height - tile_px)
    return sorted({(min(max(0, int(x)), clamp_x), min(max(0, int(y)), clamp_y)) for y in ys for x in xs})


def noise_sigma(tile: np.ndarray) -> float:
    """Gaussian noise sigma (grey levels) of a ``(h, w)`` tile, after
    Immerkær: the residual of a 3×3 second-difference kernel, by the median
    of its magnitude so that text edges do not count."""
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    residual = cv2.filter2D(tile.astype(np.float32), -1, kernel)[1:-1, 1:-1]
    return float(np.median(np.abs(residual))) / (0.6745 * 6.0)


def speck_fraction(flat: np.ndarray, middle: float) -> float:
    """Of a flattened tile (paper = 1.0), the fraction of pixels darker than
    ``middle`` with no dark neighbour among their eight."""
    dark = flat < middle
    neighbours = cv2.boxFilter(dark.astype(np.float32), -1, (3, 3), normalize=False)
    return float((dark & (neighbours <= 1.0)).mean())


def show_through(flats: Sequence[np.ndarray], text_height_px: float) -> tuple[float, float, float]:
    """Evidence of text showing through from the back, from flattened tiles
    (float, paper = 1.0): ``(fraction, sharpness, ink_loss)``.

    The tiles' grey levels are split in three by Otsu (ink, middle, paper)
    after a light blur. ``fraction``: the median over tiles of the share of
    middle-grey pixels farther than ``FAR_FROM_INK_LINES`` text heights from
    ink (a text edge is grey too, but next to its ink). ``sharpness``: how
    steep the edges of that far grey are next to the edges of the ink
    (gradient over depth, medians): show-through comes through the paper
    blurred, faint printed ink is as sharp as the rest. ``ink_loss``: of
    the pixels a two-class Otsu calls ink, the share lighter than the ink
    class, which whitening the show-through would take away (small when the
    split falls between ink and show-through, large when it cuts through
    soft or small print).
    """
    smooth = [cv2.GaussianBlur(np.clip(f * 255.0, 0, 255).astype(np.uint8), (0, 0), SHOW_THROUGH_SMOOTH_PX)
              for f in flats]
    if not smooth:
        return 0.0, 1.0, 0.0
    pooled = np.concatenate([s.ravel() for s in smooth])
    ink_limit, paper_limit = three_level_thresholds(pooled)
    otsu_ink = pooled <= preprocess.otsu_threshold(pooled)
    ink_loss = float((otsu_ink & (pooled > ink_limit)).sum() / max(1, otsu_ink.sum()))
    far_px = max(3.0, FAR_FROM_INK_LINES * text_height_px)
    fractions, ink_steepness, far_steepness = [], [], []
    for tile in smooth:
        ink = tile <= ink_limit
        middle = (tile > ink_limit) & (tile <= paper_limit)
        distance = cv2.distanceTransform((~ink).astype(np.uint8), cv2.DIST_L2, 3)
        far = middle & (distance > far_px)
        fractions.append(float(far.mean()))
        steepness = edge_steepness(tile)
        edge = middle & (distance > 0) & (distance <= 2)
        ink_steepness.append(steepness[edge])
        far_steepness.append(steepness[far])
    ink_values, far_values = np.concatenate(ink_steepness), np.concatenate(far_steepness)
    if far_values.size < 50 or ink_values.size < 50:
        return float(np.median(fractions)), 1.0, ink_loss
    sharpness = float(np.median(far_values) / max(np.median(ink_values), 1e-6))
    return float(np.median(fractions)), sharpness, ink_loss


def edge_steepness(tile: np.ndarray) -> np.ndarray:
    """Per pixel of a uint8 tile: the largest gradient (grey levels per
    pixel) in its 3×3 neighbourhood over its depth below white (the lightest
    of 255 minus the darkest value within 3 pixels, at least 10)."""
    values = tile.astype(np.float32)
    gx = cv2.Sobel(values, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(values, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    gradient = cv2.dilate(np.hypot(gx, gy), np.ones((3, 3), np.uint8))
    depth = np.maximum(255.0 - cv2.erode(values, np.ones((7, 7), np.uint8)), 10.0)
    return gradient / depth


def is_colourful(rgb: np.ndarray) -> bool:
    """True when a small ``(h, w, 3) uint8`` copy holds colour beyond a tint:
    the chroma (max - min channel) of its most colourful 2 % of pixels
    stands well above the page's median chroma."""
    chroma = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2).astype(np.int16)
    return float(np.percentile(chroma, 98)) - float(np.median(chroma)) > 40


def is_bilevel(image: Image.Image, gray: np.ndarray | None = None) -> bool:
    """True for a bilevel scan: mode "1", or grey with two levels only
    (``gray``: the grey pixels when already at hand)."""
    if image.mode == "1":
        return True
    if image.mode != "L":
        return False
    sample = (np.asarray(image) if gray is None else gray)[::7, ::7]  # a grey scan shows many levels in any sample
    return np.unique(sample).size <= 2 and int(np.count_nonzero(np.asarray(image.histogram()))) <= 2


def measure_page(image: Image.Image, *, text_height_px: float | None = None) -> PageCondition:
    """Measure what a page shows (see :class:`PageCondition`), cheaply: a
    box-filtered copy of about a megapixel and 16 full-resolution tiles.

    ``image``: any PIL mode (colour is noted, then grey is measured);
    ``text_height_px``: the line height if already known (the pipeline's
    deskew stage measures it), in pixels of ``image``. A bilevel scan is not
    measured further: there is nothing to enhance on it.
    """
    bilevel = PageCondition(0.0, 1.0, 0.0, 0.0, 0.0, False, bilevel=True, text_height_px=text_height_px)
    if image.mode == "1":
        return bilevel
    colour = False
    if image.mode not in ("L", "I", "I;16", "F"):
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        colour = is_colourful(small_copy_rgb(rgb))
    gray_image = image if image.mode == "L" else preprocess.to_grayscale(image).convert("L")
    gray = np.asarray(gray_image)
    if is_bilevel(gray_image, gray):
        return bilevel
    text_height = text_height_or_guess(gray_image, text_height_px)
    model = paper_model(gray_image, text_height)

    page = ~model.border if (~model.border).mean() > 0.2 else np.ones_like(model.border)
    dark_border = float(model.border[frame_ring(model.border.shape)].mean())
    low, high = percentile(model.background[page], 5), percentile(model.background[page], 95)
    unevenness = float((high - low) / max(high, 1.0))
    clearance = shade_clearance(model.small, low, model.paper)

    flat_small = np.clip(model.small.astype(np.float32) / np.maximum(model.background, 1.0), 0.0, 1.0)
    ink = (flat_small <= preprocess.otsu_threshold((flat_small * 255).astype(np.uint8)) / 255.0) & page
    if ink.any():
        ink_flat = percentile(flat_small[ink], 20)
        ink_level = percentile(model.small[ink], 20) / 255.0
    else:
        ink_flat, ink_level = 1.0, model.paper / 255.0

    tile_px = int(np.clip(round(TILE_LINES * text_height), TILE_MIN_PX, TILE_MAX_PX))
    sigmas, specks, flats = [], [], []
    for x, y in measurement_tiles(ink, model.factor, gray_image.size, tile_px):
        tile = gray[y : y + tile_px, x : x + tile_px]
        if min(tile.shape) < 16:
            continue
        flat = tile.astype(np.float32) / np.maximum(background_patch(model, x, y, tile.shape[1], tile.shape[0]), 1.0)
        sigmas.append(noise_sigma(tile))
        specks.append(speck_fraction(flat, (1.0 + ink_flat) / 2.0))
        flats.append(flat)
    sigma = float(np.median(sigmas)) if sigmas else 0.0
    bleed, sharpness, ink_loss = show_through(flats, text_height)
    corners = page_outline(model)
    return PageCondition(
        background_unevenness=round(unevenness, 4),
        contrast=round(1.0 - ink_flat, 4),
        noise=round(sigma / max(model.paper - ink_level * 255.0, 1.0), 4),
        bleed_through=round(bleed, 4),
        dark_border=round(dark_border, 4),
        colour=colour,
        bleed_sharpness=round(sharpness, 3),
        bleed_ink_loss=round(ink_loss, 3),
        speckle=round(float(np.median(specks)) if specks else 0.0, 5),
        noise_sigma=round(sigma, 2),
        paper_level=round(model.paper / 255.0, 4),
        ink_level=round(ink_level, 4),
        text_height_px=round(text_height, 1),
        perspective_deg=round(corner_deviation_deg(corners), 2) if corners is not None else 0.0,
        page_corners=tuple((round(float(x), 1), round(float(y), 1)) for x, y in corners) if corners is not None else None,
        shade_clearance=round(clearance, 3),
    )


def shade_clearance(small: np.ndarray, darkest_paper: float, paper: float) -> float:
    """How far the darkest paper stays above the page's global ink/paper
    threshold, as a fraction of the paper's own distance from it (see
    :attr:`PageCondition.shade_clearance`). ``small``: the page's ``(h, w)
    uint8`` box-filtered copy; ``darkest_paper``, ``paper``: grey levels of
    the estimated paper (its 5th and 95th percentiles)."""
    threshold = float(preprocess.otsu_threshold(small))
    return (darkest_paper - threshold) / max(paper - threshold, 1.0)


def page_outline(model: PaperModel) -> np.ndarray | None:
    """The corners of the page lying on a background, ``(4, 2) float32``
    source pixels (top left, top right, bottom right, bottom left), or None
    when border does not surround it (``PAGE_SURROUNDED`` of the frame) or
    its outline is not a fair quadrilateral: the convex hull of the large paper regions (a spread's
    two pages together), simplified to four corners."""
    if model.border[frame_ring(model.border.shape)].mean() < PAGE_SURROUNDED:
        return None  # not a page lying on something: the border does not go round it
    paper = (~model.border).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    large = [label for label in range(1, count) if stats[label, cv2.CC_STAT_AREA] >= 0.05 * paper.size]
    if not large:
        return None
    region = np.isin(labels, large)
    points = cv2.findNonZero(region.astype(np.uint8))
    hull = cv2.convexHull(points)
    hull_area = cv2.contourArea(hull)
    if hull_area < PAGE_MIN_AREA * paper.size or region.sum() < PAGE_MIN_FILL * hull_area:
        return None
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.01, 0.02, 0.03, 0.05):
        polygon = cv2.approxPolyDP(hull, tolerance * perimeter, True).reshape(-1, 2)
        if len(polygon) <= 4:
            break
    if len(polygon) != 4 or cv2.contourArea(polygon.astype(np.float32)) < 0.95 * hull_area:
        return None
    corners = order_corners(polygon.astype(np.float32))
    return (corners + 0.5) * model.factor - 0.5


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points ``(4, 2)`` as top left, top right, bottom right, bottom left."""
    total = points.sum(axis=1)
    difference = points[:, 0] - points[:, 1]
    return np.array([points[np.argmin(total)], points[np.argmax(difference)],
                     points[np.argmax(total)], points[np.argmin(difference)]], np.float32)


def corner_deviation_deg(corners: np.ndarray) -> float:
    """The largest deviation of a quadrilateral's interior angles from 90°."""
    worst = 0.0
    for i in range(4):
        a = corners[i - 1] - corners[i]
        b = corners[(i + 1) % 4] - corners[i]
        cosine = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
        worst = max(worst, abs(math.degrees(math.acos(max(-1.0, min(1.0, cosine)))) - 90.0))
    return worst


def small_copy_rgb(rgb: Image.Image, max_side_px: int = 256) -> np.ndarray:
    """A box-filtered ``(h, w, 3) uint8`` copy of an RGB image for the colour check."""
    factor = max(1, math.ceil(max(rgb.size) / max_side_px))
    return np.asarray(rgb.reduce(factor) if factor > 1 else rgb)


# ================================================================ planning
def plan_enhancement(
    condition: PageCondition, *, stages_off: frozenset[str] = frozenset(), binarize: bool | None = None,
    spare_flattening: bool = True,
) -> EnhancementPlan:
    """Choose the stages a page needs from its measured condition.

    ``stages_off`` names stages never to run (of :data:`STAGES`:
    ``"illumination"``, ``"denoise"``, ``"show-through"``, ``"binarise"``,
    ``"borders"``, ``"dewarp"``; names of other pipeline stages are
    ignored: the pipeline checks them); ``binarize`` True forces Sauvola
    binarisation on (unless ``"binarise"`` is off), False or None leaves it
    off: no page measured so far read better binarised. A bilevel scan is
    left alone. ``spare_flattening`` False flattens uneven light even when
    it clears the ink threshold (:func:`light_clears_threshold`).
    """
    if condition.bilevel:
        return EnhancementPlan(reasons=("bilevel scan: left as it is",))
    reasons: list[str] = []

    def decide(stage: str, wanted: bool, why: str) -> bool:
        if not wanted:
            return False
        if stage in stages_off:
            reasons.append(f"{why} — but stage '{stage}' is off")
            return False
        reasons.append(why)
        return True

    borders = decide(
        "borders", condition.dark_border > DARK_BORDER,
        f"dark border ({condition.dark_border:.2f} of the frame > {DARK_BORDER}): whitened",
    )
    uneven = condition.background_unevenness > UNEVEN_LIGHT
    light_at = len(reasons)  # its reason goes where it runs, after the borders; decided below
    denoise = decide(
        "denoise", condition.noise > NOISY or condition.speckle > SPECKLED,
        f"noise {condition.noise:.2f} (limit {NOISY}), specks {condition.speckle:.4f} (limit {SPECKLED}): "
        "median filtered",
    )
    show = decide(
        "show-through", shows_through(condition),
        f"show-through ({condition.bleed_through:.3f} > {SHOW_THROUGH} of faint grey away from ink, edges "
        f"{condition.bleed_sharpness:.2f} < {SHOW_THROUGH_SOFTNESS} as steep as the ink's, "
        f"{condition.bleed_ink_loss:.2f} < {SHOW_THROUGH_MAX_INK_LOSS} of the ink at stake): grey lighter than ink whitened",
    )
    dewarp = decide(
        "dewarp", condition.page_corners is not None and condition.perspective_deg > PERSPECTIVE_DEG,
        f"page seen at an angle (a corner {condition.perspective_deg:.1f}° off square > {PERSPECTIVE_DEG}°): "
        "rectified",
    )
    # show-through is whitened on the flattened page; borders and rectifying are confirmed, with the
    # flattening, by a second reading: only a page flattening alone would change can be spared it
    needless = uneven and spare_flattening and not (show or borders or dewarp) and light_clears_threshold(condition)
    if needless:
        reasons.insert(light_at, f"uneven paper ({condition.background_unevenness:.2f} > {UNEVEN_LIGHT}), but its "
                                 f"darkest part stays clear of the ink threshold ({condition.shade_clearance:.2f} "
                                 f">= {SHADE_CLEARANCE} of the way to the paper): not flattened")
    flatten = decide(
        "illumination", uneven and not needless,
        f"uneven paper ({condition.background_unevenness:.2f} > {UNEVEN_LIGHT}): background flattened",
    )
    if len(reasons) > light_at and uneven and not needless:
        reasons.insert(light_at, reasons.pop())
    binarise = bool(binarize) and decide("binarise", True, "binarisation asked for by the options")
    return EnhancementPlan(
        flatten_illumination=flatten, denoise=denoise, binarise=binarise, remove_borders=borders,
        dewarp=dewarp, suppress_show_through=show, reasons=tuple(reasons),
    )


def light_clears_threshold(condition: PageCondition) -> bool:
    """Whether uneven light leaves even the page's darkest paper well above
    the ink/paper threshold (:data:`SHADE_CLEARANCE`): a global threshold
    then sees the page as flattening would make it, and tesseract reads it
    as well unflattened (a shadow or a dark gutter does not)."""
    return condition.shade_clearance is not None and condition.shade_clearance >= SHADE_CLEARANCE


def shows_through(condition: PageCondition) -> bool:
    """Whether the page shows text through from the back clearly enough, and
    its own print is large and sharp enough, to whiten the show-through."""
    return (
        condition.bleed_through > SHOW_THROUGH
        and condition.bleed_sharpness < SHOW_THROUGH_SOFTNESS
        and condition.bleed_ink_loss < SHOW_THROUGH_MAX_INK_LOSS
        and (condition.text_height_px or 0.0) >= SHOW_THROUGH_MIN_TEXT_PX
    )


# ============================================================= enhancement
SAUVOLA_WINDOW_LINES = 1.5
SAUVOLA_K = 0.2


@dataclass(frozen=True)
class EnhancedPage:
    """What :func:`enhance_page` made: ``image`` ("L" or "1", the size of
    the input) and ``to_source``, the ``(3, 3)`` homography taking a pixel
    of ``image`` to the input page, or None when the geometry is unchanged
    (every stage but dewarp)."""

    image: Image.Image
    to_source: np.ndarray | None = None


def enhance(image: Image.Image, plan: EnhancementPlan, *, text_height_px: float | None = None) -> Image.Image:
    """Apply ``plan`` to a page: ``image`` "L" (upright, deskewed; other
    modes are made grey) in, "L" or, when binarised, "1" out, the same size.
    Without dewarping, word boxes found on the result hold for the input;
    with it, use :func:`enhance_page` to map them back. An empty plan (or a
    bilevel image) returns ``image`` itself."""
    return enhance_page(image, plan, text_height_px=text_height_px).image


def enhance_page(image: Image.Image, plan: EnhancementPlan, *, text_height_px: float | None = None) -> EnhancedPage:
    """:func:`enhance`, also giving the transform back to the input page.

    Memory: about three page-sized uint8 buffers at most.
    """
    if plan.empty or image.mode == "1":
        return EnhancedPage(image)
    gray_image = image if image.mode == "L" else preprocess.to_grayscale(image).convert("L")
    text_height = text_height_or_guess(gray_image, text_height_px)
    gray = np.array(gray_image)  # a copy: the stages below work in place
    to_source = None
    flattened = plan.flatten_illumination or plan.suppress_show_through
    if flattened or plan.remove_borders or plan.dewarp:
        model = paper_model(gray_image, text_height)
        if flattened:
            flatten(gray, model)
        paper_now = 255 if flattened else int(round(model.paper))
        if plan.remove_borders and model.border.any():
            whiten_border(gray, model, level=paper_now)
        corners = page_outline(model) if plan.dewarp else None
        if corners is not None:
            gray, to_source = rectify(gray, corners, fill=paper_now)
    if plan.denoise:
        gray = cv2.medianBlur(gray, 3)
    if plan.suppress_show_through:
        ink_limit, _ = three_level_thresholds(gray[::2, ::2])
        gray[gray > ink_limit] = 255
    if plan.binarise:
        window_px = int(np.clip(round(text_height * SAUVOLA_WINDOW_LINES), 15, 301)) | 1
        out = preprocess.ink_to_image(preprocess.sauvola_ink(gray, window_px=window_px, k=SAUVOLA_K))
        return EnhancedPage(out, to_source)
    return EnhancedPage(Image.fromarray(gray, "L"), to_source)


def rectify(gray: np.ndarray, corners: np.ndarray, *, fill: int) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quadrilateral ``corners`` (top left, top right, bottom right,
    bottom left) of ``gray`` to an upright rectangle centred in a frame of
    the same size: ``(warped (h, w) uint8, to_source (3, 3) float64)``. The
    rectangle's sides are the longer of each pair of opposite edges, shrunk
    only if the frame is too small; the rest of the frame is ``fill``."""
    height, width = gray.shape
    top, bottom = np.linalg.norm(corners[1] - corners[0]), np.linalg.norm(corners[2] - corners[3])
    left, right = np.linalg.norm(corners[3] - corners[0]), np.linalg.norm(corners[2] - corners[1])
    page_w, page_h = max(top, bottom), max(left, right)
    scale = min(1.0, (width - 1) / page_w, (height - 1) / page_h)
    page_w, page_h = page_w * scale, page_h * scale
    x0, y0 = (width - page_w) / 2.0, (height - page_h) / 2.0
    target = np.array([[x0, y0], [x0 + page_w, y0], [x0 + page_w, y0 + page_h], [x0, y0 + page_h]], np.float32)
    to_target = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    warped = cv2.warpPerspective(gray, to_target, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_CONSTANT, borderValue=int(fill))
    return warped, np.linalg.inv(to_target)


def source_box(box: tuple[float, float, float, float], to_source: np.ndarray | None) -> tuple[int, int, int, int]:
    """A box ``(x0, y0, x1, y1)`` found on an enhanced page, in pixels of the
    page before enhancement: the bounding box of its four corners mapped
    through ``to_source`` (unchanged when it is None)."""
    if to_source is None:
        return tuple(int(round(v)) for v in box)  # type: ignore[return-value]
    x0, y0, x1, y1 = box
    points = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], np.float64)
    mapped = cv2.perspectiveTransform(points, to_source)[0]
    return (int(math.floor(mapped[:, 0].min())), int(math.floor(mapped[:, 1].min())),
            int(math.ceil(mapped[:, 0].max())), int(math.ceil(mapped[:, 1].max())))


def flatten(gray: np.ndarray, model: PaperModel) -> None:
    """Divide ``gray`` (in place) by the paper level under it so that paper
    becomes white everywhere. The level never counts as darker than a tenth
    of the paper, so the noise of a black region is not blown up to full
    range. Works in uint8 (OpenCV's saturating divide): one page-sized
    buffer for the enlarged background, no float copy of the page."""
    level = full_size(np.maximum(model.background, 0.1 * model.paper), model.factor, gray.shape)
    cv2.divide(gray, level, dst=gray, scale=255.0)


def full_size(small: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """A small float map enlarged ``factor`` times (bilinear, pixel centres
    aligned as :func:`small_copy` made them) and cut to ``shape``: ``(h, w)
    uint8``."""
    small8 = np.clip(np.rint(small), 1, 255).astype(np.uint8)
    if factor == 1:
        return small8[: shape[0], : shape[1]]
    size = (small8.shape[1] * factor, small8.shape[0] * factor)
    return cv2.resize(small8, size, interpolation=cv2.INTER_LINEAR)[: shape[0], : shape[1]]


def whiten_border(gray: np.ndarray, model: PaperModel, *, level: int = 255) -> None:
    """Set the page's border regions to the paper's ``level`` (in place; 255
    on a flattened page), grown by the reach of the background's smoothing
    so that no shadow of the paper's edge is left behind. (A pure white
    border around unflattened grey paper would make tesseract's Otsu take
    the whole page for ink.)"""
    grow_px = model.window_px // 2 | 1
    grown = cv2.dilate(model.border.astype(np.uint8), np.ones((grow_px, grow_px), np.uint8))
    height, width = gray.shape
    factor = model.factor
    full = cv2.resize(grown, (grown.shape[1] * factor, grown.shape[0] * factor), interpolation=cv2.INTER_NEAREST)
    gray[full[:height, :width].astype(bool)] = level


def three_level_thresholds(gray: np.ndarray) -> tuple[int, int]:
    """Otsu's thresholds for three classes (ink, show-through, paper) of a
    uint8 array: ``(t1, t2)``; the classes are ``<= t1``, ``<= t2``, above."""
    counts = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    share = counts / max(counts.sum(), 1.0)
    weight = np.cumsum(share)
    moment = np.cumsum(share * np.arange(256, dtype=np.float64))
    a = np.arange(256)[:, None]
    b = np.arange(256)[None, :]
    w0, w1, w2 = weight[a], weight[b] - weight[a], 1.0 - weight[b]
    m0, m1, m2 = moment[a], moment[b] - moment[a], moment[-1] - moment[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = m0 * m0 / w0 + m1 * m1 / w1 + m2 * m2 / w2
    between[~np.isfinite(between) | (b <= a)] = -1.0
    t1, t2 = np.unravel_index(int(np.argmax(between)), between.shape)
    return int(t1), int(t2)


# ============================================================== choosing
def choose_by_confidence(
    candidates: Sequence[Image.Image], read: Callable[[Image.Image], float]
) -> tuple[int, list[float]]:
    """Read each candidate image and keep the one tesseract is surest of:
    ``(index of the winner, mean word confidence of each)``. ``read`` returns
    the mean word confidence (0-100) of one reading. Ties go to the earlier
    candidate (put the untouched page first). Costs one reading per
    candidate: for borderline pages only."""
    if not candidates:
        raise ValueError("no candidates to choose from")
    scores = [float(read(candidate)) for candidate in candidates]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    return best, scores
