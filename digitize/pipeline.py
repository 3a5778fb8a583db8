"""Reading a page: the recipe.

:func:`read_page` lists the stages in order, OCRmyPDF-style; each stage is a
small function ``stage(value, context) -> value`` that can be tried alone.
The page goes

    load (EXIF orientation applied) → grayscale → orientation (tesseract OSD,
    only when asked) → deskew → [the normalised image is saved here] →
    rescale (low-resolution scans are enlarged) → enhance (binarise and clean
    borders, when asked) → layout (zones, or the inked part of a page with
    wide margins; a blank page stops here) → tesseract (in process, one
    reading, TSV) → parse (words, lines, blocks) → recheck (only a poor
    reading: upside down? mirrored? a picture?) → postcorrect → assemble
    (hOCR and ALTO written from the words)

Every stage is timed in ``PageReading.timings_s`` under its name; the
optional ones (:data:`OPTIONAL_STAGES`) can be switched off one by one with
``OcrOptions.stages_off`` to measure what each is worth.

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
from PIL import Image

from digitize import han_page, preprocess, tesseract, triage
from digitize.errors import ImageTooLarge, ZonesInvalid
from digitize.images import DEFAULT_MAX_PIXELS, load_page_image, save_png, upright
from digitize.reading import (
    LOW_CONFIDENCE,
    PageReading,
    ParsedText,
    TsvWord,
    alto_document,
    build_text,
    hocr_document,
    map_tsv_boxes,
    rescale_tsv,
    scale_box,
    tsv_without,
    tsv_words,
)
from digitize.tesseract import Region

OSD_MIN_CONFIDENCE = 5.0  # below this, OSD's opinion is not acted on
OSD_MAX_SIDE_PX = 3500  # pages are shrunk to this for OSD
# enlarged pages stay below this: tesseract needs about 9 bytes per pixel
MAX_OCR_PIXELS = 40_000_000
ZONE_PSM = 6  # each zone of a zone file read as one uniform block of text
PNG_COMPRESS_LEVEL = 0  # a work file: stored, not deflated (level 1: 3× the CPU to write, 10× to read, 27 % fewer bytes)
MOSTLY_MARGIN_SHARE = 0.1  # text covering less of the page than this is worth a warning

# stages that OcrOptions.stages_off may switch off (for ablation in benchmarks)
POSTCORRECT_LANGUAGE = "vie"  # the language digitize.postcorrect knows
OPTIONAL_STAGES = ("rescale", "illumination", "denoise", "show-through", "binarise", "borders", "dewarp", "layout",
                   "model", "postcorrect")
# A low-resolution page is enlarged for tesseract; from this factor on the
# enlargement is sure to help (text under ~12 px high). Between 1.1 and it,
# the hard development pages went both ways (a 150-dpi book page lost, a phone
# photo gained), so the page is read at both sizes and the reading with more
# confidently read characters is kept: a second reading, spent only there.
SURE_UPSCALE = 2.5

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
    tesseract run. ``binarize``: True or False forces Sauvola binarisation on
    or off; None leaves it to the page (today: off). ``stages_off`` names
    optional stages (:data:`OPTIONAL_STAGES`) not to run, whatever the other
    options say.
    """

    languages: str = "vie"
    psm: int = 3
    detect_orientation: bool = False
    deskew: bool = True
    binarize: bool | None = None
    clean_borders: bool = False
    target_dpi: int = 300
    zones: tuple[Zone, ...] = ()
    timeout_s: float = 600.0
    stages_off: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not 1 <= int(self.psm) <= 13:
            raise ValueError(f"psm must be 1-13 (0 only detects orientation), not {self.psm}")
        if not 72 <= int(self.target_dpi) <= 1200:
            raise ValueError(f"target_dpi must be 72-1200, not {self.target_dpi}")
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {self.timeout_s}")
        if not isinstance(self.zones, tuple):
            object.__setattr__(self, "zones", tuple(self.zones))
        off = self.stages_off
        off = frozenset([off] if isinstance(off, str) else off)
        unknown = sorted(off - set(OPTIONAL_STAGES))
        if unknown:
            raise ValueError(f"unknown stages {unknown} in stages_off; optional stages: {', '.join(OPTIONAL_STAGES)}")
        object.__setattr__(self, "stages_off", off)

    @property
    def effective_psm(self) -> int:
        """The psm tesseract is run with: zones need a non-automatic one."""
        if self.zones and self.psm in tesseract.AUTOMATIC_PSMS:
            return ZONE_PSM
        return self.psm

    def runs(self, stage: str) -> bool:
        """Whether an optional stage may run (it is not in ``stages_off``)."""
        return stage not in self.stages_off


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
    cpu_s: dict[str, float] = field(default_factory=dict)
    # learnt along the way
    dpi: float | None = None  # of the normalised image, when believable
    rotation_deg: int = 0  # clockwise quarter turns applied (EXIF, OSD)
    mirrored: bool = False  # the page was flipped left to right (a mirrored scan)
    skew_deg: float = 0.0  # skew removed, counter-clockwise positive
    residual_skew_deg: float = 0.0  # skew measured but too small to remove
    text_height_px: float | None = None  # in the normalised image
    scale: float = 1.0  # OCR image / normalised image
    zones: tuple[Zone, ...] = ()  # in the frame of the current image
    normalised_image: Image.Image | None = None
    normalised_path: Path | None = None
    ocr_image: Image.Image | None = None  # what tesseract reads (after enhance)
    look: triage.PageLook | None = None  # the inked part of the OCR image; blank or not
    regions: tuple[Region, ...] = ()  # what tesseract reads, OCR-image pixels; () = the whole page
    unscaled: tuple[Image.Image, tuple[Zone, ...]] | None = None  # the page before a doubtful enlargement
    doubtful_scale: bool = False  # the page is read at two sizes (see compare_scales)
    unenhanced: tuple | None = None  # (page, plan without show-through, text height, scale, zones) to read too
    to_source: object | None = None  # (3, 3) homography from the OCR image back to the rescaled page (dewarp)
    enhancements: tuple[str, ...] = ()  # what the enhance stage did to the page, and why
    model: str = tesseract.FAST  # which networks read the page (see better_model)
    want_choices: bool = False  # ask tesseract for each word's symbol alternatives (~10-20 % more CPU)
    # per word row of the TSV as tesseract gave it: choices[row.index] for each of ``rows``
    choices: tuple[tesseract.WordChoices | None, ...] | None = None
    tsv: str = ""  # tesseract's TSV of the reading kept, OCR-image pixels
    rows: list[TsvWord] = field(default_factory=list)  # its word rows, one per parsed word
    raw_text: str | None = None  # the text before post-correction, when it changed anything
    warnings: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"page-{self.page_index:05d}"

    def path(self, suffix: str) -> Path:
        return self.work_dir / f"{self.prefix}-{suffix}"

    def warn(self, reason: str) -> None:
        if reason not in self.warnings:
            self.warnings.append(reason)

    def run(self, name: str, stage: Callable[[T, "PageContext"], U], value: T) -> U:
        """Run one stage, announcing it to ``progress`` and timing it."""
        if self.progress is not None:
            self.progress(name)
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return stage(value, self)
        finally:
            self.timings_s[name] = self.timings_s.get(name, 0.0) + time.perf_counter() - start
            self.cpu_s[name] = self.cpu_s.get(name, 0.0) + time.process_time() - start_cpu


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

    A page that cannot be read well (blank, a picture, upside down...) still
    gives a reading, with ``warnings`` saying why and an honest confidence.
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
    started, started_cpu = time.perf_counter(), time.process_time()
    if han_page.is_han_only(options.languages):  # Hán script: the second engine (digitize.han_page)
        reading = han_page.read_page_han(source, context)
        context.timings_s["total"] = time.perf_counter() - started
        context.cpu_s["total"] = time.process_time() - started_cpu
        return reading
    if han_page.asks_for_han(options.languages):  # Hán and quốc ngữ: tesseract reads the page, then the Hán engine
        han_page.check_engine()
        others = "+".join(n for n in tesseract.split_languages(options.languages) if n != han_page.LANGUAGE)
        reading = read_page(source, options=replace(options, languages=others), work_dir=work_dir,
                            page_index=page_index, pdf_dpi=pdf_dpi, max_pixels=max_pixels, progress=progress)
        return han_page.add_han(reading, options.languages, progress=progress)
    context.run("check_engine", check_engine, options)
    image = context.run("load", load, source)
    image = context.run("grayscale", grayscale, image)
    image = context.run("orientation", orient, image)
    image = context.run("deskew", deskew, image)
    image = context.run("save_normalised", save_normalised, image)
    image = context.run("rescale", rescale, image)
    image = context.run("enhance", enhance, image)
    image = context.run("layout", layout, image)
    output = context.run("tesseract", recognise, image)
    parsed = context.run("parse", parse, output)
    parsed = context.run("compare_scales", compare_scales, parsed)
    parsed = context.run("compare_enhanced", compare_enhanced, parsed)
    parsed = context.run("better_model", better_model, parsed)
    parsed = context.run("recheck", recheck, parsed)
    parsed = context.run("postcorrect", postcorrect, parsed)
    reading = context.run("assemble", assemble, parsed)
    context.timings_s["total"] = time.perf_counter() - started
    context.cpu_s["total"] = time.process_time() - started_cpu
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
    found = osd(image, context)
    if found.rotate_deg == 0 or found.confidence < OSD_MIN_CONFIDENCE:
        return image
    width, height = image.size
    context.zones = tuple(rotate_zone_quarters(z, found.rotate_deg, width, height) for z in context.zones)
    context.rotation_deg = (context.rotation_deg + found.rotate_deg) % 360
    return image.transpose(_CLOCKWISE_TRANSPOSE[found.rotate_deg])


