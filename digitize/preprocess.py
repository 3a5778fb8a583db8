"""Image preprocessing for OCR: small pure functions that the pipeline stages call.

Conventions: ``gray`` arrays are ``(h, w) uint8`` with 0 = black ink and
255 = white paper; ``ink`` masks are ``(h, w) bool`` with True = ink. Angles
are degrees, counter-clockwise positive as seen on screen (the convention of
``PIL.Image.rotate``). Lengths carry ``_px`` in their names and are pixels of
the image they are measured on.

Everything here is meant to be cheap next to tesseract itself: page
statistics are taken on a copy downscaled to about a thousand pixels, and
full-resolution work is limited to the transformations a page really needs.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from digitize.images import flatten_to

# pages are measured on a copy about this big (rows finer than columns)
ANALYSIS_WIDTH_PX = 400
ANALYSIS_HEIGHT_PX = 1600
MAX_SKEW_DEG = 5.0
# Smaller skew is left to tesseract, whose line finding follows it better than
# an interpolated rotation helps: on the hard development pages rotating pages
# skewed by 0.3-0.9° raised CER (a 150-dpi page 7.4 % → 9.7 %).
MIN_SKEW_CORRECTION_DEG = 1.0
SKEW_STRIPS = 64
SKEW_PEAK_RATIO = 1.05  # the sharpest angle must beat the median angle by this much
HEIGHT_STRIP_GROUP = 4  # neighbouring skew strips summed to measure line heights

# Height of a line of body text (ascender top to descender bottom) in pixels
# of a page scanned at 300 dpi: magazine body type measures about 30 px.
# Text smaller than SMALL_TEXT_PX marks a low-resolution scan.
TEXT_HEIGHT_AT_300_DPI_PX = 30.0
SMALL_TEXT_AT_300_DPI_PX = 20.0
MAX_UPSCALE = 4.0
PLAUSIBLE_DPI = (50, 2400)  # outside this, a file's dpi tag is noise (many say 1 or 72)


# ------------------------------------------------------------------ grayscale
def to_grayscale(image: Image.Image) -> Image.Image:
    """One channel: bilevel ("1") pages stay bilevel, everything else becomes
    8-bit "L" (transparency over white, 16-bit scaled down)."""
    if image.mode in ("1", "L"):
        return image
    return flatten_to(image, "L")


def otsu_threshold(gray: np.ndarray) -> int:
    """Otsu's threshold of a uint8 array: values ``<=`` it are the dark class."""
    counts = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = counts.sum()
    if total == 0:
        return 127
    levels = np.arange(256, dtype=np.float64)
    weight_dark = np.cumsum(counts)
    sum_dark = np.cumsum(counts * levels)
    weight_light = total - weight_dark
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_dark = sum_dark / weight_dark
        mean_light = (sum_dark[-1] - sum_dark) / weight_light
        between = weight_dark * weight_light * (mean_dark - mean_light) ** 2
    between[~np.isfinite(between)] = 0.0
    return int(np.argmax(between))


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Ink by Otsu's global threshold, ``(h, w) bool``."""
    return gray <= otsu_threshold(gray)


def paper_level(gray: np.ndarray) -> int:
    """The brightness of the paper (90th percentile), used to fill new corners."""
    return int(np.percentile(gray, 90)) if gray.size else 255


# ----------------------------------------------------------------------- skew
def analysis_copy(
    image: Image.Image, *, max_width_px: int = ANALYSIS_WIDTH_PX, max_height_px: int = ANALYSIS_HEIGHT_PX
) -> tuple[np.ndarray, int, int]:
    """A box-filtered copy for measuring text lines: ``(gray (h, w) uint8,
    x_scale, y_scale)``, each copy pixel spanning ``x_scale × y_scale`` source
    pixels. Rows are kept finer than columns: line positions need vertical
    detail, while columns only need telling strips apart."""
    x_scale = max(1, math.ceil(image.width / max_width_px))
    y_scale = max(1, math.ceil(image.height / max_height_px))
    small = image.convert("L") if image.mode != "L" else image
    if x_scale > 1 or y_scale > 1:
        small = small.reduce((x_scale, y_scale))
    return np.asarray(small), x_scale, y_scale


