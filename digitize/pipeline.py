"""Reading a page: the recipe.

:func:`read_page` lists the stages in order, OCRmyPDF-style; each stage is a
small function ``stage(value, context) -> value`` that can be tried alone.
The page goes

    load (EXIF orientation applied) → grayscale → orientation (tesseract OSD,
    only when asked) → deskew → [the normalised image is saved here] →
    rescale (low-resolution scans are enlarged) → binarise and clean borders
    (only when asked) → tesseract (one run, TSV) → parse (words, lines,
    blocks; hOCR and ALTO written from them)

Grayscale comes before OSD only because OSD needs the page written to a file
and a one-channel file is cheaper to write and read.

Word boxes, hOCR and ALTO come back in the frame of the *normalised* image:
upright and deskewed, at the resolution of the source, not binarised. That
is the image a viewer should show under the boxes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
from PIL import Image, ImageFilter

from digitize import preprocess, tesseract
from digitize.errors import ImageTooLarge, ZonesInvalid
from digitize.images import DEFAULT_MAX_PIXELS, load_page_image, save_png, upright
from digitize.reading import PageReading, alto_document, hocr_document, parse_tsv, rescale_tsv

OSD_MIN_CONFIDENCE = 5.0  # below this, OSD's opinion is not acted on
OSD_MAX_SIDE_PX = 3500  # pages are shrunk to this for OSD
# enlarged pages stay below this: tesseract needs about 9 bytes per pixel
MAX_OCR_PIXELS = 40_000_000
ZONE_PSM = 6  # each zone of a zone file read as one uniform block of text
PNG_COMPRESS_LEVEL = 1  # zlib level: 2-3 save 1-3 % of the size for 10-60 % more time
BINARISE_BLUR_PX = 1.0  # Gaussian sigma before Sauvola: keeps sensor noise from becoming specks

ProgressCallback = Callable[[str], None]
T = TypeVar("T")
U = TypeVar("U")


# --------------------------------------------------------------------- options
@dataclass(frozen=True)
class Zone:
    """A region of the source image in pixels (after EXIF orientation), as in
    a UNLV ``.uzn`` line ``x y w h Text``."""

    x: int
    y: int
    w: int
    h: int
    label: str = "Text"


@dataclass(frozen=True)
class OcrOptions:
    """How to read a page.

    ``languages`` is tesseract's ``-l`` (``"vie"``, ``"vie+fra"``); ``psm``
    its page segmentation mode (3 = automatic layout). With ``zones`` the
    layout comes from them instead: tesseract reads each zone as one block
    (``psm`` 6 unless a non-automatic one is given). ``target_dpi``:
    low-resolution scans are enlarged towards it. ``timeout_s`` limits each
    tesseract run.
    """

    languages: str = "vie"
    psm: int = 3
    detect_orientation: bool = False
    deskew: bool = True
    binarize: bool = False
    clean_borders: bool = False
    target_dpi: int = 300
    zones: tuple[Zone, ...] = ()
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if not 1 <= int(self.psm) <= 13:
            raise ValueError(f"psm must be 1-13 (0 only detects orientation), not {self.psm}")
        if not 72 <= int(self.target_dpi) <= 1200:
            raise ValueError(f"target_dpi must be 72-1200, not {self.target_dpi}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {self.timeout_s}")
        if not isinstance(self.zones, tuple):
            object.__setattr__(self, "zones", tuple(self.zones))

    @property
    def effective_psm(self) -> int:
        """The psm tesseract is run with: zones need a non-automatic one."""
        if self.zones and self.psm in tesseract.AUTOMATIC_PSMS:
            return ZONE_PSM
        return self.psm


def read_zones(uzn_path: Path | str) -> tuple[Zone, ...]:
    """Parse a UNLV zone file: one ``x y w h type`` line per zone (pixels)."""
    path = Path(uzn_path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise ZonesInvalid(path.name, f"cannot be read ({exc.strerror or exc})") from None
    zones = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            x, y, w, h = (int(v) for v in fields[:4])
        except ValueError:
            raise ZonesInvalid(path.name, f"line {number} is not 'x y w h type': {line.strip()!r}") from None
        if w <= 0 or h <= 0 or x < 0 or y < 0:
            raise ZonesInvalid(path.name, f"line {number} has an empty or negative box: {line.strip()!r}")
        zones.append(Zone(x, y, w, h, " ".join(fields[4:]) or "Text"))
    return tuple(zones)


# --------------------------------------------------------------------- context
@dataclass
class PageContext:
    """What the stages share: the options, the work folder, and what each
    stage learnt about the page."""

    options: OcrOptions
    work_dir: Path
    page_index: int = 0
    pdf_dpi: int = 300
    max_pixels: int = DEFAULT_MAX_PIXELS
    progress: ProgressCallback | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    # learnt along the way
    dpi: float | None = None  # of the normalised image, when believable
    rotation_deg: int = 0  # clockwise quarter turns applied (EXIF, OSD)
    skew_deg: float = 0.0  # skew removed, counter-clockwise positive
    text_height_px: float | None = None  # in the normalised image
    scale: float = 1.0  # OCR image / normalised image
    zones: tuple[Zone, ...] = ()  # in the frame of the current image
    normalised_image: Image.Image | None = None
    normalised_path: Path | None = None
    ocr_path: Path | None = None

    @property
    def prefix(self) -> str:
        return f"page-{self.page_index:05d}"

    def path(self, suffix: str) -> Path:
        return self.work_dir / f"{self.prefix}-{suffix}"

    def run(self, name: str, stage: Callable[[T, "PageContext"], U], value: T) -> U:
        """Run one stage, announcing it to ``progress`` and timing it."""
        if self.progress is not None:
            self.progress(name)
        start = time.perf_counter()
        try:
            return stage(value, self)
        finally:
            self.timings_s[name] = self.timings_s.get(name, 0.0) + time.perf_counter() - start


# ---------------------------------------------------------------------- recipe
def read_page(
    source: Path | str | Image.Image,
    *,
    options: OcrOptions,
    work_dir: Path,
    page_index: int = 0,
    pdf_dpi: int = 300,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: ProgressCallback | None = None,
) -> PageReading:
    """OCR one page of ``source`` (an image or PDF file, or a PIL image).

    Intermediate and output files go to ``work_dir`` (created if needed),
    named after ``page_index``; the normalised page image stays there as a
    PNG. ``progress`` is called with each stage's name as it starts.

    Raises ImageUnreadable / ImageTooLarge for bad input, LanguageMissing /
    TesseractMissing when the engine is incomplete, OcrTimeout and OcrFailed
    when tesseract does not finish or fails.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    context = PageContext(
        options=options,
        work_dir=work_dir,
        page_index=page_index,
        pdf_dpi=pdf_dpi,
        max_pixels=max_pixels,
        progress=progress,
    )
    started = time.perf_counter()
    context.run("check_engine", check_engine, options)
    image = context.run("load", load, source)
    image = context.run("grayscale", grayscale, image)
    image = context.run("orientation", orient, image)
    image = context.run("deskew", deskew, image)
    image = context.run("save_normalised", save_normalised, image)
    image = context.run("rescale", rescale, image)
    image = context.run("binarise", binarise, image)
    image = context.run("clean_borders", clean_borders, image)
    ocr_path = context.run("write_ocr_input", write_ocr_input, image)
    output = context.run("tesseract", recognise, ocr_path)
    reading = context.run("parse", assemble, output)
    context.timings_s["total"] = time.perf_counter() - started
    return reading