def osd(image: Image.Image, context: PageContext) -> tesseract.Orientation:
    """Tesseract's OSD on a copy no bigger than ``OSD_MAX_SIDE_PX``."""
    shrink = max(1, math.ceil(max(image.size) / OSD_MAX_SIDE_PX))
    probe = image.convert("L").reduce(shrink) if shrink > 1 else image
    return tesseract.detect_orientation(probe, timeout_s=context.options.timeout_s)


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
        context.residual_skew_deg = skew
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
    if factor <= 1.0 or not context.options.runs("rescale"):
        return image
    enlarged = preprocess.rescale_page(image, factor)
    if factor < SURE_UPSCALE:
        context.unscaled = (image, context.zones)  # read it too: see compare_scales
        context.doubtful_scale = True
    context.scale = enlarged.width / image.width
    context.zones = tuple(scale_zone(z, context.scale) for z in context.zones)
    return enlarged


def enhance(image: Image.Image, context: PageContext) -> Image.Image:
    """Improve the image tesseract will read (never the normalised one), as
    the page itself asks (:mod:`digitize.enhance`): flatten uneven light,
    whiten dark borders and show-through, rectify a photographed page,
    remove noise; binarise only when ``binarize`` is True. A clean page
    gets an empty plan and costs only its measurement (tens of ms). The
    plan's reasons go to ``enhancements``. ``clean_borders`` still whitens
    a scanner's dark frame when asked."""
    from digitize import enhance as enhancement

    options = context.options
    if image.mode != "1":
        cv2_single_thread()
        text_height = context.text_height_px * context.scale if context.text_height_px else None
        condition = enhancement.measure_page(image, text_height_px=text_height)
        # a page read at two sizes keeps its flattening and the readings that confirm it: on dev 150-dpi
        # pages sparing it there moved pages to the enlargement and cost 0.1-0.8 points of CER
        plan = enhancement.plan_enhancement(condition, stages_off=options.stages_off, binarize=options.binarize,
                                            spare_flattening=not context.doubtful_scale)
        if plan.flatten_illumination or plan.suppress_show_through or plan.remove_borders or plan.dewarp:
            # stages that change the whole page are confirmed by a second reading without them
            # with the size it is at: a page read at two sizes leaves here the one read last (its own size),
            # and compare_enhanced must place that reading's words by that size, not the one kept
            context.unenhanced = (image, replace(plan, flatten_illumination=False, suppress_show_through=False,
                                                 remove_borders=False, dewarp=False), text_height,
                                  context.scale, context.zones)
        if not plan.empty:
            enhanced = enhancement.enhance_page(image, plan, text_height_px=text_height)
            image, context.to_source = enhanced.image, enhanced.to_source
        context.enhancements = tuple(plan.reasons)  # a stage the page was spared says why too
    if options.clean_borders and options.runs("borders"):
        image = clean_borders(image, context)
    return image