def strip_profiles(ink: np.ndarray, strips: int) -> tuple[np.ndarray, np.ndarray]:
    """Row profiles of vertical strips: ``(profiles (h, strips) float32,
    centres_px (strips,) float)``, the ink count of each row in each strip and
    each strip's x centre relative to the image centre (pixels of ``ink``)."""
    height, width = ink.shape
    strips = max(1, min(strips, width))
    edges = np.linspace(0, width, strips + 1).round().astype(int)
    cumulative = np.concatenate(
        [np.zeros((height, 1), np.int32), np.cumsum(ink, axis=1, dtype=np.int32)], axis=1
    )
    profiles = (cumulative[:, edges[1:]] - cumulative[:, edges[:-1]]).astype(np.float32)
    centres_px = (edges[1:] + edges[:-1]) / 2.0 - width / 2.0
    return profiles, centres_px


def strip_shifts_px(centres_px: np.ndarray, angle_deg: float, aspect: float) -> np.ndarray:
    """Whole-row shifts that undo a skew of ``angle_deg`` for strips at
    ``centres_px``; ``aspect`` = x_scale / y_scale of the analysis copy."""
    return np.rint(centres_px * aspect * math.tan(math.radians(angle_deg))).astype(int)


def aligned_profiles(profiles: np.ndarray, shifts_px: np.ndarray) -> np.ndarray:
    """Each strip's profile moved down by its shift, ``(h + 2 pad, strips)``:
    after undoing the skew a text line lies on the same rows in every strip."""
    height, strips = profiles.shape
    pad = int(np.abs(shifts_px).max(initial=0)) + 1
    out = np.zeros((height + 2 * pad, strips), np.float32)
    for j in range(strips):
        start = pad + int(shifts_px[j])
        out[start : start + height, j] = profiles[:, j]
    return out


def profile_sharpness(profile: np.ndarray) -> float:
    """How strongly a row profile alternates between lines and gaps
    (sum of squared differences between neighbouring rows)."""
    return float(np.square(np.diff(profile)).sum())


def estimate_skew_deg(
    gray: np.ndarray, *, x_scale: int = 1, y_scale: int = 1, max_deg: float = MAX_SKEW_DEG
) -> float:
    """The skew of the text lines of a page, in degrees (counter-clockwise
    positive: ``image.rotate(-angle)`` straightens it), within ``±max_deg``.

    Projection profiles of vertical strips (see :func:`analysis_copy` for
    ``gray`` and its scales): the angle whose combined row profile is
    sharpest wins; a coarse 0.5° search is refined to 0.05° and interpolated.
    Returns 0.0 for a page without measurable text lines.
    """
    ink = ink_mask(gray)
    fraction = ink.mean() if ink.size else 0.0
    if not 0.002 <= fraction <= 0.5:
        return 0.0
    profiles, centres_px = strip_profiles(ink, SKEW_STRIPS)
    aspect = x_scale / y_scale

    def score(angle_deg: float) -> float:
        shifts = strip_shifts_px(centres_px, angle_deg, aspect)
        return profile_sharpness(aligned_profiles(profiles, shifts).sum(axis=1))

    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.5)
    coarse_scores = np.array([score(a) for a in coarse])
    best = float(coarse[int(np.argmax(coarse_scores))])
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    fine_scores = np.array([score(a) for a in fine])
    i = int(np.argmax(fine_scores))
    angle = float(fine[i])
    if 0 < i < len(fine) - 1:  # parabola through the best three
        left, middle, right = fine_scores[i - 1 : i + 2]
        curvature = left - 2 * middle + right
        if curvature < 0:
            angle += 0.05 * 0.5 * (left - right) / curvature
    if fine_scores[i] < SKEW_PEAK_RATIO * float(np.median(coarse_scores)):
        return 0.0  # a flat response: no text lines to go by (a picture, a blank page)
    return float(np.clip(angle, -max_deg, max_deg))


