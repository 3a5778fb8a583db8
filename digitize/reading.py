"""What tesseract read on a page: words, lines and blocks with boxes and
character offsets into the page text.

Tesseract's TSV output is the source: one row per word (level 5) with its
block, paragraph and line numbers, box and confidence. From it the page text
is built so that every word knows where it sits in that text
(``text[word.char_start:word.char_end] == word.text``), which is what lets
the search engine's highlights be turned back into boxes on the page image.

Boxes come in the frame of the image tesseract read and are scaled by
``1 / scale`` into the normalised page image's frame; the hOCR and ALTO
documents from the same run are rescaled the same way.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

WORD_SEPARATOR = " "
LINE_SEPARATOR = "\n"
PARAGRAPH_SEPARATOR = "\n\n"


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
    tesseract read relative to the normalised one.
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
    upscaled: bool = field(default=False)

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
    for row in tsv.splitlines():
        fields = row.split("\t", 11)
        if len(fields) < 12 or fields[0] != "5":
            continue  # the header, levels 1-4, or a malformed row
        text = nfc(fields[11]).strip()
        if not text:
            continue
        try:
            block_num, par_num, line_num = int(fields[2]), int(fields[3]), int(fields[4])
            left, top, width, height = (int(v) for v in fields[6:10])
            conf = float(fields[10])
        except ValueError:
            continue
        words.append(TsvWord(block_num, par_num, line_num, left, top, width, height, conf, text))
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
    """Build the page text and its words, lines and blocks from tesseract's TSV.

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

    for row in tsv_words(tsv):
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
            separator = WORD_SEPARATOR
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


# ----------------------------------------------------------------- hOCR, ALTO
_HOCR_TITLE = re.compile(r"""title=(['"])(.*?)\1""", re.DOTALL)
_HOCR_BBOX = re.compile(r"\bbbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_HOCR_BASELINE = re.compile(r"\bbaseline (-?[\d.]+) (-?[\d.]+)")
_HOCR_LENGTH = re.compile(r"\b(x_size|x_descenders|x_ascenders) (-?[\d.]+)")
_HOCR_SCAN_RES = re.compile(r"\bscan_res (\d+) (\d+)")
_HOCR_IMAGE = re.compile(r"""\bimage "[^"]*\"""")


def rescale_hocr(
    hocr: str, *, scale: float, frame_w: int, frame_h: int, image_name: str | None = None
) -> str:
    """tesseract's hOCR with every box and length in the normalised frame,
    NFC text, and the page's ``image`` naming ``image_name``."""

    def title(match: re.Match) -> str:
        quote, value = match.group(1), match.group(2)

        def bbox(m: re.Match) -> str:
            left, top, right, bottom = (int(v) for v in m.groups())
            x, y, w, h = scale_box(left, top, right - left, bottom - top,
                                   scale=scale, frame_w=frame_w, frame_h=frame_h)
            return f"bbox {x} {y} {x + w} {y + h}"

        if scale != 1.0:
            value = _HOCR_BASELINE.sub(
                lambda m: f"baseline {m.group(1)} {round(float(m.group(2)) / scale)}", value
            )
            value = _HOCR_LENGTH.sub(
                lambda m: f"{m.group(1)} {float(m.group(2)) / scale:.6g}", value
            )
            value = _HOCR_SCAN_RES.sub(
                lambda m: f"scan_res {round(int(m.group(1)) / scale)} {round(int(m.group(2)) / scale)}",
                value,
            )
        value = _HOCR_BBOX.sub(bbox, value)
        if image_name is not None:
            value = _HOCR_IMAGE.sub(lambda m: f'image "{_attr_safe(image_name)}"', value)
        return f"title={quote}{value}{quote}"

    return _HOCR_TITLE.sub(title, nfc(hocr))


_ALTO_LENGTH = re.compile(r'\b(HPOS|VPOS|WIDTH|HEIGHT)="(-?[\d.]+)"')
_ALTO_PAGE = re.compile(r"<Page\b[^>]*>")
_ALTO_FILENAME = re.compile(r"<fileName>[^<]*</fileName>")


def rescale_alto(
    alto: str, *, scale: float, frame_w: int, frame_h: int, image_name: str | None = None
) -> str:
    """tesseract's ALTO with HPOS/VPOS/WIDTH/HEIGHT in the normalised frame
    (the Page exactly ``frame_w`` × ``frame_h``), NFC text, and
    ``sourceImageInformation/fileName`` naming ``image_name``."""
    alto = nfc(alto)
    if scale != 1.0:

        def length(m: re.Match) -> str:
            value = float(m.group(2)) / scale
            limit = frame_w if m.group(1) in ("HPOS", "WIDTH") else frame_h
            return f'{m.group(1)}="{min(max(round(value), 0), limit)}"'

        alto = _ALTO_LENGTH.sub(length, alto)

    def page(m: re.Match) -> str:
        tag = re.sub(r'\bWIDTH="[^"]*"', f'WIDTH="{frame_w}"', m.group(0))
        return re.sub(r'\bHEIGHT="[^"]*"', f'HEIGHT="{frame_h}"', tag)

    alto = _ALTO_PAGE.sub(page, alto)
    if image_name is not None:
        alto = _ALTO_FILENAME.sub(lambda m: f"<fileName>{_text_safe(image_name)}</fileName>", alto)
    return alto


def _attr_safe(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("'", "&#39;").replace("<", "&lt;")


def _text_safe(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