def cv2_single_thread() -> None:
    """OpenCV's own threads off: a worker reads one page per process, like
    tesseract (``OMP_THREAD_LIMIT=1``)."""
    import cv2

    if cv2.getNumThreads() != 1:
        cv2.setNumThreads(1)


def clean_borders(image: Image.Image, context: PageContext) -> Image.Image:
    """Whiten the dark frame a scanner leaves around a page."""
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


def layout(image: Image.Image, context: PageContext) -> Image.Image:
    """Decide what tesseract reads: the zones when given; otherwise the whole
    page, or only its inked part when wide margins surround a small text
    (``layout`` stage; boxes still come in whole-page pixels). A page without
    ink is marked blank and not read at all."""
    context.ocr_image = image
    look = context.look = triage.look_at(image)
    options = context.options
    if look.blank:
        context.warn("blank page")
        context.regions = ()
    elif context.zones:
        context.regions = tuple(
            Region(z.x, z.y, z.w, z.h, options.effective_psm, z.label.strip().lower() or "text")
            for z in clip_zones(context.zones, image.width, image.height)
        )
    elif options.runs("layout") and (found := analyse_columns(image, context)) is not None:
        context.regions = found
    elif options.runs("layout") and look.margin_box is not None:
        x, y, w, h = look.margin_box
        context.regions = (Region(x, y, w, h, options.effective_psm),)
        if look.inked_share < MOSTLY_MARGIN_SHARE:
            context.warn(f"mostly margin: the text covers {look.inked_share:.0%} of the page")
    else:
        context.regions = ()
    return image