# ---------------------------------------------------------------------- stages
def check_engine(options: OcrOptions, context: PageContext) -> str:
    """Fail fast, before any pixel work, when tesseract or a language is missing."""
    version = tesseract.tesseract_version()
    tesseract.check_languages(options.languages)
    if options.detect_orientation:
        tesseract.check_languages("osd")
    return version


def load(source: Path | str | Image.Image, context: PageContext) -> Image.Image:
    """Decode the page (EXIF orientation applied) and note its resolution."""
    if isinstance(source, Image.Image):
        width, height = source.size
        if width * height > context.max_pixels:
            raise ImageTooLarge("image", width * height, context.max_pixels)
        image = upright(source.copy())
    else:
        image = load_page_image(
            Path(source),
            page_index=context.page_index,
            pdf_dpi=context.pdf_dpi,
            max_pixels=context.max_pixels,
            grayscale=True,
        )
    context.rotation_deg = int(image.info.get("exif_rotation_deg", 0))
    context.dpi = preprocess.plausible_dpi(image.info.get("dpi"))
    context.zones = context.options.zones
    return image


def grayscale(image: Image.Image, context: PageContext) -> Image.Image:
    """One channel; bilevel scans stay bilevel."""
    return preprocess.to_grayscale(image)


def orient(image: Image.Image, context: PageContext) -> Image.Image:
    """Turn the page upright by quarter turns when tesseract's OSD is sure."""
    if not context.options.detect_orientation:
        return image
    osd_path = context.path("osd.png")
    shrink = max(1, math.ceil(max(image.size) / OSD_MAX_SIDE_PX))
    probe = image.convert("L").reduce(shrink) if shrink > 1 else image
    save_png(probe, osd_path, compress_level=PNG_COMPRESS_LEVEL)
    try:
        found = tesseract.detect_orientation(osd_path, timeout_s=context.options.timeout_s)
    finally:
        osd_path.unlink(missing_ok=True)
    if found.rotate_deg == 0 or found.confidence < OSD_MIN_CONFIDENCE:
        return image
    width, height = image.size
    context.zones = tuple(rotate_zone_quarters(z, found.rotate_deg, width, height) for z in context.zones)
    context.rotation_deg = (context.rotation_deg + found.rotate_deg) % 360
    return image.transpose(_CLOCKWISE_TRANSPOSE[found.rotate_deg])


