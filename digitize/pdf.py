"""Searchable PDF: each page image with an invisible text layer on its words.

What a reader gets is the scan as it is, and under it the words the machine
read (or a librarian corrected), each placed over its own box on the image,
so a PDF reader selects, copies and finds them where they are printed.

The recipe::

    report = write_searchable_pdf(pages, out_path, metadata=PdfMetadata(title="Văn Miếu", language="vi"))

Each :class:`PageSource` of ``pages`` (any iterable, consumed in order) is
read, encoded and written to the file before the next one is touched: the
image (JPEG for gray and colour, lossless 1-bit for a bilevel scan) fills the
page at its resolution, and the words go on top in text render mode 3
(invisible), each stretched (``Tz``) over its box, a space stretched over each
gap between words, the font as tall as the word's line. Only the byte offsets
of the objects stay in memory, so a 1,000-page book costs the memory of one
page. This is how tesseract's own PDF renderer works; pikepdf/qpdf, reportlab
and fpdf2 all hold every page's image in memory until the document is saved
(qpdf even when joining one-page files: it copies foreign stream data at once).

The text is written as tesseract and OCRmyPDF write it: a glyphless TrueType
font (built here with fontTools: one empty glyph, half an em wide) as a CID
font whose ``Identity-H`` codes are the text's UTF-16 code units, with an
identity ``ToUnicode`` map. Every script reads back exactly (Vietnamese,
French, Classical Chinese), nothing is drawn, and no system font is needed.

Units: image boxes in pixels of the page image (top-left origin, y down);
PDF lengths in points (1/72 inch, bottom-left origin, y up); resolutions in
dots per inch.
"""

from __future__ import annotations

import functools
import hashlib
import io
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from PIL import Image

from digitize.errors import DigitizeError, ImageUnreadable

__all__ = [
    "DEFAULT_DPI",
    "PageSource",
    "PdfMetadata",
    "PdfOptions",
    "PdfReport",
    "PdfWriteFailed",
    "glyphless_font",
    "text_layer",
    "write_searchable_pdf",
]

POINTS_PER_INCH = 72.0
DEFAULT_DPI = 300.0  # assumed when the image says nothing believable about its resolution
PLAUSIBLE_DPI = (50.0, 2400.0)
FONT_NAME = "GlyphLessFont"
CHAR_WIDTH_EM = 0.5  # every code of the glyphless font advances half an em
PDF_VERSION = "1.7"


class PdfWriteFailed(DigitizeError):
    """The PDF could not be written (no pages, a full disk)."""


class PlacedWord(Protocol):
    """What the text layer needs of a word (:class:`digitize.reading.Word` has it)."""

    text: str
    x: int
    y: int
    w: int
    h: int
    block: int
    paragraph: int
    line: int


@dataclass(frozen=True)
class PageSource:
    """One page: its image file and its words in reading order, boxes in the
    image's pixels. ``dpi`` overrides the resolution the image file declares;
    ``label`` is the page's printed number (``iv``, ``12a``) for the reader's
    page box."""

    image_path: Path
    words: Sequence[PlacedWord] = ()
    dpi: float | None = None
    label: str | None = None


@dataclass(frozen=True)
class PdfOptions:
    """How page images go into the PDF.

    ``jpeg_quality`` (1-95) for gray and colour pages; a bilevel page stays
    bilevel and lossless (1 bit, deflated). ``lossless`` keeps every page's
    pixels exactly (deflated), at several times the size of JPEG.
    ``default_dpi`` is used for images that declare no believable resolution.
    """

    jpeg_quality: int = 85
    lossless: bool = False
    default_dpi: float = DEFAULT_DPI

    def __post_init__(self):
        if not 1 <= self.jpeg_quality <= 95:
            raise ValueError(f"jpeg_quality must be 1-95, not {self.jpeg_quality}")
        if not PLAUSIBLE_DPI[0] <= self.default_dpi <= PLAUSIBLE_DPI[1]:
            raise ValueError(f"default_dpi must be within {PLAUSIBLE_DPI}, not {self.default_dpi}")


@dataclass(frozen=True)
class PdfMetadata:
    """The document information: title, author, subject, keywords; ``language``
    a BCP 47 tag (``vi``) that readers and screen readers use for the text."""

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None
    language: str | None = None
    creator: str = "Hanoi heritage digitization platform"