def rotate_page(image: Image.Image, angle_deg: float, *, fill: int = 255) -> Image.Image:
    """Rotate by ``angle_deg`` (counter-clockwise) about the centre. The frame
    grows to hold the whole rotated page (a tightly cropped page would
    otherwise lose the ends of its first and last lines); the new corners
    are filled with ``fill``.

    Bilevel pages stay bilevel (nearest neighbour: a skew of a few degrees
    only moves edges by a pixel); gray pages are interpolated bilinearly,
    which for such small angles looks like bicubic at a third of the cost.
    """
    if image.mode == "1":
        return image.rotate(angle_deg, resample=Image.Resampling.NEAREST, expand=True,
                            fillcolor=255 if fill >= 128 else 0)
    return image.rotate(angle_deg, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=fill)


# ----------------------------------------------------------------- resolution
def line_heights_px(profiles: np.ndarray) -> np.ndarray:
    """Heights of the text lines seen in strip profiles ``(h, strips)``:
    runs of rows holding ink, separated by blank rows. ``(n,) int`` rows."""
    heights = []
    for column in profiles.T:
        inked = np.concatenate([[False], column > 0, [False]])
        changes = np.flatnonzero(inked[1:] != inked[:-1])
        heights.append(changes[1::2] - changes[0::2])
    return np.concatenate(heights) if heights else np.zeros(0, int)


def estimate_text_height_px(
    gray: np.ndarray, *, x_scale: int = 1, y_scale: int = 1, skew_deg: float = 0.0
) -> float | None:
    """The typical height of a line of text (ascenders to descenders), in
    source pixels, or None when the page shows no text lines.

    ``gray`` and its scales come from :func:`analysis_copy`; ``skew_deg`` is
    undone strip by strip first. Rows with ink in less than 1% of a strip are
    blank; runs under 3 rows (specks, rules) and over a fifth of the page
    (pictures) are ignored; the median of the rest is the answer.
    """
    ink = ink_mask(gray)
    if not 0.002 <= (ink.mean() if ink.size else 0.0) <= 0.5:
        return None
    profiles, centres_px = strip_profiles(ink, SKEW_STRIPS)
    aligned = aligned_profiles(profiles, strip_shifts_px(centres_px, skew_deg, x_scale / y_scale))
    strips = aligned.shape[1] // HEIGHT_STRIP_GROUP * HEIGHT_STRIP_GROUP
    if strips == 0:
        return None
    grouped = aligned[:, :strips].reshape(aligned.shape[0], -1, HEIGHT_STRIP_GROUP).sum(axis=2)
    strip_width_px = ink.shape[1] / max(1, aligned.shape[1]) * HEIGHT_STRIP_GROUP
    grouped = np.where(grouped >= max(1.0, 0.01 * strip_width_px), grouped, 0.0)
    heights = line_heights_px(grouped)
    heights = heights[(heights >= 3) & (heights <= ink.shape[0] / 5)]
    if heights.size < 5:
        return None
    return float(np.median(heights)) * y_scale


def plausible_dpi(dpi_info) -> float | None:
    """The horizontal dpi from an image's ``info["dpi"]`` if believable, else None."""
    try:
        dpi = float(dpi_info[0])
    except (TypeError, ValueError, IndexError):
        return None
    low, high = PLAUSIBLE_DPI
    return dpi if low <= dpi <= high else None


def upscale_factor(
    *, dpi: float | None, text_height_px: float | None, target_dpi: int
) -> float:
    """How much to enlarge a page before OCR (1.0 = leave it).

    A declared dpi below ``target_dpi`` asks for ``target_dpi / dpi``, but
    never more than brings the measured text to the size 10-point type has at
    ``target_dpi`` (a photo tagged "72 dpi" may hold large text). Without a
    declared dpi, only text smaller than ``SMALL_TEXT_AT_300_DPI_PX`` (scaled
    to the target) counts as a low-resolution scan. Never shrinks.
    """
    text_target_px = TEXT_HEIGHT_AT_300_DPI_PX * target_dpi / 300.0
    small_text_px = SMALL_TEXT_AT_300_DPI_PX * target_dpi / 300.0
    if dpi is not None:
        factor = target_dpi / dpi if dpi < 0.9 * target_dpi else 1.0
        if text_height_px:
            factor = min(factor, max(1.0, text_target_px / text_height_px))
    elif text_height_px and text_height_px < small_text_px:
        factor = text_target_px / text_height_px
    else:
        factor = 1.0
    factor = min(factor, MAX_UPSCALE)
    return 1.0 if factor < 1.1 else round(factor, 3)


