"""A page of Hán script read by the Hán engine (:mod:`digitize.han`) into the same
:class:`~digitize.reading.PageReading` a page read by tesseract gives (issue #14).

``read_page`` sends a page here when its languages are ``lzh`` (literary Chinese: the Hán script). The
stages are the recipe's own where they mean the same thing — load (EXIF orientation applied), grayscale,
the normalised image saved — and then the Hán engine reads the normalised image (the zones, when the
item has a zone file, one by one). What comes back:

- **a word per character**, with its own box and confidence (the engine's probability × 100), so that a
  search hit, a correction and the IIIF search answer are boxed per character;
- **a line per column** (or per horizontal line), in reading order: columns right to left, each top to
  bottom; the page text has no spaces between characters (:func:`digitize.reading.joined`) and a line
  break between columns; hOCR and ALTO mark the columns as vertical (``textangle 90``;
  ``BASEDIRECTION="ttb"``);
- one block per run of neighbouring columns of about the same height (a stele's title band and its body
  are two blocks), so the reader's and the catalogue's blocks mean what they mean on a printed page;
- ``warnings`` when the page was read inverted (white on dark: a rubbing, carved stone), read
  median-filtered (grainy paper or stone), read with its faint ink strengthened (worn print) or gave no text.

A character read with a probability under :data:`digitize.han.LOW_CONFIDENCE` counts in
``low_confidence_words``: the page is marked for a reader's check like a doubtful tesseract page.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PIL import Image

from digitize import han
from digitize.reading import LOW_CONFIDENCE, PageReading, TsvWord, alto_document, build_text, hocr_document

LANGUAGE = "lzh"  # ISO 639-3: literary Chinese, the language of the Hán script here
CONFIDENCE_SCALE = 100.0  # the engine's probabilities (0-1) as the catalogue's confidences (0-100)
BLOCK_GAP = 1.5  # columns further apart than this many column widths start a new block


def is_han_only(languages: str) -> bool:
    """Whether ``languages`` asks for the Hán engine alone (``"lzh"``)."""
    return [part.strip() for part in languages.split("+")] == [LANGUAGE]


def asks_for_han(languages: str) -> bool:
    """Whether ``languages`` names the Hán script at all (``"lzh"``, ``"lzh+vie"``)."""
    return LANGUAGE in [part.strip() for part in languages.split("+")]


def check_engine() -> str:
    """The Hán engine's name; :class:`digitize.errors.EngineMissing` when its package cannot be loaded."""
    han.check_engine()
    return han.ENGINE


def _blocks(lines: list[han.HanLine]) -> list[int]:
    """A block number per line (in reading order): a new block where a line stops continuing the run
    before it — a column far from the last one or of another height and top, a horizontal line after a
    column or the other way round."""
    numbers: list[int] = []
    block = -1
    previous: han.HanLine | None = None
    for line in lines:
        new = previous is None or line.vertical != previous.vertical
        if not new and line.vertical and previous is not None:
            width = max(line.w, previous.w)
            gap = previous.x - (line.x + line.w)
            same_band = abs(line.y - previous.y) < 0.5 * width or line.y >= previous.y + previous.h  # a piece below
            new = gap > BLOCK_GAP * width or not same_band
        elif not new and previous is not None:
            new = line.y - (previous.y + previous.h) > 1.5 * max(line.h, previous.h)
        if new:
            block += 1
        numbers.append(block)
        previous = line
    return numbers


def rows_of(reading: han.HanReading, *, dx: int = 0, dy: int = 0, first_block: int = 0) -> list[TsvWord]:
    """The reading as tesseract-like word rows (a row per character, ``line_num`` a line or column,
    ``block_num`` its block), boxes moved by ``(dx, dy)``: what :func:`digitize.reading.build_text`
    builds the page text, words, lines and blocks from."""
    rows: list[TsvWord] = []
    lines = list(reading.lines)
    for number, (line, block) in enumerate(zip(lines, _blocks(lines))):
        for glyph in line.glyphs:
            rows.append(TsvWord(block_num=first_block + block, par_num=0, line_num=number,
                                left=glyph.x + dx, top=glyph.y + dy, width=glyph.w, height=glyph.h,
                                conf=round(glyph.confidence * CONFIDENCE_SCALE, 2), text=glyph.text,
                                index=len(rows)))
    return rows


