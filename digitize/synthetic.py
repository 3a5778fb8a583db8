"""Synthetic scanned pages of Vietnamese text, with their exact ground truth.

No shareable real Vietnamese scan with a transcription exists, so the platform
makes its own: it draws known text on a page image with a font that has every
Vietnamese glyph, then spoils the image the way a scanner does (skew, optical
blur, sensor noise, a lower resolution, JPEG compression). The result feeds the
demo collection built at first start, the tests and the OCR benchmarks.

The recipe::

    font = find_vietnamese_font()
    pages = render_document(text, font_path=font, degradation=PRESETS["scan"])
    for page in pages:
        page.image   # PIL "L" image, dpi info set
        page.text    # NFC ground truth, one line per drawn row

A font that lacks a precomposed glyph (``ơ``, ``ữ``...) draws a box instead,
which an OCR engine then "misreads": a fake error. So every render checks the
font's character map first and refuses a font with a missing glyph.

Units: page sizes, margins in inches (``_in``), font sizes in points
(``_pt``, 1/72 inch), resolutions in dots per inch; image sizes in pixels.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from digitize.errors import DigitizeError

__all__ = [
    "VIETNAMESE_CHARS",
    "PRESETS",
    "FONT_DIRS",
    "FontNotFound",
    "MissingGlyphs",
    "RenderedPage",
    "missing_glyphs",
    "find_vietnamese_font",
    "wrap_text",
    "render_page",
    "degrade",
    "render_document",
]


def _vietnamese_chars() -> str:
    vowels = "aăâeêioôơuưy"
    # no mark, huyền (grave), sắc (acute), hỏi (hook above), ngã (tilde), nặng (dot below)
    tones = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
    toned = "".join(unicodedata.normalize("NFC", v + t) for v in vowels for t in tones)
    consonants = "bcdfghjklmnpqrstvwxz"  # f j w z only in loanwords, but they are printed
    lower = toned + "đ" + consonants
    return lower + lower.upper()


VIETNAMESE_CHARS: str = _vietnamese_chars()
"""Every letter of Vietnamese, lower then upper case, NFC: the 12 vowels with each
of the 6 tones (72 forms), đ, and the consonants of the Latin alphabet (186 chars)."""


class FontNotFound(DigitizeError):
    """No installed font has every Vietnamese glyph; the message names the package to install."""


class MissingGlyphs(DigitizeError, ValueError):
    """A font lacks glyphs for some characters of the text to draw.

    ``chars`` holds the missing characters; a page drawn with this font would
    show boxes instead of them.
    """

    def __init__(self, font_path: str | Path, chars: Iterable[str]):
        self.font_path = Path(font_path)
        self.chars = frozenset(chars)
        shown = " ".join(f"{c!r} (U+{ord(c):04X})" for c in sorted(self.chars)[:20])
        more = "" if len(self.chars) <= 20 else f" and {len(self.chars) - 20} more"
        super().__init__(
            f"font {self.font_path.name} has no glyph for {shown}{more}: it would draw "
            "boxes instead; use find_vietnamese_font() or a font with full Vietnamese coverage"
        )


# ---------------------------------------------------------------- fonts

FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),  # fonts-dejavu-core
    Path("/usr/share/fonts/truetype/noto"),  # fonts-noto-core
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/liberation2"),  # fonts-liberation2
    Path("/usr/share/fonts/truetype/liberation"),  # fonts-liberation
    Path("/usr/share/fonts/truetype/freefont"),  # fonts-freefont-ttf
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
)
"""Folders searched by :func:`find_vietnamese_font`, in order (Debian first)."""

_FONT_FILES: dict[str, tuple[str, ...]] = {
    "serif": (
        "DejaVuSerif.ttf",
        "NotoSerif-Regular.ttf",
        "LiberationSerif-Regular.ttf",
        "FreeSerif.ttf",
        "times.ttf",
    ),
    "sans": (
        "DejaVuSans.ttf",
        "NotoSans-Regular.ttf",
        "LiberationSans-Regular.ttf",
        "FreeSans.ttf",
        "arial.ttf",
    ),
}


@functools.lru_cache(maxsize=64)
def _cmap(font_path: str, mtime_ns: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_path, lazy=True, fontNumber=0) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)


def missing_glyphs(font_path: str | Path, text: str) -> set[str]:
    """Characters of ``text`` (NFC, white space ignored) absent from the font's cmap.

    ``font_path`` is a TrueType/OpenType file (the first face of a collection).
    """
    path = Path(font_path)
    codepoints = _cmap(str(path.resolve()), path.stat().st_mtime_ns)
    chars = set(unicodedata.normalize("NFC", text))
    return {c for c in chars if not c.isspace() and ord(c) not in codepoints}


def find_vietnamese_font(style: str = "serif", *, font_dirs: Iterable[Path] | None = None) -> Path:
    """The first installed font of ``style`` ("serif" or "sans") with every Vietnamese glyph.

    Looks for DejaVu, Noto, Liberation and FreeFont files in ``font_dirs``
    (default :data:`FONT_DIRS`), the requested style first and the other style
    after it, and keeps the first one whose cmap covers :data:`VIETNAMESE_CHARS`.
    Raises :class:`FontNotFound` naming the Debian package to install.
    """
    if style not in _FONT_FILES:
        raise ValueError(f"style must be one of {sorted(_FONT_FILES)}, not {style!r}")
    dirs = tuple(FONT_DIRS if font_dirs is None else font_dirs)
    names = _FONT_FILES[style] + tuple(
        name for other, files in _FONT_FILES.items() if other != style for name in files
    )
    for name in names:
        for folder in dirs:
            candidate = folder / name
            if candidate.is_file() and not missing_glyphs(candidate, VIETNAMESE_CHARS):
                return candidate
    raise FontNotFound(
        "no installed font has every Vietnamese glyph (looked for "
        f"{', '.join(names)} in {', '.join(str(d) for d in dirs)}); "
        "install one, e.g. `apt-get install fonts-dejavu-core` (or fonts-noto-core)"
    )


@functools.lru_cache(maxsize=32)
def _load_font(font_path: str, size_px: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: identical pixels with or without libraqm; NFC Vietnamese is
    # all precomposed, so no shaping is needed.
    return ImageFont.truetype(font_path, size_px, layout_engine=ImageFont.Layout.BASIC)


# ---------------------------------------------------------------- layout


def wrap_text(line: str, font: ImageFont.FreeTypeFont, width_px: float) -> list[str]:
    """Break one line into rows no wider than ``width_px``, at spaces.

    Runs of white space become single spaces. A word wider than the row is
    cut between characters. An empty line gives one empty row.
    """
    words = line.split()
    rows: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width_px:
            current = candidate
            continue
        if current:
            rows.append(current)
        current = ""
        while font.getlength(word) > width_px:  # a word longer than the row
            cut = max(1, _fitting_prefix(word, font, width_px))
            rows.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not rows:
        rows.append(current)
    return rows


def _fitting_prefix(word: str, font: ImageFont.FreeTypeFont, width_px: float) -> int:
    lo, hi = 0, len(word)  # longest prefix that fits, by bisection
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if font.getlength(word[:mid]) <= width_px:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclasses.dataclass(frozen=True)
class RenderedPage:
    """One synthetic page.

    ``image``: PIL "L" image, ``image.info["dpi"]`` set. ``text``: NFC ground
    truth of exactly what was drawn, one line per row (title first when there
    is one, then an empty line), joined by ``"\\n"``. ``lines_used``: how many
    of the input lines were drawn (wholly; a line is never split across pages).
    """

    image: Image.Image
    text: str
    lines_used: int

    @property
    def dpi(self) -> float:
        return float(self.image.info["dpi"][0])


@dataclasses.dataclass(frozen=True)
class _Geometry:
    width_px: int
    height_px: int
    margin_px: int
    body: ImageFont.FreeTypeFont
    title: ImageFont.FreeTypeFont
    line_spacing: float

    @property
    def text_width_px(self) -> int:
        return self.width_px - 2 * self.margin_px

    def pitch_px(self, font: ImageFont.FreeTypeFont) -> int:
        return round(font.size * self.line_spacing)


def _geometry(
    font_path: str | Path,
    dpi: float,
    page_width_in: float,
    page_height_in: float,
    font_size_pt: float,
    margin_in: float,
    line_spacing: float,
) -> _Geometry:
    if dpi <= 0 or font_size_pt <= 0 or line_spacing <= 0:
        raise ValueError("dpi, font_size_pt and line_spacing must be positive")
    width_px, height_px = round(page_width_in * dpi), round(page_height_in * dpi)
    margin_px = round(margin_in * dpi)
    if min(width_px, height_px) - 2 * margin_px <= 0:
        raise ValueError("the margins leave no room for text on the page")
    size_px = max(1, round(font_size_pt * dpi / 72))
    return _Geometry(
        width_px=width_px,
        height_px=height_px,
        margin_px=margin_px,
        body=_load_font(str(font_path), size_px),
        title=_load_font(str(font_path), max(1, round(size_px * 1.5))),
        line_spacing=line_spacing,
    )


def render_page(
    lines: list[str],
    *,
    font_path: str | Path,
    dpi: float = 300,
    page_width_in: float = 6.0,
    page_height_in: float = 8.5,
    font_size_pt: float = 12,
    margin_in: float = 0.6,
    line_spacing: float = 1.5,
    title: str | None = None,
) -> RenderedPage:
    """Draw as many of ``lines`` as fit on one page, black on white.

    Long lines are wrapped at spaces; a line is drawn only when all its rows
    fit. An optional ``title`` is drawn first, centred, 1.5 times larger.
    Raises :class:`MissingGlyphs` (a ``ValueError``) when the font lacks a
    glyph of the text, and ``ValueError`` when the first line cannot fit.
    """
    lines = [unicodedata.normalize("NFC", line) for line in lines]
    title = unicodedata.normalize("NFC", title) if title else None
    missing = missing_glyphs(font_path, "".join(lines) + (title or ""))
    if missing:
        raise MissingGlyphs(font_path, missing)
    geo = _geometry(font_path, dpi, page_width_in, page_height_in, font_size_pt, margin_in, line_spacing)

    image = Image.new("L", (geo.width_px, geo.height_px), 255)
    image.info["dpi"] = (dpi, dpi)
    draw = ImageDraw.Draw(image)
    bottom_px = geo.height_px - geo.margin_px
    top_px = geo.margin_px  # top of the next row
    drawn: list[str] = []

    if title:
        ascent, descent = geo.title.getmetrics()
        for row in wrap_text(title, geo.title, geo.text_width_px):
            if top_px + ascent + descent > bottom_px:
                raise ValueError("the title does not fit on the page")
            x = geo.margin_px + (geo.text_width_px - geo.title.getlength(row)) / 2
            draw.text((x, top_px + ascent), row, font=geo.title, fill=0, anchor="ls")
            drawn.append(row)
            top_px += geo.pitch_px(geo.title)
        drawn.append("")
        top_px += geo.pitch_px(geo.body)  # one empty body row under the title

    ascent, descent = geo.body.getmetrics()
    pitch = geo.pitch_px(geo.body)
    lines_used = 0
    for index, line in enumerate(lines):
        rows = wrap_text(line, geo.body, geo.text_width_px)
        last_bottom = top_px + (len(rows) - 1) * pitch + ascent + descent
        if last_bottom > bottom_px:
            if index == 0:
                raise ValueError(
                    f"the first line needs {len(rows)} rows and does not fit on the page; "
                    "use render_document() to paginate long text"
                )
            break
        for row in rows:
            if row:
                draw.text((geo.margin_px, top_px + ascent), row, font=geo.body, fill=0, anchor="ls")
            drawn.append(row)
            top_px += pitch
        lines_used += 1

    return RenderedPage(image=image, text="\n".join(drawn), lines_used=lines_used)


# ---------------------------------------------------------------- degradation

PRESETS: dict[str, dict[str, Any]] = {
    # a perfect flatbed scan at the rendering resolution
    "clean": {},
    # an ordinary office scan: slightly crooked page, soft focus, sensor noise, JPEG
    "scan": {"skew_deg": 1.5, "blur_radius": 1.0, "noise_sigma": 15.0, "jpeg_quality": 70},
    # a cheap scan at 150 dpi (12 pt type gets about 25 px per line)
    "low_dpi": {"skew_deg": 1.0, "blur_radius": 1.2, "noise_sigma": 12.0, "dpi": 150, "jpeg_quality": 75},
    # a bad scan: crooked, out of focus, grainy, 150 dpi, heavy JPEG; strokes break up
    "poor": {"skew_deg": 2.5, "blur_radius": 2.2, "noise_sigma": 35.0, "dpi": 150, "jpeg_quality": 40},
}
"""Named keyword sets for :func:`degrade` (blur and noise in pixels / grey levels)."""


def degrade(
    image: Image.Image,
    *,
    skew_deg: float = 0.0,
    blur_radius: float = 0.0,
    noise_sigma: float = 0.0,
    dpi: float | None = None,
    jpeg_quality: int | None = None,
    seed: int = 0,
) -> Image.Image:
    """Spoil a clean page the way a scanner does; the same ``seed`` gives the same pixels.

    In the order a scan happens:

    1. ``skew_deg``: the page lies crooked; rotate counter-clockwise by this
       many degrees about the centre, keeping the page size, white fill.
    2. ``blur_radius``: optical blur; Gaussian, standard deviation in pixels
       of the input image.
    3. ``dpi``: the sensor's resolution; resample down from the image's own
       ``info["dpi"]`` (required then) and set the new dpi info.
    4. ``noise_sigma``: sensor noise; additive Gaussian, standard deviation in
       grey levels (0–255), per output pixel, from ``numpy.random.default_rng(seed)``.
    5. ``jpeg_quality``: compression; a JPEG round trip at this quality (1–95).

    Returns a new "L" (or "RGB", if given one) image with ``info["dpi"]`` set
    when known; the input is not changed.
    """
    source_dpi = image.info.get("dpi")
    out = image if image.mode in ("L", "RGB") else image.convert("L")
    white = 255 if out.mode == "L" else (255, 255, 255)

    if skew_deg:
        out = out.rotate(skew_deg, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=white)
    if blur_radius > 0:
        out = out.filter(ImageFilter.GaussianBlur(blur_radius))
    new_dpi = source_dpi
    if dpi is not None:
        if not source_dpi:
            raise ValueError("cannot resample to a dpi: the image has no dpi info")
        scale = float(dpi) / float(source_dpi[0])
        if not 0 < scale <= 1:
            raise ValueError(f"dpi {dpi} is not a reduction of the image's {source_dpi[0]} dpi")
        if scale < 1:
            size = (max(1, round(out.width * scale)), max(1, round(out.height * scale)))
            out = out.resize(size, resample=Image.Resampling.LANCZOS)
        new_dpi = (dpi, dpi)
    if noise_sigma > 0:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(out, dtype=np.float32)
        pixels = pixels + rng.normal(0.0, noise_sigma, size=pixels.shape).astype(np.float32)
        out = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    if jpeg_quality is not None:
        if not 1 <= jpeg_quality <= 95:
            raise ValueError("jpeg_quality must be between 1 and 95")
        buffer = io.BytesIO()
        out.save(buffer, format="JPEG", quality=int(jpeg_quality))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            out = decoded.copy()  # a plain image, detached from the JPEG file

    if out is image:
        out = image.copy()
    out.info = {"dpi": new_dpi} if new_dpi else {}
    return out


# ---------------------------------------------------------------- documents


def render_document(
    text: str,
    *,
    pages: int | None = None,
    degradation: Mapping[str, Any] | str | None = None,
    font_path: str | Path | None = None,
    dpi: float = 300,
    page_width_in: float = 6.0,
    page_height_in: float = 8.5,
    font_size_pt: float = 12,
    margin_in: float = 0.6,
    line_spacing: float = 1.5,
    title: str | None = None,
    seed: int = 0,
) -> list[RenderedPage]:
    """Paginate ``text`` (lines separated by newlines) onto as many pages as it needs.

    ``pages`` caps the number of pages (``None``: all the text). Lines are
    wrapped to the text width first, so long paragraphs flow across pages;
    empty lines are kept as empty rows except at the top of a page. ``title``
    goes on the first page only. ``degradation`` is a dict of :func:`degrade`
    keywords or a :data:`PRESETS` name; page ``n`` (from 0) gets noise seed
    ``seed + n``. ``font_path`` defaults to :func:`find_vietnamese_font`.
    """
    if pages is not None and pages < 1:
        raise ValueError("pages must be at least 1")
    if isinstance(degradation, str):
        try:
            degradation = PRESETS[degradation]
        except KeyError:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f"unknown degradation preset {degradation!r}; known: {known}") from None
    font_path = find_vietnamese_font() if font_path is None else Path(font_path)
    text = unicodedata.normalize("NFC", text)
    missing = missing_glyphs(font_path, text + (title or ""))
    if missing:
        raise MissingGlyphs(font_path, missing)

    layout = {
        "font_path": font_path,
        "dpi": dpi,
        "page_width_in": page_width_in,
        "page_height_in": page_height_in,
        "font_size_pt": font_size_pt,
        "margin_in": margin_in,
        "line_spacing": line_spacing,
    }
    geo = _geometry(font_path, dpi, page_width_in, page_height_in, font_size_pt, margin_in, line_spacing)
    rows = [row for line in text.splitlines() for row in wrap_text(line, geo.body, geo.text_width_px)]

    rows_per_page = geo.height_px // geo.pitch_px(geo.body) + 1  # more than ever fit
    result: list[RenderedPage] = []
    start = 0
    while start < len(rows) and (pages is None or len(result) < pages):
        while start < len(rows) and not rows[start]:
            start += 1  # no empty rows at the top of a page
        if start == len(rows):
            break
        page = render_page(rows[start : start + rows_per_page], title=title if not result else None, **layout)
        start += page.lines_used
        result.append(page)

    if degradation:
        options = dict(degradation)
        base_seed = options.pop("seed", seed)
        result = [
            dataclasses.replace(page, image=degrade(page.image, **options, seed=base_seed + number))
            for number, page in enumerate(result)
        ]
    return result