def rescale_page(image: Image.Image, factor: float) -> Image.Image:
    """Enlarge by ``factor`` with bicubic interpolation (bilevel pages are
    smoothed to gray first, which lets tesseract threshold at the new size)."""
    if image.mode == "1":
        image = image.convert("L")
    size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
    return image.resize(size, Image.Resampling.BICUBIC)


# --------------------------------------------------------------- binarisation
def sauvola_ink(
    gray: np.ndarray, *, window_px: int = 31, k: float = 0.2, dynamic_range: float = 128.0, band_rows: int = 512
) -> np.ndarray:
    """Sauvola's local threshold: ink where ``v < mean * (1 + k (std / R - 1))``
    over a ``window_px`` square. Computed in bands of rows with integral images
    so memory stays a few times the band, not the page. ``(h, w) bool``."""
    window_px = max(3, int(window_px) | 1)
    half = window_px // 2
    height, width = gray.shape
    ink = np.empty((height, width), dtype=bool)
    for top in range(0, height, band_rows):
        bottom = min(height, top + band_rows)
        lo, hi = max(0, top - half), min(height, bottom + half)
        band = gray[lo:hi].astype(np.float64)
        padded = np.pad(band, ((1, 0), (1, 0)))
        s1 = padded.cumsum(0).cumsum(1)
        s2 = np.square(padded).cumsum(0).cumsum(1)
        rows = np.arange(top, bottom) - lo
        r0 = np.clip(rows - half, 0, hi - lo)
        r1 = np.clip(rows + half + 1, 0, hi - lo)
        cols = np.arange(width)
        c0 = np.clip(cols - half, 0, width)
        c1 = np.clip(cols + half + 1, 0, width)
        area = (r1 - r0)[:, None] * (c1 - c0)[None, :]

        def box(s: np.ndarray) -> np.ndarray:
            return s[r1][:, c1] - s[r0][:, c1] - s[r1][:, c0] + s[r0][:, c0]

        mean = box(s1) / area
        var = np.maximum(box(s2) / area - mean * mean, 0.0)
        threshold = mean * (1.0 + k * (np.sqrt(var) / dynamic_range - 1.0))
        ink[top:bottom] = gray[top:bottom] < threshold
    return ink


def otsu_ink(gray: np.ndarray) -> np.ndarray:
    """Ink by one global threshold (fast; for evenly lit scans)."""
    return ink_mask(gray)


def border_mask(ink: np.ndarray, *, max_fraction: float = 0.1, min_ink: float = 0.5) -> np.ndarray:
    """The dark frame a scanner leaves at the edges: rows and columns from
    each edge inwards that are more than ``min_ink`` ink, up to ``max_fraction``
    of the page. ``(h, w) bool``, True = border to whiten."""
    height, width = ink.shape
    mask = np.zeros_like(ink, dtype=bool)
    row_ink = ink.mean(axis=1)
    col_ink = ink.mean(axis=0)

    def run_from_edge(values: np.ndarray, limit: int) -> int:
        dark = values[:limit] > min_ink
        return int(np.argmin(dark)) if not dark.all() else limit

    top = run_from_edge(row_ink, int(height * max_fraction))
    bottom = run_from_edge(row_ink[::-1], int(height * max_fraction))
    left = run_from_edge(col_ink, int(width * max_fraction))
    right = run_from_edge(col_ink[::-1], int(width * max_fraction))
    mask[:top] = True
    mask[height - bottom :] = True
    mask[:, :left] = True
    mask[:, width - right :] = True
    return mask


def ink_to_image(ink: np.ndarray) -> Image.Image:
    """A bilevel image (black ink on white) from an ink mask."""
    return Image.fromarray(~ink)
