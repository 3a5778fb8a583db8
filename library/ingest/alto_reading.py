"""An ALTO file (v2–v4) as a machine reading of its page: words with boxes and
confidences, lines and blocks, in the pixels of the page image.

ALTO measures in ``pixel``, ``mm10`` (tenths of a millimetre) or ``inch1200``.
Boxes are mapped onto the image by the ratio image size / ALTO page size on
each axis; before that, the ALTO page (converted to pixels at the image's dpi
when it has one) must agree with the image within a tolerance, else the ALTO
belongs to another image and is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from library.errors import InputRejected
from library.ingest.safe_xml import DEFAULT_MAX_XML_BYTES, Element, attr, local_name, read_xml

INCHES_PER_UNIT = {"pixel": None, "mm10": 1 / 254.0, "inch1200": 1 / 1200.0}
DEFAULT_SIZE_TOLERANCE = 0.03  # ALTO page vs image, relative, per axis (vendors crop a few pixels)
UNKNOWN_CONFIDENCE = -1.0  # a word without WC (tesseract's "no confidence")
_FINITE = math.isfinite
_ANY_NS = "{*}"  # lxml's wildcard: the name in any namespace or none, matched in C
_STRING, _HYP = _ANY_NS + "String", _ANY_NS + "HYP"


@dataclass(frozen=True)
class AltoWord:
    text: str  # CONTENT, a hyphen (HYP) appended when the word is split at the line end
    x: int  # box in image pixels (ALTO units when the page was read without its image)
    y: int
    w: int
    h: int
    confidence: float  # 0–100 (ALTO WC × 100), UNKNOWN_CONFIDENCE when absent


@dataclass(frozen=True)
class AltoLine:
    x: int
    y: int
    w: int
    h: int
    words: tuple[AltoWord, ...]


@dataclass(frozen=True)
class AltoBlock:
    block_id: str  # the ALTO ID ("P1_TB00008"), which a METS logical map points to
    x: int
    y: int
    w: int
    h: int
    lines: tuple[AltoLine, ...]


@dataclass(frozen=True)
class AltoPage:
    page_id: str | None  # the ALTO Page ID ("P1"), which a METS physical map may point to
    unit: str  # pixel | mm10 | inch1200
    width_units: float | None  # the ALTO page size, in ``unit``
    height_units: float | None
    width_px: int | None  # the image the boxes are in (None: read without an image; boxes stay in ALTO units)
    height_px: int | None
    software: str | None  # "ABBYY FineReader 8.1"
    blocks: tuple[AltoBlock, ...]
    languages: tuple[str, ...] = ()  # the blocks' language / LANG codes as written, most used first

    @property
    def words(self) -> list[AltoWord]:
        return [w for b in self.blocks for ln in b.lines for w in ln.words]


def read_alto(path: Path, *, label: str, image_size_px: tuple[int, int] | None = None,
              image_dpi: float | None = None, tolerance: float = DEFAULT_SIZE_TOLERANCE,
              max_bytes: int = DEFAULT_MAX_XML_BYTES) -> AltoPage:
    """Read the ALTO file ``path`` (named ``label`` in errors).

    ``image_size_px`` (width, height) of the page image it describes: boxes come out in its pixels, and an
    ALTO whose page disagrees with it beyond ``tolerance`` (relative, per axis; the aspect ratio only when
    neither the unit is pixels nor ``image_dpi`` is known) is refused. Without it boxes stay in ALTO units.
    """
    root = read_xml(path, label=label, max_bytes=max_bytes)
    if local_name(root.tag) != "alto":
        raise InputRejected(label, f"not an ALTO file (its root element is <{local_name(root.tag)}>)")
    unit = _measurement_unit(root, label)
    page = _first(root, "Page")
    if page is None:
        raise InputRejected(label, "the ALTO file has no <Page>")
    width_u, height_u = _number(page, "WIDTH", label), _number(page, "HEIGHT", label)
    if (width_u is None or height_u is None) and (space := _first(page, "PrintSpace")) is not None:
        width_u, height_u = _number(space, "WIDTH", label), _number(space, "HEIGHT", label)
    sx = sy = 1.0
    if image_size_px is not None:
        sx, sy = _scale(unit, width_u, height_u, image_size_px, image_dpi, tolerance, label)
    blocks = tuple(_block(b, sx, sy, label) for b in page.iter(_ANY_NS + "TextBlock"))
    return AltoPage(
        page_id=page.get("ID"), unit=unit, width_units=width_u, height_units=height_u,
        width_px=image_size_px[0] if image_size_px else None, height_px=image_size_px[1] if image_size_px else None,
        software=_software(root), blocks=blocks, languages=_languages(page),
    )


def page_layout(page: AltoPage) -> tuple[str, dict, float | None]:
    """The page's text, layout and mean word confidence, in the shapes the catalogue stores
    (``library.reading.ocr_jobs.layout_of``): words ``[text, start, end, x, y, w, h, conf, block, par, line]``,
    lines ``[block, par, line, x, y, w, h, start, end]``, blocks ``[block, x, y, w, h, start, end]``;
    words joined by spaces, lines by newlines, blocks by a blank line; blocks numbered from 1."""
    parts: list[str] = []
    pos = 0
    words, lines, blocks = [], [], []
    confidences = []
    for b_no, block in enumerate((b for b in page.blocks if any(ln.words for ln in b.lines)), start=1):
        if parts:
            parts.append("\n\n")
            pos += 2
        block_start = pos
        for l_no, line in enumerate((ln for ln in block.lines if ln.words), start=1):
            if l_no > 1:
                parts.append("\n")
                pos += 1
            line_start = pos
            for n, word in enumerate(line.words):
                if n:
                    parts.append(" ")
                    pos += 1
                words.append([word.text, pos, pos + len(word.text), word.x, word.y, word.w, word.h,
                              word.confidence, b_no, 1, l_no])
                if word.confidence >= 0:
                    confidences.append(word.confidence)
                parts.append(word.text)
                pos += len(word.text)
            lines.append([b_no, 1, l_no, line.x, line.y, line.w, line.h, line_start, pos])
        blocks.append([b_no, block.x, block.y, block.w, block.h, block_start, pos])
    mean = sum(confidences) / len(confidences) if confidences else None
    return "".join(parts), {"words": words, "lines": lines, "blocks": blocks}, mean


# ------------------------------------------------------------------ stages
def _measurement_unit(root: Element, label: str) -> str:
    found = _first(root, "MeasurementUnit")
    unit = (found.text or "").strip() if found is not None else "pixel"
    if unit not in INCHES_PER_UNIT:
        raise InputRejected(label, f"unknown ALTO MeasurementUnit {unit!r}; known: {', '.join(INCHES_PER_UNIT)}")
    return unit


def _scale(unit, width_u, height_u, image_size_px, image_dpi, tolerance, label) -> tuple[float, float]:
    """Pixels per ALTO unit on each axis, after checking the ALTO page agrees with the image."""
    img_w, img_h = image_size_px
    if not width_u or not height_u:
        if unit == "pixel":
            return 1.0, 1.0
        raise InputRejected(label, "the ALTO page has no WIDTH/HEIGHT, so its boxes cannot be placed on the image")
    inches = INCHES_PER_UNIT[unit]
    if unit == "pixel" or image_dpi:
        per_unit = 1.0 if unit == "pixel" else inches * image_dpi
        want_w, want_h = width_u * per_unit, height_u * per_unit
        if abs(want_w - img_w) > tolerance * img_w or abs(want_h - img_h) > tolerance * img_h:
            at = "" if unit == "pixel" else f" at {image_dpi:g} dpi"
            raise InputRejected(label, f"the ALTO page is {want_w:.0f}×{want_h:.0f} px{at} ({width_u:g}×{height_u:g} "
                                       f"{unit}) but its image is {img_w}×{img_h} px: they do not belong together")
    else:
        ratio = (width_u / height_u) / (img_w / img_h)
        if abs(ratio - 1) > tolerance:
            raise InputRejected(label, f"the ALTO page ({width_u:g}×{height_u:g} {unit}) and its image "
                                       f"({img_w}×{img_h} px) have different shapes: they do not belong together")
    return img_w / width_u, img_h / height_u


def _block(element: Element, sx: float, sy: float, label: str) -> AltoBlock:
    lines = tuple(_line(ln, sx, sy, label) for ln in element.iterchildren(_ANY_NS + "TextLine"))
    x, y, w, h = _box(element, sx, sy, label)
    return AltoBlock(block_id=element.get("ID") or "", x=x, y=y, w=w, h=h, lines=lines)


def _line(element: Element, sx: float, sy: float, label: str) -> AltoLine:
    words: list[AltoWord] = []
    for child in element.iterchildren(_STRING, _HYP):  # lxml picks them in C (the <SP>s are half the children)
        if local_name(child.tag) == "String":
            text = (child.get("CONTENT") or "").strip()
            if not text:
                continue
            word = _plain_word(child, text, sx, sy)
            if word is None:  # anything unusual: the careful reading, which names what is wrong
                x, y, w, h = _box(child, sx, sy, label)
                wc = _number(child, "WC", label)
                conf = UNKNOWN_CONFIDENCE if wc is None else round(max(0.0, min(1.0, wc)) * 100, 2)
                word = AltoWord(text, x, y, w, h, conf)
            words.append(word)
        elif words:  # <HYP>
            last = words[-1]
            words[-1] = AltoWord(last.text + (child.get("CONTENT") or "-"), last.x, last.y, last.w, last.h,
                                 last.confidence)
    x, y, w, h = _box(element, sx, sy, label)
    return AltoLine(x, y, w, h, tuple(words))


def _plain_word(element: Element, text: str, sx: float, sy: float) -> AltoWord | None:
    """The word of a ``<String>`` whose four box attributes are plain finite numbers (and WC one or
    absent), as :func:`_box` and :func:`_number` would read it; None for anything else. The common case
    read without the general attribute lookup: a broadsheet's ALTO holds thousands of these."""
    get = element.get
    try:
        x, y, w, h = float(get("HPOS")), float(get("VPOS")), float(get("WIDTH")), float(get("HEIGHT"))
        wc = get("WC")
        wc = None if wc is None else float(wc)
    except (TypeError, ValueError):  # absent (maybe namespaced), empty or not a number
        return None
    if not (_FINITE(x) and _FINITE(y) and _FINITE(w) and _FINITE(h) and (wc is None or _FINITE(wc))):
        return None
    conf = UNKNOWN_CONFIDENCE if wc is None else round(max(0.0, min(1.0, wc)) * 100, 2)
    return AltoWord(text, round(x * sx), round(y * sy), round(w * sx), round(h * sy), conf)