def analyse_columns(image: Image.Image, context: PageContext) -> tuple[Region, ...] | None:
    """The regions of a newspaper or magazine page in reading order
    (:mod:`digitize.layout`), or None when the page is better left to
    tesseract's own layout (one column, or a layout too fragmented to trust)."""
    from digitize.layout import TEXT, analyse_layout, group_articles

    text_height = context.text_height_px * context.scale if context.text_height_px else None
    dpi = context.dpi * context.scale if context.dpi else None
    residual_skew = 0.0 if context.skew_deg else context.residual_skew_deg
    found = analyse_layout(layout_image(image, context), text_height_px=text_height, dpi=dpi, skew_deg=residual_skew)
    if not found.multi_column:
        return None
    found = group_articles(found)
    # body text hands its line boxes on (lines a block reading leaves out are read alone); in big
    # type (mastheads, headlines) the accents split off a line would be read as lines of their own
    regions = tuple(Region(r.x, r.y, r.w, r.h, r.psm, r.kind, r.article, r.lines if r.kind == TEXT else ())
                    for r in found.reading_regions())
    return regions or None


def layout_image(image: Image.Image, context: PageContext) -> Image.Image:
    """The page to find the layout on: as it was before flattening and
    whitening when those moved no pixel (the page is read again without them
    anyway, see :func:`compare_enhanced`): a half-tone flattened into a
    pale mottle is no longer a picture, its pieces were taken for text and
    headlines and the column beside it ran into it. Both readings then
    share one layout and differ only in the pixels read."""
    if context.unenhanced is None or context.to_source is not None:
        return image
    before = context.unenhanced[0]
    return before if before.size == image.size else image