_CLOCKWISE_TRANSPOSE = {
    90: Image.Transpose.ROTATE_270,  # PIL's ROTATE_n turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def deskew(image: Image.Image, context: PageContext) -> Image.Image:
    """Measure the skew (and the text size, for the rescale stage) on a small
    copy; rotate the page straight when it is skewed by more than
    ``MIN_SKEW_CORRECTION_DEG``."""
    gray, x_scale, y_scale = preprocess.analysis_copy(image)
    skew = 0.0
    if context.options.deskew:
        skew = preprocess.estimate_skew_deg(gray, x_scale=x_scale, y_scale=y_scale)
    context.text_height_px = preprocess.estimate_text_height_px(
        gray, x_scale=x_scale, y_scale=y_scale, skew_deg=skew
    )
    if abs(skew) <= preprocess.MIN_SKEW_CORRECTION_DEG:
        return image
    context.skew_deg = round(skew, 3)
    straight = preprocess.rotate_page(image, -skew, fill=preprocess.paper_level(gray))
    context.zones = tuple(rotate_zone(z, -skew, image.size, straight.size) for z in context.zones)
    return straight


def save_normalised(image: Image.Image, context: PageContext) -> Image.Image:
    """Write the normalised page (the frame of every box) as PNG."""
    path = save_png(image, context.path("normalised.png"), dpi=context.dpi, compress_level=PNG_COMPRESS_LEVEL)
    context.normalised_image = image
    context.normalised_path = path
    return image


def rescale(image: Image.Image, context: PageContext) -> Image.Image:
    """Enlarge a low-resolution scan towards ``target_dpi`` (never shrinks;
    stays within ``max_pixels`` and ``MAX_OCR_PIXELS``)."""
    factor = preprocess.upscale_factor(
        dpi=context.dpi, text_height_px=context.text_height_px, target_dpi=context.options.target_dpi
    )
    pixels = image.width * image.height
    budget = min(context.max_pixels, MAX_OCR_PIXELS)
    if factor > 1.0 and pixels * factor * factor > budget:
        factor = math.sqrt(budget / pixels)
    if factor <= 1.0:
        return image
    enlarged = preprocess.rescale_page(image, factor)
    context.scale = enlarged.width / image.width
    context.zones = tuple(scale_zone(z, context.scale) for z in context.zones)
    return enlarged


def binarise(image: Image.Image, context: PageContext) -> Image.Image:
    """Sauvola thresholding after a light denoising blur, with a window about
    one and a half text lines high."""
    if not context.options.binarize or image.mode == "1":
        return image
    line_px = (context.text_height_px or preprocess.TEXT_HEIGHT_AT_300_DPI_PX) * context.scale
    window_px = int(np.clip(round(line_px * 1.5), 15, 151)) | 1
    smooth = image.convert("L").filter(ImageFilter.GaussianBlur(BINARISE_BLUR_PX))
    return preprocess.ink_to_image(preprocess.sauvola_ink(np.asarray(smooth), window_px=window_px))


def clean_borders(image: Image.Image, context: PageContext) -> Image.Image:
    """Whiten the dark frame a scanner leaves around a page."""
    if not context.options.clean_borders:
        return image
    if image.mode == "1":
        ink = ~np.asarray(image)
    else:
        ink = preprocess.ink_mask(np.asarray(image.convert("L")))
    border = preprocess.border_mask(ink)
    if not border.any():
        return image
    if image.mode == "1":
        return preprocess.ink_to_image(ink & ~border)
    pixels = np.array(image.convert("L"))
    pixels[border] = 255
    return Image.fromarray(pixels, "L")


def write_ocr_input(image: Image.Image, context: PageContext) -> Path:
    """The file tesseract reads (the normalised PNG itself when nothing
    changed since), with the zones beside it as ``<name>.uzn``."""
    if image is context.normalised_image and context.normalised_path is not None:
        path = context.normalised_path
    else:
        dpi = context.dpi * context.scale if context.dpi else None
        path = save_png(image, context.path("ocr.png"), dpi=dpi, compress_level=PNG_COMPRESS_LEVEL)
    uzn_path = path.with_suffix(".uzn")
    if context.zones:
        uzn_path.write_text(
            format_zones(clip_zones(context.zones, image.width, image.height)), encoding="utf-8"
        )
    else:
        uzn_path.unlink(missing_ok=True)  # tesseract would read a stale one
    context.ocr_path = path
    return path


def recognise(ocr_path: Path, context: PageContext) -> tesseract.OcrOutput:
    """One tesseract run writing TSV (its other renderers cost CPU; the
    parse stage writes hOCR and ALTO from the TSV instead)."""
    options = context.options
    dpi = round(context.dpi * context.scale) if context.dpi else None
    try:
        return tesseract.recognise(
            ocr_path,
            context.path("ocr"),
            languages=options.languages,
            psm=options.effective_psm,
            timeout_s=options.timeout_s,
            dpi=dpi,
        )
    finally:
        if ocr_path != context.normalised_path:
            ocr_path.unlink(missing_ok=True)


def assemble(output: tesseract.OcrOutput, context: PageContext) -> PageReading:
    """Parse tesseract's TSV into the page reading, in the normalised frame,
    and write the page's hOCR and ALTO from the same words."""
    normalised = context.normalised_image
    assert normalised is not None and context.normalised_path is not None
    width, height = normalised.size
    scale = context.scale
    options = context.options
    parsed = parse_tsv(output.tsv, scale=scale, frame_w=width, frame_h=height)
    name = context.normalised_path.name
    engine = f"tesseract {tesseract.tesseract_version()}"
    return PageReading(
        text=parsed.text,
        words=parsed.words,
        lines=parsed.lines,
        blocks=parsed.blocks,
        mean_confidence=parsed.mean_confidence,
        hocr=hocr_document(parsed, width=width, height=height, image_name=name,
                           languages=options.languages, engine=engine, dpi=context.dpi),
        alto=alto_document(parsed, width=width, height=height, image_name=name,
                           languages=options.languages, engine=engine, page_number=context.page_index + 1),
        tsv=rescale_tsv(output.tsv, scale=scale, frame_w=width, frame_h=height),
        width=width,
        height=height,
        normalised_image_path=context.normalised_path,
        rotation_deg=context.rotation_deg,
        skew_deg=context.skew_deg,
        scale=scale,
        timings_s=context.timings_s,
        tesseract_version=tesseract.tesseract_version(),
        dpi=context.dpi,
        languages=options.languages,
        psm=options.effective_psm,
        upscaled=scale > 1.0,
    )


# ----------------------------------------------------------------------- zones
def rotate_zone_quarters(zone: Zone, clockwise_deg: int, width: int, height: int) -> Zone:
    """A zone of a ``width`` × ``height`` image after the image is turned
    clockwise by 90, 180 or 270 degrees."""
    x, y, w, h = zone.x, zone.y, zone.w, zone.h
    turn = clockwise_deg % 360
    if turn == 90:
        return replace(zone, x=height - (y + h), y=x, w=h, h=w)
    if turn == 180:
        return replace(zone, x=width - (x + w), y=height - (y + h))
    if turn == 270:
        return replace(zone, x=y, y=width - (x + w), w=h, h=w)
    return zone


def rotate_zone(
    zone: Zone, angle_deg: float, size: tuple[int, int], new_size: tuple[int, int] | None = None
) -> Zone:
    """The box around a zone after its image (``size`` = width, height) is
    rotated by ``angle_deg`` counter-clockwise about its centre, as
    ``PIL.Image.rotate`` does; ``new_size`` is the frame after rotation (it
    grows with ``expand=True``; the centres stay matched)."""
    width, height = size
    new_width, new_height = new_size or size
    cx, cy = width / 2.0, height / 2.0
    ncx, ncy = new_width / 2.0, new_height / 2.0
    theta = math.radians(angle_deg)
    cos, sin = math.cos(theta), math.sin(theta)
    xs, ys = [], []
    for px, py in ((zone.x, zone.y), (zone.x + zone.w, zone.y),
                   (zone.x, zone.y + zone.h), (zone.x + zone.w, zone.y + zone.h)):
        dx, dy = px - cx, py - cy
        xs.append(ncx + dx * cos + dy * sin)
        ys.append(ncy - dx * sin + dy * cos)
    x0, y0 = math.floor(min(xs)), math.floor(min(ys))
    x1, y1 = math.ceil(max(xs)), math.ceil(max(ys))
    return replace(zone, x=x0, y=y0, w=x1 - x0, h=y1 - y0)


def scale_zone(zone: Zone, factor: float) -> Zone:
    x0, y0 = math.floor(zone.x * factor), math.floor(zone.y * factor)
    x1, y1 = math.ceil((zone.x + zone.w) * factor), math.ceil((zone.y + zone.h) * factor)
    return replace(zone, x=x0, y=y0, w=x1 - x0, h=y1 - y0)


def clip_zones(zones: tuple[Zone, ...], width: int, height: int) -> tuple[Zone, ...]:
    """Zones cut to the image; those left empty are dropped."""
    clipped = []
    for zone in zones:
        x0, y0 = max(0, zone.x), max(0, zone.y)
        x1, y1 = min(width, zone.x + zone.w), min(height, zone.y + zone.h)
        if x1 > x0 and y1 > y0:
            clipped.append(replace(zone, x=x0, y=y0, w=x1 - x0, h=y1 - y0))
    return tuple(clipped)


def format_zones(zones: tuple[Zone, ...]) -> str:
    """UNLV ``.uzn`` text for tesseract."""
    return "".join(f"{z.x} {z.y} {z.w} {z.h} {z.label.split()[0] if z.label.strip() else 'Text'}\n" for z in zones)
