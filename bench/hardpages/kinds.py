"""One recipe per kind of hard page: a layout printed on paper, then aged and
captured. Each recipe reads top to bottom: typeset, print, age, capture.

All recipes print at 300 dpi (``PRINT_DPI``) and degrade from there; the
capture decides the file's final resolution and dpi tag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from . import degrade as d
from .layouts import Sheet, book_page, mixed_page, newspaper_page, spread
from .texts import stream_for
from .typeset import Style

PRINT_DPI = 300


@dataclass
class Capture:
    """A finished page: pixels (uint8, (H, W) grey or (H, W, 3) RGB), the dpi to
    tag, the file format, and the sheet it was printed from."""

    pixels: np.ndarray
    dpi: int
    file_format: str  # "png" or "jpeg"
    sheet: Sheet
    jpeg_quality: int = 90


Recipe = Callable[[str, int, np.random.Generator, int], Capture]

_BOLD = {"noto-serif": "noto-serif-bold", "dejavu-serif": "dejavu-serif-bold",
         "free-serif": "free-serif-bold", "garamond": "garamond", "noto-sans": "noto-sans-bold",
         "dejavu-sans": "dejavu-sans-bold"}


def _body(rng: np.random.Generator, faces: list[str], sizes_pt: list[float]) -> tuple[Style, Style]:
    face = str(rng.choice(faces))
    size = float(rng.choice(sizes_pt))
    return Style(face, size), Style(_BOLD[face], size * 1.15, 1.3)


def _skew_degrees(rng: np.random.Generator, low: float, high: float) -> float:
    """A skew angle of ``low``..``high`` degrees. Clockwise skews past 2.2° are
    turned counter-clockwise: tesseract 5.3's page layout (psm 3) loses most of
    a page skewed clockwise by 2.5° or more (measured: 54–91 % CER on clean
    pages at −3°, 0.4 % at +3°), which would swamp what the kind measures."""
    angle = float(rng.uniform(low, high))
    if angle <= 2.2 and rng.random() < 0.5:
        return -angle
    return angle


def _jitter(rng: np.random.Generator, rgb: tuple[float, float, float], amount: float) -> tuple[float, float, float]:
    shift = rng.uniform(-amount, amount)
    return tuple(float(np.clip(c + shift + rng.uniform(-amount / 3, amount / 3), 0, 1)) for c in rgb)


# ---------------------------------------------------------------- dpi150


def dpi150(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """A book page scanned at 150 dpi: greyish paper, soft optics, slight skew."""
    body, head = _body(rng, ["noto-serif", "dejavu-serif", "free-serif"], [9.0, 9.5, 10.0])
    sheet = book_page(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, body=body, head=head)
    ink = d.wear_type(sheet.canvas.ink(), rng, thin_fraction=0.08, thick_fraction=0.08,
                      gap_fraction=0.003, contrast=(0.8, 1.0))
    page = d.paper(ink.shape, rng, _jitter(rng, (0.78, 0.77, 0.74), 0.03), mottle=0.05, fibre=0.03)
    img = d.to_grey(d.print_ink(page, ink, (0.24, 0.23, 0.22)))
    img = d.rotate(img, float(rng.uniform(-0.8, 0.8)), float(np.median(img)))
    img = d.gaussian(img, float(rng.uniform(1.2, 1.5)))  # scanner optics at 300 dpi
    img = d.resize(img, 0.5)  # sampled at 150 dpi
    img = d.sensor(img, rng, noise=0.025)
    return Capture(d.to_uint8(img), 150, "png", sheet)


# ---------------------------------------------------------------- spread


def spread_photo(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """An open book photographed from above: two pages, paper curling into the
    gutter, dark gutter shadow, perspective, on a dark table."""
    body, head = _body(rng, ["noto-serif", "free-serif", "dejavu-serif"], [10.0, 10.5, 11.0])
    sheet = spread(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, body=body, head=head)
    ink = sheet.canvas.ink()
    h, w2 = ink.shape
    w = w2 // 2
    paper_rgb = _jitter(rng, (0.90, 0.87, 0.80), 0.03)
    flat = d.print_ink(d.paper(ink.shape, rng, paper_rgb, mottle=0.03), ink, (0.14, 0.13, 0.13))
    table = np.float32(_jitter(rng, (0.22, 0.18, 0.15), 0.05))
    lift = float(rng.uniform(0.16, 0.22)) * w
    rise = float(rng.uniform(0.10, 0.16)) * w
    halves = []
    for side in (0, 1):
        page = flat[:, side * w:(side + 1) * w]
        mx, my, s = d.book_curl_maps(w, h, gutter_right=(side == 0), lift_px=lift, rise_px=rise,
                                     camera_px=3.5 * w)
        bent = np.stack([_remap(page[..., c], mx, my, float(table[c])) for c in range(3)], axis=-1)
        gutter = 1.0 - 0.75 * np.exp(-np.nan_to_num(s, nan=0.0) / (0.07 * w))
        halves.append(bent * gutter[None, :, None])
    book = np.concatenate(halves, axis=1)
    scale = float(rng.uniform(0.50, 0.55))
    book = d.resize(book, scale)
    bh, bw = book.shape[:2]
    out_w, out_h = round(bw * 1.08), round(bh * 1.12)
    background = np.ones((out_h, out_w, 3), np.float32) * table
    background *= (1 + 0.08 * d.smooth_noise((out_h, out_w), rng, 150))[..., None]
    mx0, my0 = (out_w - bw) / 2, (out_h - bh) / 2
    k = 0.035
    corners = np.float32([[mx0, my0], [mx0 + bw, my0], [mx0 + bw, my0 + bh], [mx0, my0 + bh]])
    corners += rng.uniform(-k, k, (4, 2)).astype(np.float32) * np.float32([bw, bh])
    img = d.warp_perspective(book, corners, (out_w, out_h), background)
    img *= d.light_gradient((out_h, out_w), rng, low=0.65, high=1.0)[..., None]
    img = d.gaussian(img, 1.2)
    img = d.sensor(img, rng, noise=0.025, chroma=0.01)
    return Capture(d.to_uint8(img), round(PRINT_DPI * scale), "jpeg", sheet, jpeg_quality=75)


def _remap(channel: np.ndarray, mx: np.ndarray, my: np.ndarray, border: float) -> np.ndarray:
    """Resample one (H, W) channel through inverse maps, ``border`` outside the page."""
    return cv2.remap(channel, mx, my, interpolation=cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=border)


# ---------------------------------------------------------------- mixed

_FAMILIES = (
    {"regular": "noto-serif", "bold": "noto-serif-bold", "italic": "noto-serif-italic",
     "title": "noto-serif-display-bold"},
    {"regular": "free-serif", "bold": "free-serif-bold", "italic": "free-serif-italic",
     "title": "free-serif-bold"},
    {"regular": "garamond", "bold": "free-serif-bold", "italic": "garamond-italic",
     "title": "noto-serif-display-bold"},
)


def mixed(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """A chapter's first page: running head, chapter title in large type, bold
    and italic words, a quotation in small italic, a footnote, the folio;
    scanned in grey at 300 dpi with a little skew and blur."""
    family = _FAMILIES[int(rng.integers(0, len(_FAMILIES)))]
    sheet = mixed_page(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, family=family,
                       chapter=int(rng.integers(2, 12)))
    ink = sheet.canvas.ink()
    page = d.paper(ink.shape, rng, _jitter(rng, (0.86, 0.84, 0.79), 0.03), mottle=0.04, fibre=0.02)
    img = d.to_grey(d.print_ink(page, ink, (0.18, 0.17, 0.16)))
    img = d.rotate(img, float(rng.uniform(-1.0, 1.0)), float(np.median(img)))
    img = d.gaussian(img, float(rng.uniform(2.3, 2.7)))
    img = d.resize(img, 2 / 3)  # scanned at 200 dpi
    img = d.sensor(img, rng, noise=0.04)
    return Capture(d.to_uint8(img), 200, "png", sheet)


# ---------------------------------------------------------------- newspaper3


def newspaper3(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """A three-column newspaper page on thin newsprint, scanned in grey at 300 dpi."""
    stream = stream_for(split, rng, hint)
    sheet = newspaper_page(split, stream, rng, dpi=PRINT_DPI, index=index)
    ink = d.wear_type(sheet.canvas.ink(), rng, thin_fraction=0.07, thick_fraction=0.12,
                      gap_fraction=0.002, contrast=(0.8, 1.0))
    back = newspaper_page(split, stream_for(split, rng, hint + 3), rng, dpi=PRINT_DPI,
                          index=index + 1).canvas.ink()
    page = d.paper(ink.shape, rng, _jitter(rng, (0.84, 0.82, 0.74), 0.03), mottle=0.06, fibre=0.03)
    page = d.show_through(page, back, strength=float(rng.uniform(0.16, 0.22)), blur_px=2.0)
    img = d.to_grey(d.print_ink(page, ink, (0.22, 0.21, 0.20)))
    img = d.rotate(img, float(rng.uniform(-0.7, 0.7)), float(np.median(img)))
    img = d.gaussian(img, float(rng.uniform(1.3, 1.6)))
    img = d.sensor(img, rng, noise=0.035)
    return Capture(d.to_uint8(img), 300, "png", sheet)


# ---------------------------------------------------------------- shadow


def shadow(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """A page captured under uneven light: skewed 1–4°, a strong brightness
    gradient, and a cast shadow (a hand, a band or the photographer) across
    part of it; colour, a little soft, JPEG."""
    body, head = _body(rng, ["noto-serif", "dejavu-serif", "free-serif"], [10.0, 10.5, 11.0])
    sheet = book_page(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, body=body, head=head)
    ink = sheet.canvas.ink()
    paper_rgb = _jitter(rng, (0.92, 0.90, 0.85), 0.02)
    img = d.print_ink(d.paper(ink.shape, rng, paper_rgb, mottle=0.03), ink, (0.15, 0.14, 0.15))
    angle = _skew_degrees(rng, 1.0, 4.0)
    img = d.rotate(img, angle, tuple(float(c) for c in paper_rgb))
    shape = img.shape[:2]
    light = d.light_gradient(shape, rng, low=float(rng.uniform(0.65, 0.75)), high=1.0)
    kind = ("hand", "band", "edge")[index % 3]
    mask = d.cast_shadow(shape, rng, softness_px=float(rng.uniform(15, 40)), kind=kind)
    light = light * (1.0 - float(rng.uniform(0.30, 0.40)) * mask)
    tint = np.float32([1.0, 0.93, 0.80])  # warm lamp light
    img = img * light[..., None] * tint
    img = d.gaussian(img, float(rng.uniform(1.0, 1.3)))
    img = d.sensor(img, rng, noise=0.035, chroma=0.012)
    return Capture(d.to_uint8(img), 300, "jpeg", sheet, jpeg_quality=75)


# ---------------------------------------------------------------- bleed


def bleed(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """An old, cheap book leaf: yellowed mottled paper, the other side's text
    showing through (mirrored), water stains, foxing and dirt specks."""
    body, head = _body(rng, ["free-serif", "garamond", "noto-serif"], [10.0, 10.5, 11.0])
    sheet = book_page(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, body=body, head=head)
    ink = sheet.canvas.ink()
    back_sheet = book_page(stream_for(split, rng, hint + 3), rng, dpi=PRINT_DPI, body=body, head=head)
    back = back_sheet.canvas.ink()
    back = np.roll(back, (int(rng.integers(-30, 30)), int(rng.integers(-40, 40))), axis=(0, 1))
    shape = ink.shape
    page = d.paper(shape, rng, _jitter(rng, (0.84, 0.76, 0.58), 0.04), mottle=0.09, fibre=0.04)
    page = d.show_through(page, back, strength=float(rng.uniform(0.38, 0.50)), blur_px=1.4,
                          tint=(0.35, 0.30, 0.26))
    page = page * d.stains(shape, rng, count=int(rng.integers(2, 5)), radius_px=(120, 420))
    page = page * d.foxing(shape, rng, clusters=int(rng.integers(8, 16)))
    img = d.print_ink(page, np.clip(ink + d.speckle(shape, rng, dots_per_mpx=200), 0, 1),
                      (0.18, 0.15, 0.13))
    img = d.gaussian(img, float(rng.uniform(1.0, 1.3)))
    img = d.sensor(img, rng, noise=0.03, chroma=0.008)
    return Capture(d.to_uint8(img), 300, "png", sheet)


# ---------------------------------------------------------------- faded


def faded(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """Worn letterpress in an old face: strokes thinned and broken in some
    patches, swollen and filled in others, ink gaps, weak uneven inking on
    greyish paper (low contrast)."""
    size = float(rng.choice([10.5, 11.0, 12.0]))
    body, head = Style("garamond", size), Style("garamond", size * 1.3, 1.3)
    sheet = book_page(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, body=body, head=head)
    ink = sheet.canvas.ink()
    worn = d.wear_type(ink, rng, thin_fraction=0.22, thick_fraction=0.15, gap_fraction=0.03,
                       contrast=(0.5, 0.9))
    page = d.paper(ink.shape, rng, _jitter(rng, (0.80, 0.77, 0.70), 0.03), mottle=0.05, fibre=0.03)
    img = d.to_grey(d.print_ink(page, worn, (0.30, 0.28, 0.27)))
    img = d.gaussian(img, float(rng.uniform(0.9, 1.2)))
    img = d.sensor(img, rng, noise=0.03)
    return Capture(d.to_uint8(img), 300, "png", sheet)


# ---------------------------------------------------------------- phone


def phone(split: str, index: int, rng: np.random.Generator, hint: int) -> Capture:
    """A page photographed with a phone held at an angle: keystone perspective,
    the table around the page, uneven light and vignetting, soft focus, sensor
    noise, strong JPEG; tagged 72 dpi as phones do."""
    body, head = _body(rng, ["noto-serif", "noto-sans", "free-serif", "dejavu-sans"], [10.0, 10.5, 11.0])
    sheet = book_page(stream_for(split, rng, hint), rng, dpi=PRINT_DPI, body=body, head=head)
    ink = sheet.canvas.ink()
    paper_rgb = _jitter(rng, (0.93, 0.91, 0.87), 0.02)
    page = d.print_ink(d.paper(ink.shape, rng, paper_rgb, mottle=0.03), ink, (0.13, 0.13, 0.14))
    ph, pw = page.shape[:2]
    out_h = 2000
    out_w = 1500
    scale = float(rng.uniform(0.74, 0.80)) * out_h / ph  # the page fills ~3/4 of the frame's height
    bw, bh = pw * scale, ph * scale
    x0, y0 = (out_w - bw) / 2, (out_h - bh) / 2
    squeeze = float(rng.uniform(0.03, 0.06)) * bw  # top edge farther from the lens
    corners = np.float32([[x0 + squeeze, y0], [x0 + bw - squeeze, y0], [x0 + bw, y0 + bh], [x0, y0 + bh]])
    if rng.random() < 0.5:  # sometimes the phone is tilted sideways instead: the left edge is farther
        corners = np.float32([[x0, y0 + squeeze], [x0 + bw, y0], [x0 + bw, y0 + bh], [x0, y0 + bh - squeeze]])
    corners += rng.uniform(-0.015, 0.015, (4, 2)).astype(np.float32) * np.float32([bw, bh])
    background = _table((out_h, out_w), rng)
    page_small = d.resize(page, scale * 1.12)  # pre-shrink; the warp does the rest
    img = d.warp_perspective(page_small, corners, (out_w, out_h), background)
    light = d.light_gradient((out_h, out_w), rng, low=float(rng.uniform(0.55, 0.7)), high=1.0)
    img = img * (light * d.vignette((out_h, out_w), depth=0.3))[..., None]
    img = d.gaussian(img, float(rng.uniform(0.8, 1.1)))
    img = d.sensor(img, rng, noise=0.04, chroma=0.02)
    return Capture(d.to_uint8(img), 72, "jpeg", sheet, jpeg_quality=int(rng.integers(60, 72)))


def _table(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) a surface under the page: wood grain, a dark cloth or a grey desk."""
    h, w = shape
    choice = int(rng.integers(0, 3))
    if choice == 0:
        base = np.float32([0.45, 0.30, 0.18])
        grain = 0.5 * d.smooth_noise(shape, rng, 12, aspect=25) + 0.5 * d.smooth_noise(shape, rng, 60, aspect=8)
        tone = 1 + 0.18 * grain
    elif choice == 1:
        base = np.float32([0.12, 0.13, 0.16])
        tone = 1 + 0.10 * d.smooth_noise(shape, rng, 4) + 0.1 * d.smooth_noise(shape, rng, 200)
    else:
        base = np.float32([0.55, 0.56, 0.58])
        tone = 1 + 0.06 * d.smooth_noise(shape, rng, 300)
    return np.clip(tone[..., None] * base, 0, 1).astype(np.float32)


RECIPES: dict[str, Recipe] = {
    "dpi150": dpi150,
    "spread": spread_photo,
    "mixed": mixed,
    "newspaper3": newspaper3,
    "shadow": shadow,
    "bleed": bleed,
    "faded": faded,
    "phone": phone,
}