def tsv_of(rows: list[TsvWord]) -> str:
    """The word rows in tesseract's TSV layout (level 5 rows only), for what reads ``PageReading.tsv``."""
    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    body = [f"5\t1\t{r.block_num + 1}\t{r.par_num + 1}\t{r.line_num + 1}\t1\t{r.left}\t{r.top}\t{r.width}\t"
            f"{r.height}\t{r.conf:.2f}\t{r.text}" for r in rows]
    return "\n".join([head, *body]) + "\n"


LATIN_LETTERS = 20  # a page declared Hán whose reading has at least this many Latin letters, and more of them
# than anything else, is said to be in another script (the engine reads them without diacritics)
UNDECLARED_HAN = 10  # Hán characters read surely before a page of an item not declared Hán is said to be Hán


def check_script(parsed, context):
    """A page tesseract read poorly or not at all, in an item whose languages do not name Hán: when the
    Hán engine reads it as Hán (at least :data:`UNDECLARED_HAN` characters read surely, and most of what it
    reads) a warning says so and what to declare. The text stays tesseract's: nothing is invented. The
    engine not installed: no check."""
    try:
        check_engine()
    except han.HanEngineMissing:
        return parsed
    sure, seen = han.characters_seen(context.normalised_image)
    if sure >= UNDECLARED_HAN and sure * 2 > seen:
        context.warn(f"another script: the page reads as Hán ({sure} characters), which the item's languages "
                     "do not include: declare lzh and read it again")
    return parsed


def read_han_page(image: Image.Image, context) -> PageReading:
    """The ``han`` stage and the page's assembly: ``image`` is the normalised page (``context`` the
    recipe's :class:`~digitize.pipeline.PageContext` after ``save_normalised``)."""
    options = context.options
    started = time.process_time()
    rows: list[TsvWord] = []
    inverted = strengthened = smoothed = False
    zones = context.zones or ()
    if zones:
        for zone in zones:
            x0, y0 = max(0, zone.x), max(0, zone.y)
            x1, y1 = min(image.width, zone.x + zone.w), min(image.height, zone.y + zone.h)
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            part = han.read_han(image.crop((x0, y0, x1, y1)))
            inverted = inverted or part.inverted
            strengthened = strengthened or part.strengthened
            smoothed = smoothed or part.smoothed
            first = (rows[-1].block_num + 1) if rows else 0
            rows += [replace(r, index=len(rows) + k) for k, r in
                     enumerate(rows_of(part, dx=x0, dy=y0, first_block=first))]
    else:
        found = han.read_han(image)
        inverted, strengthened, smoothed = found.inverted, found.strengthened, found.smoothed
        rows = rows_of(found)
    context.cpu_s["han"] = context.cpu_s.get("han", 0.0) + time.process_time() - started
    if inverted:
        context.warn("white on dark: read inverted")
    if smoothed:
        context.warn("grainy: read after a 3-pixel median filter")
    if strengthened:
        context.warn("worn ink: read with its faint strokes strengthened")
    if not rows:
        context.warn("no text found")
    latin = sum(1 for r in rows for ch in r.text if ch.isascii() and ch.isalpha())
    if latin >= LATIN_LETTERS and latin * 2 > sum(len(r.text) for r in rows):
        context.warn(f"another script: the page reads as Latin letters ({latin}), which lzh reads without "
                     "Vietnamese diacritics: declare vie and read it again")
    parsed = build_text(rows)
    from digitize.pipeline import page_reading

    return page_reading(parsed, context, engine=han.ENGINE, label=han.ENGINE, tsv=tsv_of(rows),
                        skew_deg=0.0, scale=1.0, tesseract_version="")


def read_page_han(source: Path | str | Image.Image, context) -> PageReading:
    """The recipe for a page of Hán script (``languages == "lzh"``), with the stages named as in
    :func:`digitize.pipeline.read_page` where they are the same."""
    from digitize import pipeline

    context.run("check_engine", lambda _, __: check_engine(), None)
    image = context.run("load", pipeline.load, source)
    image = context.run("grayscale", pipeline.grayscale, image)
    image = context.run("save_normalised", pipeline.save_normalised, image)
    return context.run("han", read_han_page, image)