@dataclass
class PdfReport:
    pages: int = 0
    words: int = 0
    size_bytes: int = 0
    page_sizes_pt: list[tuple[float, float]] = field(default_factory=list)
    image_bytes: int = 0


# ------------------------------------------------------------------ the recipe
def write_searchable_pdf(
    pages: Iterable[PageSource],
    out_path: Path,
    *,
    options: PdfOptions = PdfOptions(),
    metadata: PdfMetadata = PdfMetadata(),
    progress: Callable[[int], None] | None = None,
) -> PdfReport:
    """Write ``pages`` as one searchable PDF at ``out_path``, one page at a time.

    ``progress`` is called with the number of pages written so far. On any
    failure the partial file is removed and the error raised
    (:class:`~digitize.errors.ImageUnreadable` for a page image that cannot
    be read, :class:`PdfWriteFailed` otherwise).
    """
    out_path = Path(out_path)
    report = PdfReport()
    try:
        with open(out_path, "wb") as fh:
            pdf = _PdfFile(fh)
            pages_root = pdf.reserve()
            font = _write_font(pdf)
            kids: list[int] = []
            labels: list[str | None] = []
            for n, page in enumerate(pages, start=1):
                kids.append(_write_page(pdf, page, pages_root, font, options, report))
                labels.append(page.label)
                if progress:
                    progress(n)
            if not kids:
                raise PdfWriteFailed("no pages to write: a PDF needs at least one page")
            pdf.write_object(pages_root, "<< /Type /Pages /Count %d /Kids [%s] >>" % (
                len(kids), " ".join(f"{k} 0 R" for k in kids)))
            catalog = pdf.write_object(pdf.reserve(), _catalog(pages_root, labels, metadata))
            info = pdf.write_object(pdf.reserve(), _info(metadata))
            pdf.finish(root=catalog, info=info)
    except OSError as exc:
        out_path.unlink(missing_ok=True)
        raise PdfWriteFailed(f"{out_path.name}: the PDF could not be written ({exc})") from exc
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    report.size_bytes = out_path.stat().st_size
    return report


def _write_page(pdf: "_PdfFile", page: PageSource, parent: int, font: int, options: PdfOptions,
                report: PdfReport) -> int:
    image = _page_image(page.image_path, options, page.dpi)
    width_pt = image.width_px * POINTS_PER_INCH / image.dpi_x
    height_pt = image.height_px * POINTS_PER_INCH / image.dpi_y
    xobject = pdf.write_stream(
        pdf.reserve(),
        f"/Type /XObject /Subtype /Image /Width {image.width_px} /Height {image.height_px} "
        f"/ColorSpace {image.color_space} /BitsPerComponent {image.bits} /Filter {image.filter}",
        image.data,
    )
    content = f"q {_n(width_pt)} 0 0 {_n(height_pt)} 0 0 cm /Im0 Do Q\n".encode() + text_layer(
        page.words, scale_x=POINTS_PER_INCH / image.dpi_x, scale_y=POINTS_PER_INCH / image.dpi_y,
        page_height_pt=height_pt, image_size_px=(image.width_px, image.height_px))
    contents = pdf.write_stream(pdf.reserve(), "/Filter /FlateDecode", zlib.compress(content, 6))
    page_obj = pdf.write_object(pdf.reserve(), (
        f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 {_n(width_pt)} {_n(height_pt)}] "
        f"/Resources << /XObject << /Im0 {xobject} 0 R >> /Font << /F1 {font} 0 R >> >> "
        f"/Contents {contents} 0 R >>"))
    report.pages += 1
    report.words += len(page.words)
    report.image_bytes += len(image.data)
    report.page_sizes_pt.append((round(width_pt, 3), round(height_pt, 3)))
    return page_obj


def _catalog(pages_root: int, labels: list[str | None], metadata: PdfMetadata) -> str:
    parts = [f"/Type /Catalog /Pages {pages_root} 0 R /ViewerPreferences << /DisplayDocTitle true >>"]
    if metadata.language:
        parts.append(f"/Lang {_text_string(metadata.language)}")
    if any(labels):
        # each page its own range: a printed label as the prefix alone, else its position in decimal
        nums = " ".join(f"{i} << /P {_text_string(label)} >>" if label else f"{i} << /S /D /St {i + 1} >>"
                        for i, label in enumerate(labels))
        parts.append(f"/PageLabels << /Nums [{nums}] >>")
    return "<< " + " ".join(parts) + " >>"