def _box(element: Element, sx: float, sy: float, label: str) -> tuple[int, int, int, int]:
    vals = [_number(element, k, label) or 0.0 for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")]
    return round(vals[0] * sx), round(vals[1] * sy), round(vals[2] * sx), round(vals[3] * sy)


def _number(element: Element, name: str, label: str) -> float | None:
    raw = attr(element, name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InputRejected(label, f"<{local_name(element.tag)} ID={element.get('ID')!r}> has {name}={raw!r}, "
                                   "not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InputRejected(label, f"<{local_name(element.tag)}> has {name}={raw!r}, not a finite number")
    return value


def _languages(page: Element) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for element in page.iter(_ANY_NS + "TextBlock"):
        code = (element.get("LANG") or element.get("language") or "").strip()
        if code:
            counts[code] = counts.get(code, 0) + 1
    return tuple(sorted(counts, key=lambda c: -counts[c]))


def _first(root: Element, name: str) -> Element | None:
    return next(root.iter(_ANY_NS + name), None)


def _software(root: Element) -> str | None:
    found = _first(root, "ocrProcessingStep")
    if found is None:
        found = _first(root, "processingSoftware")
    if found is None:
        return None
    names = [(e.text or "").strip() for e in found.iter() if local_name(e.tag) in ("softwareName", "softwareVersion")]
    names = [n for n in names if n and n != "NA"]
    return " ".join(names) or None