# ------------------------------------------------------------ Hán and quốc ngữ
HAN_LINE_SHARE = 0.5  # a line the Hán engine read is Hán when at least this share of its characters are
MASK_PAD = 0.15  # a Hán line's box grows by this share of its thickness when tesseract's words are dropped


def _han_lines(reading: han.HanReading) -> list[han.HanLine]:
    """The lines of Hán script (the engine also reads Latin letters, without Vietnamese diacritics:
    tesseract reads those lines)."""
    from digitize.reading import is_han

    return [line for line in reading.lines
            if line.glyphs and sum(is_han(g.text) for g in line.glyphs) >= HAN_LINE_SHARE * len(line.glyphs)]


def _inside(word, boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = word.x + word.w / 2, word.y + word.h / 2
    return any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in boxes)


def add_han(reading: PageReading, languages: str, *, progress=None) -> PageReading:
    """A page of Hán and quốc ngữ (``lzh+vie``): ``reading`` is tesseract's reading of the page in the
    other languages; the Hán engine reads the same normalised image, its Hán lines replace whatever
    tesseract made of them (its words whose centre lies on a Hán line are dropped), and the blocks of
    both are put in reading order top to bottom (Hán columns within their block right to left)."""
    import dataclasses

    if progress is not None:
        progress("han")
    started, started_cpu = time.perf_counter(), time.process_time()
    with Image.open(reading.normalised_image_path) as opened:
        image = opened.convert("L")
    found = han.read_han(image)
    lines = _han_lines(found)
    boxes = []
    for line in lines:
        pad = MASK_PAD * (line.w if line.vertical else line.h)
        boxes.append((line.x - pad, line.y - pad, line.x + line.w + pad, line.y + line.h + pad))
    kept = [w for w in reading.words if not _inside(w, boxes)]
    # blocks of both, each a list of rows, ordered by their tops
    groups: dict[tuple[str, int], list[TsvWord]] = {}
    for w in kept:
        groups.setdefault(("t", w.block), []).append(TsvWord(w.block, w.paragraph, w.line, w.x, w.y, w.w, w.h,
                                                              w.confidence, w.text))
    han_only = dataclasses.replace(found, lines=tuple(lines))
    for row in rows_of(han_only):
        groups.setdefault(("h", row.block_num), []).append(row)
    ordered = sorted(groups.items(), key=lambda kv: (min(r.top for r in kv[1]), -max(r.left + r.width for r in kv[1])))
    rows: list[TsvWord] = []
    for number, ((source, _), members) in enumerate(ordered):
        for r in members:  # unique paragraph and line keys per source, the block renumbered in order
            rows.append(TsvWord(number, (0 if source == "t" else 1_000_000) + r.par_num,
                                (0 if source == "t" else 1_000_000) + r.line_num, r.left, r.top, r.width, r.height,
                                r.conf, r.text, len(rows)))
    parsed = build_text(rows)
    name = reading.normalised_image_path.name
    engine = f"{han.ENGINE} + tesseract {reading.tesseract_version}"
    timings = dict(reading.timings_s, han=time.perf_counter() - started)
    cpu = dict(reading.cpu_s, han=time.process_time() - started_cpu)
    return dataclasses.replace(
        reading,
        text=parsed.text, words=parsed.words, lines=parsed.lines, blocks=parsed.blocks,
        mean_confidence=parsed.mean_confidence,
        hocr=hocr_document(parsed, width=reading.width, height=reading.height, image_name=name,
                           languages=languages, engine=engine, dpi=reading.dpi),
        alto=alto_document(parsed, width=reading.width, height=reading.height, image_name=name,
                           languages=languages, engine=engine),
        languages=languages, engine=han.ENGINE, regions=(), timings_s=timings, cpu_s=cpu,
        raw_text=None,
        low_confidence_words=sum(1 for w in parsed.words if w.confidence < LOW_CONFIDENCE),
    )