def _info(metadata: PdfMetadata) -> str:
    entries = {"Title": metadata.title, "Author": metadata.author, "Subject": metadata.subject,
               "Keywords": metadata.keywords, "Creator": metadata.creator, "Producer": "heritage digitize.pdf"}
    return "<< " + " ".join(f"/{k} {_text_string(v)}" for k, v in entries.items() if v) + " >>"


# ------------------------------------------------------------------ the file
class _PdfFile:
    """PDF objects written straight to a file; only their offsets are kept.

    Object numbers are reserved first and written in any order (the page tree
    root, reserved before the pages that point to it, is written after them).
    The trailer's ``/ID`` is the MD5 of everything written, so the same pages
    make the same bytes.
    """

    def __init__(self, fh: BinaryIO):
        self.fh = fh
        self.offsets: dict[int, int] = {}
        self.next_number = 1
        self.position = 0
        self.digest = hashlib.md5(usedforsecurity=False)
        self._write(f"%PDF-{PDF_VERSION}\n%\xe2\xe3\xcf\xd3\n".encode("latin-1"))

    def reserve(self) -> int:
        number = self.next_number
        self.next_number += 1
        return number

    def write_object(self, number: int, body: str) -> int:
        self.offsets[number] = self.position
        self._write(f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1"))
        return number

    def write_stream(self, number: int, entries: str, data: bytes) -> int:
        self.offsets[number] = self.position
        self._write(f"{number} 0 obj\n<< {entries} /Length {len(data)} >>\nstream\n".encode("latin-1"))
        self._write(data)
        self._write(b"\nendstream\nendobj\n")
        return number

    def finish(self, *, root: int, info: int) -> None:
        missing = [n for n in range(1, self.next_number) if n not in self.offsets]
        if missing:
            raise PdfWriteFailed(f"internal error: objects {missing[:5]} were reserved but never written")
        xref_at = self.position
        lines = [f"xref\n0 {self.next_number}\n", "0000000000 65535 f \n"]
        lines += [f"{self.offsets[n]:010d} 00000 n \n" for n in range(1, self.next_number)]
        file_id = self.digest.hexdigest()
        lines.append(f"trailer\n<< /Size {self.next_number} /Root {root} 0 R /Info {info} 0 R "
                     f"/ID [<{file_id}> <{file_id}>] >>\nstartxref\n{xref_at}\n%%EOF\n")
        self._write("".join(lines).encode("latin-1"))

    def _write(self, data: bytes) -> None:
        self.fh.write(data)
        self.digest.update(data)
        self.position += len(data)


def _text_string(text: str) -> str:
    """A PDF text string in hex UTF-16BE with its byte-order mark: any text, nothing to escape."""
    return "<feff" + text.encode("utf-16-be").hex() + ">"


def _n(value: float) -> str:
    """A number as PDF syntax: at most 3 decimals, no exponent, no ``-0``."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ------------------------------------------------------------------ the page image
@dataclass(frozen=True)
class _EncodedImage:
    data: bytes
    width_px: int
    height_px: int
    dpi_x: float
    dpi_y: float
    color_space: str
    bits: int
    filter: str


def _page_image(path: Path, options: PdfOptions, dpi: float | None) -> _EncodedImage:
    """The page image encoded for the PDF: JPEG for gray and colour, deflated
    1-bit for a bilevel page, deflated 8-bit when ``options.lossless``."""
    path = Path(path)
    try:
        with warnings.catch_warnings():
            # the platform's own page images: their size was checked when they were made
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                declared = im.info.get("dpi")
                image = _pdf_mode(im)
    except FileNotFoundError:
        raise ImageUnreadable(path.name, "the page image is missing") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageUnreadable(path.name, f"the page image cannot be read ({exc})") from None
    dpi_x, dpi_y = _resolution(declared, dpi, options.default_dpi)
    color_space = "/DeviceGray" if image.mode in ("1", "L") else "/DeviceRGB"
    if image.mode == "1":
        # Pillow packs 1-bit rows first pixel in the high bit, padded to a byte, 0 = black: as PDF wants them
        data, bits, filt = zlib.compress(image.tobytes(), 6), 1, "/FlateDecode"
    elif options.lossless:
        data, bits, filt = zlib.compress(image.tobytes(), 6), 8, "/FlateDecode"
    else:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=options.jpeg_quality)
        data, bits, filt = buf.getvalue(), 8, "/DCTDecode"
    return _EncodedImage(data, image.width, image.height, dpi_x, dpi_y, color_space, bits, filt)


def _pdf_mode(im: Image.Image) -> Image.Image:
    """``im`` as bilevel, gray or RGB, transparency flattened onto white."""
    if im.mode in ("1", "L", "RGB"):
        return im.copy()
    if im.mode in ("LA", "RGBA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        return flat.convert("L" if im.mode == "LA" else "RGB")
    if im.mode.startswith("I") or im.mode == "F":
        return im.convert("L")
    return im.convert("RGB")


def _resolution(declared, override: float | None, default: float) -> tuple[float, float]:
    low, high = PLAUSIBLE_DPI
    if override is not None and low <= override <= high:
        return float(override), float(override)
    try:
        # to a tenth: PNG keeps pixels per metre, so 300 dpi comes back as 299.9994
        x, y = round(float(declared[0]), 1), round(float(declared[1]), 1)
    except (TypeError, ValueError, IndexError):
        return default, default
    if low <= x <= high and low <= y <= high:
        return x, y
    return default, default


# ------------------------------------------------------------------ the text layer
def text_layer(
    words: Sequence[PlacedWord],
    *,
    scale_x: float,
    scale_y: float,
    page_height_pt: float,
    image_size_px: tuple[int, int] | None = None,
) -> bytes:
    """The content-stream operators that place ``words`` as invisible text.

    ``scale_x``, ``scale_y`` are points per image pixel. Each line's font is
    as tall as the line (the union of its words' boxes) with its baseline at
    the line's bottom, so a reader's selection covers the printed line; each
    word is stretched horizontally over exactly its box, and a space over the
    gap to the next word of its line, so copied text keeps its spaces (none
    between Hán characters). A column of Hán characters (a vertical line) has
    each character over its own box instead. Boxes are clipped to
    ``image_size_px`` when given.
    """
    from digitize.reading import joined, line_is_vertical

    lines = _lines(words)
    if not lines:
        return b""
    limit_w, limit_h = image_size_px or (None, None)
    out = ["BT", "3 Tr"]
    for line in lines:
        if line_is_vertical(line):  # a column of Hán: each character over its own box, top to bottom
            out += _column(line, scale_x=scale_x, scale_y=scale_y, page_height_pt=page_height_pt,
                           limit_w=limit_w, limit_h=limit_h)
            continue
        top = min(w.y for w in line)
        bottom = max(w.y + w.h for w in line)
        if limit_h is not None:
            top, bottom = max(0, min(top, limit_h - 1)), max(1, min(bottom, limit_h))
        size_pt = max(bottom - top, 1) * scale_y
        baseline_pt = page_height_pt - bottom * scale_y
        advance_pt = CHAR_WIDTH_EM * size_pt
        out.append(f"/F1 {_n(size_pt)} Tf")
        for i, word in enumerate(line):
            x0, x1 = word.x, word.x + max(word.w, 1)
            if limit_w is not None:
                x0 = max(0, min(x0, limit_w - 1))
                x1 = max(x0 + 1, min(x1, limit_w))
            codes = word.text.encode("utf-16-be")
            natural_pt = len(codes) // 2 * advance_pt
            out.append(f"1 0 0 1 {_n(x0 * scale_x)} {_n(baseline_pt)} Tm")
            out.append(f"{_n(100 * (x1 - x0) * scale_x / natural_pt)} Tz")
            out.append(f"<{codes.hex()}> Tj")
            if i + 1 < len(line) and not joined(word.text, line[i + 1].text):
                gap_px = max(line[i + 1].x - x1, 1)
                out.append(f"1 0 0 1 {_n(x1 * scale_x)} {_n(baseline_pt)} Tm")
                out.append(f"{_n(100 * gap_px * scale_x / advance_pt)} Tz")
                out.append("<0020> Tj")
    out.append("ET")
    return ("\n".join(out) + "\n").encode("ascii")


def _column(line: Sequence[PlacedWord], *, scale_x: float, scale_y: float, page_height_pt: float,
            limit_w: int | None, limit_h: int | None) -> list[str]:
    """The operators of a vertical line: every character in its own box (font as tall as the box,
    stretched over its width), in reading order and without spaces, so a selection down the column
    covers the characters one under another and copies them in order."""
    out = []
    for word in line:
        x0, x1 = word.x, word.x + max(word.w, 1)
        top, bottom = word.y, word.y + max(word.h, 1)
        if limit_w is not None:
            x0 = max(0, min(x0, limit_w - 1))
            x1 = max(x0 + 1, min(x1, limit_w))
        if limit_h is not None:
            top, bottom = max(0, min(top, limit_h - 1)), max(1, min(bottom, limit_h))
        size_pt = max(bottom - top, 1) * scale_y
        codes = word.text.encode("utf-16-be")
        natural_pt = len(codes) // 2 * CHAR_WIDTH_EM * size_pt
        out.append(f"/F1 {_n(size_pt)} Tf")
        out.append(f"1 0 0 1 {_n(x0 * scale_x)} {_n(page_height_pt - bottom * scale_y)} Tm")
        out.append(f"{_n(100 * (x1 - x0) * scale_x / natural_pt)} Tz")
        out.append(f"<{codes.hex()}> Tj")
    return out


def _lines(words: Sequence[PlacedWord]) -> list[list[PlacedWord]]:
    """Words grouped into lines, in reading order; words without text are left out."""
    lines: list[list[PlacedWord]] = []
    key = None
    for word in words:
        if not word.text:
            continue
        k = (word.block, word.paragraph, word.line)
        if k != key:
            lines.append([])
            key = k
        lines[-1].append(word)
    return lines


# ------------------------------------------------------------------ the font
_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


@functools.lru_cache(maxsize=1)
def glyphless_font() -> bytes:
    """A TrueType font with one blank glyph half an em wide (and ``.notdef``)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    units = 1000
    advance = round(CHAR_WIDTH_EM * units)
    builder = FontBuilder(units, isTTF=True)
    builder.setupGlyphOrder([".notdef", "blank"])
    builder.setupCharacterMap({0x20: "blank"})
    # the blank glyph is a line from corner to corner of its cell: it encloses nothing, so it would
    # paint nothing even drawn, but it gives the glyph a box, which pdfium needs to keep a one-letter
    # word (it drops text of no width) and to highlight a selection as tall as the line
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((advance, units))
    pen.closePath()
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "blank": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (advance, 0), "blank": (advance, 0)})
    builder.setupHorizontalHeader(ascent=units, descent=0)
    builder.setupNameTable({"familyName": FONT_NAME, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=units, sTypoDescender=0, usWinAscent=units, usWinDescent=0)
    builder.setupPost()
    buf = io.BytesIO()
    builder.save(buf)
    return buf.getvalue()


def _write_font(pdf: _PdfFile) -> int:
    """The glyphless font as a Type 0 font (one for the whole document); its object number."""
    width = round(CHAR_WIDTH_EM * 1000)
    font_file = pdf.write_stream(pdf.reserve(), "/Filter /FlateDecode", zlib.compress(glyphless_font(), 9))
    descriptor = pdf.write_object(pdf.reserve(), (
        f"<< /Type /FontDescriptor /FontName /{FONT_NAME} /Flags 5 /FontBBox [0 0 {width} 1000] "
        f"/ItalicAngle 0 /Ascent 1000 /Descent -1 /CapHeight 1000 /StemV 80 /FontFile2 {font_file} 0 R >>"))
    # every code draws glyph 1, the blank one
    cid_to_gid = pdf.write_stream(pdf.reserve(), "/Filter /FlateDecode", zlib.compress(b"\x00\x01" * 65536, 9))
    cid_font = pdf.write_object(pdf.reserve(), (
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{FONT_NAME} "
        f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor {descriptor} 0 R /DW {width} /CIDToGIDMap {cid_to_gid} 0 R >>"))
    to_unicode = pdf.write_stream(pdf.reserve(), "/Filter /FlateDecode", zlib.compress(_TO_UNICODE, 9))
    return pdf.write_object(pdf.reserve(), (
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{FONT_NAME} /Encoding /Identity-H "
        f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"))
