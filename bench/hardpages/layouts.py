"""Page layouts: a book page, an open book's two pages, a page of mixed type
with its furniture, and a three-column newspaper page. Each returns a Sheet:
the ink canvas and the printed lines in reading order (the ground truth).

Sizes are in inches (``_in``) or typographic points (``_pt``) and turned
into pixels at the sheet's dpi.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import degrade
from .texts import TextStream
from .typeset import (
    Canvas, Frame, Item, PrintedLine, Row, Run, Style, block, flow, heading, paragraph,
    space, text_rows,
)

# Newspaper names and issue lines are part of the printed text: one set per
# split, so that dev and test share no text.
MASTHEADS = {
    "dev": (
        ("TIN TỨC HÀ THÀNH", "Năm thứ 7 — Số 1.254 — Hà Nội, thứ Bảy ngày 14 tháng 3 năm 1936 — Giá 5 xu"),
        ("NHÂN DÂN THỦ ĐÔ", "Số 2.318 — Thứ Năm, ngày 22 tháng 8 năm 1971 — Giá 1 hào"),
        ("BẮC KỲ THỜI SỰ", "Năm thứ 2 — Số 87 — Thứ Hai, ngày 5 tháng 9 năm 1927 — Giá 3 xu"),
    ),
    "test": (
        ("TIẾNG SÔNG HỒNG", "Năm thứ 11 — Số 3.406 — Chủ nhật, ngày 19 tháng 1 năm 1941 — Giá 6 xu"),
        ("ĐỜI SỐNG MỚI", "Số 1.129 — Thứ Sáu, ngày 9 tháng 10 năm 1964 — Giá 8 xu"),
        ("ĐÔNG THÀNH NHẬT BÁO", "Năm thứ 4 — Số 612 — Thứ Tư, ngày 27 tháng 6 năm 1934 — Giá 4 xu"),
    ),
}


@dataclass
class Sheet:
    """A printed sheet: ink and truth. ``multi_column`` says whether the lines'
    columns are meaningful."""

    canvas: Canvas
    lines: list[PrintedLine]
    multi_column: bool = False


def _px(dpi: int, inches: float) -> int:
    return round(inches * dpi)


def body_items(stream: TextStream, body: Style, head: Style | None, *,
               styled: Callable[[str], list[Run]] | None = None,
               head_align: str = "center") -> Iterator[Item]:
    """Paragraphs from ``stream``; an article's title becomes a heading in
    ``head`` (or is skipped when ``head`` is None)."""
    while True:
        piece = stream.next_piece()
        if piece.is_title:
            if head is not None:
                yield heading(piece.text, head, align=head_align,
                              space_before_pt=body.size_pt * 1.2, space_after_pt=body.size_pt * 0.6)
            continue
        yield paragraph(piece.text, body, styled=styled)


def folio_item(number: int, style: Style, align: str = "center") -> Item:
    return heading(str(number), style, align=align)


# ---------------------------------------------------------------- book pages


def book_page(stream: TextStream, rng: np.random.Generator, *, dpi: int, body: Style,
              head: Style | None, page_in: tuple[float, float] = (5.5, 8.2),
              margins_in: tuple[float, float, float, float] = (0.75, 0.7, 0.75, 0.75),
              folio: bool = True) -> Sheet:
    """A single book page (``margins_in``: left, top, right, bottom), text
    running from ``stream``, a page number centred at the foot."""
    canvas = Canvas(_px(dpi, page_in[0]), _px(dpi, page_in[1]), dpi)
    left, top, right, bottom = (_px(dpi, m) for m in margins_in)
    width = canvas.width_px - left - right
    folio_h = canvas.px(body.size_pt) * 3 if folio else 0
    text = Frame(left, top, width, canvas.height_px - top - bottom - folio_h)
    lines = flow(canvas, [text], body_items(stream, body, head)).lines
    if folio:
        number = int(rng.integers(5, 320))
        frame = Frame(left, canvas.height_px - bottom - canvas.px(body.size_pt) * 2, width,
                      canvas.px(body.size_pt) * 2)
        lines += flow(canvas, [frame], iter([folio_item(number, body)])).lines
    return Sheet(canvas, lines)


def spread(stream: TextStream, rng: np.random.Generator, *, dpi: int, body: Style,
           head: Style | None, page_in: tuple[float, float] = (5.3, 7.8)) -> Sheet:
    """Two facing book pages on one canvas (the gutter in the middle); the text
    runs on from the left page (column 0) to the right page (column 1), each
    page ending with its page number (even on the left)."""
    page_w, page_h = _px(dpi, page_in[0]), _px(dpi, page_in[1])
    canvas = Canvas(2 * page_w, page_h, dpi)
    outer, inner, top, bottom = (_px(dpi, m) for m in (0.65, 0.8, 0.6, 0.55))
    width = page_w - outer - inner
    folio_h = canvas.px(body.size_pt) * 3
    frames = [Frame(outer, top, width, page_h - top - bottom - folio_h, column=0),
              Frame(page_w + inner, top, width, page_h - top - bottom - folio_h, column=1)]
    result = flow(canvas, frames, body_items(stream, body, head))
    first = 2 * int(rng.integers(4, 150))
    lines = []
    for column, x, number, align in ((0, outer, first, "left"), (1, page_w + inner, first + 1, "right")):
        lines += [ln for ln in result.lines if ln.column == column]
        frame = Frame(x, page_h - bottom - canvas.px(body.size_pt) * 2, width,
                      canvas.px(body.size_pt) * 2, column=column)
        lines += flow(canvas, [frame], iter([folio_item(number, body, align)])).lines
    return Sheet(canvas, lines, multi_column=True)


# ---------------------------------------------------------------- mixed type


def emphasis(rng: np.random.Generator, body: Style, bold: Style, italic: Style,
             rate: float = 0.06) -> Callable[[str], list[Run]]:
    """A styler that sets a few short runs of each paragraph (1–4 words, about
    ``rate`` of the words) in bold or italic, as authors stress words."""

    def styled(text: str) -> list[Run]:
        words = text.split()
        runs: list[Run] = []
        i = 0
        while i < len(words):
            if rng.random() < rate / 2.5:
                n = int(rng.integers(1, 5))
                runs.append((" ".join(words[i:i + n]), bold if rng.random() < 0.4 else italic))
                i += n
            else:
                runs.append((words[i], body))
                i += 1
        return runs

    return styled


def mixed_page(stream: TextStream, rng: np.random.Generator, *, dpi: int,
               family: dict[str, str], chapter: int) -> Sheet:
    """A book page opening a chapter: running head and rule, chapter number and
    title in large type, body with bold and italic words, an indented quotation
    in smaller italic, a footnote in small type and the page number."""
    canvas = Canvas(_px(dpi, 5.8), _px(dpi, 8.6), dpi)
    left, top, right, bottom = (_px(dpi, m) for m in (0.8, 0.55, 0.75, 0.6))
    width = canvas.width_px - left - right
    size = float(rng.choice([10.0, 10.5, 11.0]))
    body = Style(family["regular"], size)
    bold = Style(family["bold"], size)
    italic = Style(family["italic"], size)
    small = Style(family["regular"], size * 0.78, 1.2)
    small_italic = Style(family["italic"], size * 0.85, 1.2)
    lines: list[PrintedLine] = []

    # running head and rule
    stream.next_title()  # start the chapter at an article's beginning
    chapter_title = stream.article().title
    running = Frame(left, top, width, canvas.px(size) * 2)
    book_title = stream.article(1).title
    lines += flow(canvas, [running], iter([heading(book_title.upper(), small)])).lines
    rule_y = top + canvas.px(size) * 2
    canvas.rule(left, rule_y, left + width, rule_y, max(1, dpi // 200))

    # footnote and folio at the foot, measured first
    note_text = "1 " + _shortest_paragraph(stream, rng)
    note = paragraph(note_text, small, indent_em=0)
    note_h = sum(r.height_px for r in note.rows(canvas, width))
    folio_h = canvas.px(size) * 2
    foot_top = canvas.height_px - bottom - folio_h - note_h
    body_frame = Frame(left, rule_y + canvas.px(size) * 3, width,
                       foot_top - canvas.px(size) * 1.5 - rule_y - canvas.px(size) * 3)

    def items() -> Iterator[Item]:
        yield heading(f"Chương {chapter}", Style(family["regular"], size * 1.3), space_after_pt=size * 0.5)
        yield heading(chapter_title, Style(family["title"], size * 1.9, 1.15), space_after_pt=size * 1.6)
        styled = emphasis(rng, body, bold, italic)
        count = 0
        while True:
            piece = stream.next_piece()
            if piece.is_title:
                yield heading(piece.text, bold, align="left", space_before_pt=size, space_after_pt=size * 0.4)
                continue
            count += 1
            if count == 1:
                yield paragraph(piece.text + " (1)", body, indent_em=0, styled=styled)
            elif count == 3:
                yield _quotation(piece.text, small_italic, indent_px=canvas.px(size) * 2)
            else:
                yield paragraph(piece.text, body, styled=styled)

    lines += flow(canvas, [body_frame], items()).lines
    note_y = foot_top
    canvas.rule(left, note_y - canvas.px(size) // 2, left + width // 3, note_y - canvas.px(size) // 2,
                max(1, dpi // 300))
    lines += flow(canvas, [Frame(left, note_y, width, note_h + 2)], iter([note])).lines
    folio = Frame(left, canvas.height_px - bottom - folio_h, width, folio_h)
    lines += flow(canvas, [folio], iter([folio_item(int(rng.integers(9, 240)), body)])).lines
    return Sheet(canvas, lines)


def _shortest_paragraph(stream: TextStream, rng: np.random.Generator) -> str:
    """One of the three shortest paragraphs of the article two after the current one."""
    art = stream.article(2)
    candidates = sorted(art.paragraphs, key=len)[:3]
    return candidates[int(rng.integers(0, len(candidates)))]


def _quotation(text: str, style: Style, indent_px: int) -> Item:
    def build(canvas: Canvas, width_px: int) -> list[Row]:
        rows = [space(canvas.px(style.size_pt) // 2)]
        for row in text_rows(canvas, [(text, style)], width_px - 2 * indent_px, indent_px=0):
            rows.append(_shifted(row, indent_px))
        rows.append(space(canvas.px(style.size_pt) // 2))
        return rows

    return Item(build)


def _shifted(row: Row, dx: int) -> Row:
    inner = row

    def paint(canvas: Canvas, x: int, y: int) -> None:
        inner.draw(canvas, x + dx, y)

    return Row(height_px=row.height_px, texts=row.texts, paint=paint)


# ---------------------------------------------------------------- newspaper


def _rule_item(thickness_px: int, gap_px: int) -> Item:
    def build(canvas: Canvas, width_px: int) -> list[Row]:
        def paint(c: Canvas, x: int, y: int) -> None:
            c.rule(x, y + gap_px, x + width_px, y + gap_px, thickness_px)

        return [Row(height_px=2 * gap_px + thickness_px, paint=paint)]

    return block(build)


def _picture_item(rng: np.random.Generator, caption: str, caption_style: Style,
                  height_frac: float) -> Item:
    """A half-tone photograph stand-in (smooth gradients and blobs of grey,
    screened by fine noise) in a thin frame, with its caption centred below."""
    seed = int(rng.integers(0, 2**31))

    def build(canvas: Canvas, width_px: int) -> list[Row]:
        local = np.random.default_rng(seed)
        h = round(width_px * height_frac)
        shape = (h, width_px)
        tone = (0.45 + 0.25 * degrade.smooth_noise(shape, local, h / 3)
                + 0.12 * degrade.smooth_noise(shape, local, 25))
        yy = np.linspace(-0.2, 0.2, h, dtype=np.float32)[:, None]
        tone = np.clip(tone + yy + 0.08 * local.standard_normal(shape).astype(np.float32), 0.03, 0.97)

        def paint(c: Canvas, x: int, y: int) -> None:
            patch = Image.fromarray(np.uint8(tone * 255))
            c.image.paste(patch, (x, y))
            c.draw.rectangle([x, y, x + width_px - 1, y + h - 1], outline=255, width=2)

        rows = [Row(height_px=h + canvas.px(3), paint=paint)]
        rows += text_rows(canvas, [(caption, caption_style)], width_px, align="center")
        rows.append(space(canvas.px(6)))
        return rows

    return block(build)


def _boxed_item(title: str, text: str, title_style: Style, body: Style, max_rows: int) -> Item:
    """An article in a ruled box: title, then as many whole lines of ``text`` as
    fit in ``max_rows`` (the box's printed lines are its truth)."""

    def build(canvas: Canvas, width_px: int) -> list[Row]:
        pad = canvas.px(5)
        inner = width_px - 2 * pad
        rows = text_rows(canvas, [(title, title_style)], inner, align="center")
        rows += [space(canvas.px(3))]
        rows += text_rows(canvas, [(text, body)], inner, indent_px=canvas.px(body.size_pt))[:max_rows]
        height = sum(r.height_px for r in rows) + 2 * pad

        def paint(c: Canvas, x: int, y: int) -> None:
            c.draw.rectangle([x, y, x + width_px - 1, y + height - 1], outline=255, width=3)
            yy = y + pad
            for r in rows:
                r.draw(c, x + pad, yy)
                yy += r.height_px

        texts = tuple(t for r in rows for t in r.texts)
        return [Row(height_px=height, texts=texts, paint=paint), space(canvas.px(6))]

    return block(build)


def newspaper_page(split: str, stream: TextStream, rng: np.random.Generator, *, dpi: int,
                   index: int) -> Sheet:
    """A three-column newspaper page: masthead and issue line between rules, a
    headline across the columns, three narrow columns with thin rules between
    them (an article, a picture with caption and a second article, a boxed
    article and a third), a rule, a second headline across the columns and
    one article flowing through the three columns below it."""
    canvas = Canvas(_px(dpi, 8.0), _px(dpi, 11.0), dpi)
    margin = _px(dpi, 0.4)
    gutter = _px(dpi, 0.13)
    full = canvas.width_px - 2 * margin
    col_w = (full - 2 * gutter) // 3
    body_pt = float(rng.choice([7.5, 8.0]))
    serif = str(rng.choice(["free-serif", "noto-serif", "dejavu-serif"]))
    sans_bold = str(rng.choice(["free-sans-bold", "dejavu-sans-bold", "noto-sans-bold"]))
    body = Style(serif, body_pt, 1.18)
    italic = Style("free-serif-italic" if serif == "free-serif" else "noto-serif-italic", body_pt * 0.95, 1.15)
    sub = Style(sans_bold, body_pt * 1.3, 1.15)
    lines: list[PrintedLine] = []
    thin = max(2, dpi // 150)

    name, issue = MASTHEADS[split][index % len(MASTHEADS[split])]
    y = margin
    top = Frame(margin, y, full, _px(dpi, 1.3), column=-1)
    result = flow(canvas, [top], iter([
        heading(name, Style("noto-serif-display-bold", 40, 1.1)),
        heading(issue, Style(serif, 8.5, 1.4), space_before_pt=2),
    ]))
    lines += result.lines
    y = result.bottoms_px[0] + canvas.px(2)
    canvas.rule(margin, y, margin + full, y, thin * 2)
    canvas.rule(margin, y + thin * 3, margin + full, y + thin * 3, thin)
    y += thin * 3 + canvas.px(8)

    def headline(text: str, size_pt: float, y0: int) -> int:
        frame = Frame(margin, y0, full, _px(dpi, 1.6), column=-1)
        res = flow(canvas, [frame], iter([heading(text.upper(), Style(sans_bold, size_pt, 1.12))]))
        lines.extend(res.lines)
        return res.bottoms_px[0] + canvas.px(8)

    y = headline(stream.next_title(), float(rng.choice([17.0, 19.0])), y)
    height_a = round((canvas.height_px - margin - y) * 0.56)
    cols_a = [Frame(margin + c * (col_w + gutter), y, col_w, height_a, column=c) for c in range(3)]

    def col0() -> Iterator[Item]:
        while True:
            yield paragraph(stream.next_paragraph(), body, indent_em=1.2)

    def col1() -> Iterator[Item]:
        yield _picture_item(rng, _caption(stream, rng), italic, float(rng.uniform(0.6, 0.8)))
        yield heading(stream.next_title(), sub, space_after_pt=3)
        while True:
            yield paragraph(stream.next_paragraph(), body, indent_em=1.2)

    def col2() -> Iterator[Item]:
        yield _boxed_item(stream.next_title(), stream.next_paragraph(), sub, body, max_rows=14)
        yield _rule_item(thin, canvas.px(3))
        yield heading(stream.next_title(), sub, space_after_pt=3)
        while True:
            yield paragraph(stream.next_paragraph(), body, indent_em=1.2)

    bottoms = []
    for frame, items in zip(cols_a, (col0(), col1(), col2())):
        res = flow(canvas, [frame], items)
        lines += res.lines
        bottoms.append(res.bottoms_px[0])
    end_a = y + height_a
    for c in (1, 2):
        x = margin + c * (col_w + gutter) - gutter // 2
        canvas.rule(x, y, x, end_a, thin)
    canvas.rule(margin, end_a + canvas.px(3), margin + full, end_a + canvas.px(3), thin * 2)

    y = headline(stream.next_title(), float(rng.choice([14.0, 15.0])), end_a + canvas.px(9))
    cols_b = [Frame(margin + c * (col_w + gutter), y, col_w, canvas.height_px - margin - y, column=c)
              for c in range(3)]
    res = flow(canvas, cols_b, body_items(stream, body, sub))
    lines += res.lines
    for c in (1, 2):
        x = margin + c * (col_w + gutter) - gutter // 2
        canvas.rule(x, y, x, canvas.height_px - margin, thin)
    return Sheet(canvas, lines, multi_column=True)


def _caption(stream: TextStream, rng: np.random.Generator) -> str:
    """A caption: the first sentence-like stretch (8–16 words) of a paragraph."""
    words = stream.next_paragraph().split()
    n = int(rng.integers(8, 17))
    text = " ".join(words[:n]).rstrip(",;:")
    return text if text.endswith((".", "”")) else text + "."