def recognise(image: Image.Image, context: PageContext) -> tesseract.OcrOutput:
    """One tesseract reading in process, TSV only (the assemble stage writes
    hOCR and ALTO from it; word alternatives as :func:`_choices` says)."""
    if context.look is not None and context.look.blank:
        return tesseract.OcrOutput(tsv=tesseract.merge_tsv([], image.width, image.height))
    options = context.options
    return tesseract.recognise(
        image,
        languages=options.languages,
        psm=options.effective_psm,
        timeout_s=options.timeout_s,
        dpi=_ocr_dpi(context),
        regions=context.regions,
        choices=_choices(context),
        model=context.model,
    )


def _choices(context: PageContext) -> bool | tesseract.WordFilter:
    """Which words' alternatives a reading asks tesseract for: every word's when ``want_choices``; for
    post-correction only the words it needs them for (:func:`digitize.postcorrect.needs_alternatives`)."""
    if context.want_choices:
        return True
    if wants_postcorrection(context.options):
        from digitize.postcorrect import needs_alternatives

        return needs_alternatives
    return False


def parse(output: tesseract.OcrOutput, context: PageContext) -> ParsedText:
    """The words, lines and blocks of tesseract's TSV, in the normalised frame
    (boxes of a rectified page mapped back onto the page as it was)."""
    context.tsv = output.tsv
    if context.to_source is not None:
        from digitize.enhance import source_box

        context.tsv = map_tsv_boxes(output.tsv, lambda box: source_box(box, context.to_source))
    context.choices = output.choices
    context.rows = tsv_words(output.tsv)
    return rebuild(context.rows, context)


def rebuild(rows: list[TsvWord], context: PageContext) -> ParsedText:
    """Page text, words, lines and blocks from word rows (OCR-image pixels),
    boxes moved into the normalised frame; ``context.rows`` becomes ``rows``."""
    normalised = context.normalised_image
    assert normalised is not None
    context.rows = list(rows)
    return build_text(context.rows, scale=context.scale, frame_w=normalised.width, frame_h=normalised.height)


_READING_STATE = ("scale", "zones", "ocr_image", "look", "regions", "tsv", "choices", "rows", "to_source",
                  "enhancements", "model")


def compare_scales(parsed: ParsedText, context: PageContext) -> ParsedText:
    """When the rescale stage was unsure that enlarging helps (see
    :data:`SURE_UPSCALE`), read the page at its own size too and keep the
    reading with more confidently read characters."""
    if context.unscaled is None or (context.look is not None and context.look.blank):
        return parsed
    image, zones = context.unscaled
    context.unscaled = None

    def read_unscaled() -> ParsedText:
        context.scale, context.zones = 1.0, zones
        return parse(recognise(layout(enhance(image, context), context), context), context)

    return second_reading(parsed, context, read_unscaled,
                          lambda first, second: confident_characters(second) > confident_characters(first))


def compare_enhanced(parsed: ParsedText, context: PageContext) -> ParsedText:
    """Flattening the light, whitening borders and show-through and
    rectifying a photographed page change the whole page (show-through is all
    or nothing: everything lighter than the ink goes; a border found where
    text runs to the edge takes letters with it): when the enhance stage did
    any of them, read the page without them too and
    keep the enhanced reading only when it has clearly more surely read
    characters (:data:`ENHANCEMENT_GAIN`; a shadowed page read
    as it is loses the shaded lines; a photograph flattened into a pale
    mottle cuts the lines beside it; faint print taken for show-through is
    lost)."""
    if context.unenhanced is None or (context.look is not None and context.look.blank):
        return parsed
    from digitize import enhance as enhancement

    image, plan, text_height, scale, zones = context.unenhanced
    context.unenhanced = None
    enhanced_reasons = context.enhancements

    def read_plainer() -> ParsedText:
        context.scale, context.zones = scale, zones  # the size this image is at (see enhance)
        enhanced = enhancement.enhance_page(image, plan, text_height_px=text_height)
        context.to_source = enhanced.to_source
        page = enhanced.image
        if context.options.clean_borders and context.options.runs("borders"):
            page = clean_borders(page, context)
        context.enhancements = enhanced_reasons + (
            "read again without flattening, whitening or rectifying: that reading was surer and is kept",)
        return parse(recognise(layout(page, context), context), context)

    return second_reading(
        parsed, context, read_plainer,
        lambda first, second: surely_read_characters(first) < ENHANCEMENT_GAIN * surely_read_characters(second))


def second_reading(parsed: ParsedText, context: PageContext, read: Callable[[], ParsedText],
                   better: Callable[[list[TsvWord], list[TsvWord]], bool]) -> ParsedText:
    """Read the page another way (``read`` changes the context as it needs);
    keep that reading when ``better(first_rows, second_rows)``, else put the
    context back as the first reading left it."""
    first = {name: getattr(context, name) for name in _READING_STATE}
    candidate = read()
    if better(first["rows"], context.rows):
        return candidate
    for name, value in first.items():
        setattr(context, name, value)
    return parsed


SURELY_READ = 60.0  # tesseract confidence from which a word counts as surely read
# flattening or whitening is kept only when its reading has this much more surely read text:
# where both read alike, the page as it was is the safer reading (no lines cut by a flattened picture)
ENHANCEMENT_GAIN = 1.05


# a page whose reading has at least this share of its characters in words read below SURELY_READ is
# read again with the larger models (chosen on the hard set's dev pages; see better_model)
MODEL_DOUBT = 0.02


def doubtful_share(rows: list[TsvWord]) -> float:
    """The share of the reading's characters in words tesseract read below :data:`SURELY_READ`."""
    total = sum(len(row.text) for row in rows)
    if not total:
        return 0.0
    return sum(len(row.text) for row in rows if row.conf < SURELY_READ) / total


def better_model(parsed: ParsedText, context: PageContext) -> ParsedText:
    """Read a doubtful page again with the larger models and keep that reading.

    The system's models (Debian's ``tessdata_fast``) read clean pages as well as the larger ones
    (``tesseract.BEST_MODELS_DIR``) for ~20 % less CPU; on hard pages the larger ones lose fewer
    characters (see the README). A page whose kept reading has :data:`MODEL_DOUBT` of its characters or
    more in doubtful words is read again, the same image and regions, with the larger models, when
    they exist for its languages."""
    if not context.options.runs("model") or (context.look is not None and context.look.blank):
        return parsed
    if context.model != tesseract.FAST or tesseract.best_models(context.options.languages) is None:
        return parsed
    if not context.rows or doubtful_share(context.rows) < MODEL_DOUBT:
        return parsed
    context.model = tesseract.BEST
    return parse(recognise(context.ocr_image, context), context)


def surely_read_characters(rows: list[TsvWord]) -> float:
    """Characters of the words tesseract read surely (confidence at least
    :data:`SURELY_READ`), weighted by that confidence: specks and noise read
    as letters add nothing, text lost to a shadow is missing."""
    return sum(len(row.text) * row.conf / 100.0 for row in rows if row.conf >= SURELY_READ)


def confident_characters(rows: list[TsvWord]) -> float:
    """Characters read, each weighted by its word's confidence (0-1): more
    text read more surely scores higher, whatever the number of words."""
    return sum(len(row.text) * max(row.conf, 0.0) / 100.0 for row in rows)


def recheck(parsed: ParsedText, context: PageContext) -> ParsedText:
    """A second look, spent on poor readings only: turn a page that OSD finds
    upside down or sideways, flip one that reads far better mirrored. Then,
    on every page, drop the "words" tesseract makes of pictures, noise and
    specks, and say in ``warnings`` why a reading may be poor. Zoned pages
    are not turned or flipped (their zones say how the page lies)."""
    if context.look is not None and context.look.blank:
        return parsed
    if triage.is_poor(context.rows) and not context.zones:
        if not context.options.detect_orientation:
            context.run("osd_check", turn_if_upside_down, context.rows)
        if triage.is_poor(context.rows):
            context.run("mirror_check", flip_if_mirrored, context.rows)
    text_page = triage.holds_text(context.rows)
    dropped = triage.garbage_rows(context.rows)
    if dropped:
        context.tsv = tsv_without(context.tsv, dropped)
        parsed = rebuild([r for r in context.rows if r.index not in dropped], context)
    else:
        parsed = rebuild(context.rows, context)
    if not parsed.words:
        picture = context.text_height_px is None or context.look.dark_share >= triage.PICTURE_DARK_SHARE
        context.warn("no text found: picture" if picture else "no text found")
    elif not text_page:
        context.warn(f"little text found: {len(dropped)} unreadable marks left out")
    mean = parsed.mean_confidence
    if mean is not None and mean < triage.POOR_CONFIDENCE:
        context.warn(f"low confidence (mean {mean:.0f} of 100): check the text against the page")
    if (not parsed.words or (mean is not None and mean < triage.POOR_CONFIDENCE)) and not context.zones \
            and not han_page.asks_for_han(context.options.languages):  # a page of Hán in an item not declared so?
        parsed = context.run("script_check", han_page.check_script, parsed)
    return parsed


def turn_if_upside_down(rows: list[TsvWord], context: PageContext) -> list[TsvWord]:
    """Ask OSD which way up the page is; when it is sure the page lies upside
    down or sideways, read it turned and keep that reading if it is clearly
    better than ``rows``. Returns the word rows kept."""
    found = osd(context.normalised_image, context)
    if found.rotate_deg == 0 or found.confidence < OSD_MIN_CONFIDENCE:
        return rows
    turn = _CLOCKWISE_TRANSPOSE[found.rotate_deg]
    if reread_transformed(context, turn):
        context.rotation_deg = (context.rotation_deg + found.rotate_deg) % 360
        context.warn("upside down: turned" if found.rotate_deg == 180 else f"sideways: turned {found.rotate_deg}°")
    return context.rows


def flip_if_mirrored(rows: list[TsvWord], context: PageContext) -> list[TsvWord]:
    """Read a few lines of the page flipped left to right; when they read
    clearly better than they did in ``rows``, read the whole page flipped (a
    scan of the back of a transparency, a microfilm mounted the wrong way).
    Returns the word rows kept."""
    (x, y, w, h), sample = triage.sample_of(rows)
    lines = context.ocr_image.crop((x, y, x + w, y + h)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    options = context.options
    output = tesseract.recognise(lines, languages=options.languages, psm=options.effective_psm,
                                 timeout_s=options.timeout_s, dpi=_ocr_dpi(context))
    if not triage.clearly_better(tsv_words(output.tsv), sample):
        return rows
    if reread_transformed(context, Image.Transpose.FLIP_LEFT_RIGHT):
        context.mirrored = not context.mirrored
        context.skew_deg = -context.skew_deg  # the skew of the flipped source
        context.warn("mirrored: flipped")
    return context.rows


def reread_transformed(context: PageContext, method: Image.Transpose) -> bool:
    """Read the page turned or flipped by ``method``; when that reading is
    clearly better, keep it and the transformed images (the normalised one
    is written again). Returns whether it was kept."""
    image = context.ocr_image.transpose(method)
    look = triage.look_at(image)
    regions = ()
    if look.margin_box is not None and context.options.runs("layout"):
        regions = (Region(*look.margin_box, context.options.effective_psm),)
    options = context.options
    output = tesseract.recognise(image, languages=options.languages, psm=options.effective_psm,
                                 timeout_s=options.timeout_s, dpi=_ocr_dpi(context), regions=regions,
                                 choices=_choices(context))
    rows = tsv_words(output.tsv)
    if not triage.clearly_better(rows, context.rows):
        return False
    context.ocr_image, context.look, context.regions = image, look, regions
    context.to_source = None  # a rectified page turned or flipped: its boxes stay in the rectified frame
    context.tsv, context.choices, context.rows = output.tsv, output.choices, rows
    context.normalised_image = context.normalised_image.transpose(method)
    save_normalised(context.normalised_image, context)
    return True


def _ocr_dpi(context: PageContext) -> int | None:
    return round(context.dpi * context.scale) if context.dpi else None


def wants_postcorrection(options: OcrOptions) -> bool:
    """Vietnamese pages are post-corrected (the syllable rules and lexicon are
    Vietnamese); others are left as read."""
    return options.runs("postcorrect") and POSTCORRECT_LANGUAGE in tesseract.split_languages(options.languages)


def postcorrect(parsed: ParsedText, context: PageContext) -> ParsedText:
    """Repair words that cannot be Vietnamese syllables and tone/vowel-mark
    confusions, from tesseract's own alternatives for each symbol (asked for
    in the tesseract stage) and a syllable lexicon
    (:mod:`digitize.postcorrect`). Boxes and confidences stay as read; the
    text before correction is kept in ``context.raw_text`` when anything
    changed."""
    if not wants_postcorrection(context.options) or not context.rows:
        return parsed
    from digitize import postcorrect as corrector

    choices = context.choices or ()
    words = [
        corrector.WordReading(row.text, row.conf,
                              choices[row.index] if 0 <= row.index < len(choices) else None)
        for row in context.rows
    ]
    corrected = corrector.correct_words(words)
    if not any(c.changed for c in corrected):
        return parsed
    context.raw_text = parsed.text
    rows = [replace(row, text=c.text) if c.changed else row for row, c in zip(context.rows, corrected)]
    return rebuild(rows, context)


def assemble(parsed: ParsedText, context: PageContext) -> PageReading:
    """The page reading, in the normalised frame, with hOCR and ALTO written
    from the same words."""
    normalised = context.normalised_image
    assert normalised is not None and context.normalised_path is not None
    width, height = normalised.size
    scale = context.scale
    engine = f"tesseract {tesseract.tesseract_version()}" + tesseract.model_label(context.model)
    regions = []
    for region in context.regions:
        if context.to_source is not None:
            from digitize.enhance import source_box

            x0, y0, x1, y1 = source_box((region.x, region.y, region.x + region.w, region.y + region.h),
                                        context.to_source)
            region = replace(region, x=x0, y=y0, w=x1 - x0, h=y1 - y0)
        x, y, w, h = scale_box(region.x, region.y, region.w, region.h, scale=scale, frame_w=width, frame_h=height)
        regions.append(replace(region, x=x, y=y, w=w, h=h, lines=()))  # line boxes serve the reading only
    return page_reading(
        parsed, context, engine="tesseract", label=engine, tsv=rescale_tsv(context.tsv, scale=scale, frame_w=width, frame_h=height),
        regions=tuple(regions), skew_deg=context.skew_deg, scale=scale, upscaled=scale > 1.0,
        mirrored=context.mirrored, enhancements=context.enhancements, raw_text=context.raw_text,
        tesseract_version=tesseract.tesseract_version(), model=context.model,
    )


def page_reading(parsed: ParsedText, context: PageContext, *, engine: str, label: str, tsv: str,
                 regions: tuple = (), **fields) -> PageReading:
    """The page reading of whichever engine read it (``engine``: ``PageReading.engine``; ``label``: the
    engine and version hOCR and ALTO name), with hOCR and ALTO written from the same words, in the frame of
    the normalised image; ``fields`` are the engine's own (skew, scale, model…)."""
    normalised = context.normalised_image
    assert normalised is not None and context.normalised_path is not None
    width, height = normalised.size
    options = context.options
    name = context.normalised_path.name
    return PageReading(
        text=parsed.text,
        words=parsed.words,
        lines=parsed.lines,
        blocks=parsed.blocks,
        mean_confidence=parsed.mean_confidence,
        hocr=hocr_document(parsed, width=width, height=height, image_name=name,
                           languages=options.languages, engine=label, dpi=context.dpi),
        alto=alto_document(parsed, width=width, height=height, image_name=name,
                           languages=options.languages, engine=label, page_number=context.page_index + 1,
                           regions=list(regions)),
        tsv=tsv,
        width=width,
        height=height,
        normalised_image_path=context.normalised_path,
        rotation_deg=context.rotation_deg,
        timings_s=context.timings_s,
        cpu_s=context.cpu_s,
        dpi=context.dpi,
        languages=options.languages,
        psm=options.effective_psm,
        warnings=tuple(context.warnings),
        regions=tuple(regions),
        low_confidence_words=sum(1 for w in parsed.words if w.confidence < LOW_CONFIDENCE),
        engine=engine,
        **fields,
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
