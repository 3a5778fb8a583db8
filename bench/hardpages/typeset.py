"""Typesetting: words into lines, lines into rows, rows flowed into frames
(a page's text block, a newspaper column) on an ink canvas.

The canvas is a greyscale ink-coverage image (``"L"``, 0 = bare paper,
255 = full ink), at the page's print resolution. Every printed text line is
recorded as it is placed, with the column of the frame it lands in, so the
ground truth is exactly what was drawn, in reading order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from . import fonts


@dataclass(frozen=True)
class Style:
    """A type style: ``font`` is a key of ``fonts.TYPEFACES``; ``leading`` is the
    line pitch over the em size."""

    font: str
    size_pt: float
    leading: float = 1.25


@dataclass
class Canvas:
    """An ink-coverage image being printed on, and the fonts used on it."""

    width_px: int
    height_px: int
    dpi: int
    image: Image.Image = field(init=False)
    draw: ImageDraw.ImageDraw = field(init=False)
    fonts_used: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.image = Image.new("L", (self.width_px, self.height_px), 0)
        self.draw = ImageDraw.Draw(self.image)

    def px(self, points: float) -> int:
        """A length in typographic points as whole pixels at this canvas's dpi."""
        return max(1, round(points * self.dpi / 72.0))

    def ink(self) -> np.ndarray:
        """(H, W) float32 ink coverage in [0, 1]."""
        return np.asarray(self.image, dtype=np.float32) / 255.0

    def rule(self, x0: int, y0: int, x1: int, y1: int, width_px: int = 2) -> None:
        """A straight printed rule from (x0, y0) to (x1, y1)."""
        self.draw.line([(x0, y0), (x1, y1)], fill=255, width=width_px)

    def font(self, style: Style):
        self.fonts_used.add(style.font)
        return fonts.pil_font(style.font, self.px(style.size_pt))


# ---------------------------------------------------------------- rows


@dataclass
class Row:
    """One horizontal slice of a frame: ``height_px`` tall, printing ``texts``
    (zero or more truth lines) when drawn at its top-left corner."""

    height_px: int
    texts: tuple[str, ...] = ()
    paint: Callable[[Canvas, int, int], None] | None = None
    is_space: bool = False

    def draw(self, canvas: Canvas, x: int, y: int) -> None:
        if self.paint is not None:
            self.paint(canvas, x, y)


def space(height_px: int) -> Row:
    """Vertical white space (dropped at the top of a frame)."""
    return Row(height_px=height_px, is_space=True)


Run = tuple[str, Style]  # a stretch of text in one style


def _words(runs: Iterable[Run]) -> list[tuple[str, Style]]:
    out = []
    for text, style in runs:
        out.extend((w, style) for w in text.split())
    return out


def text_rows(
    canvas: Canvas,
    runs: Iterable[Run],
    width_px: int,
    *,
    align: str = "justify",
    indent_px: int = 0,
    right_indent_px: int = 0,
) -> list[Row]:
    """Break ``runs`` into lines no wider than ``width_px`` (greedy) and return one
    Row per line. ``align``: justify (last line left), left, center or right.
    Raises fonts.GlyphMissingError if a style's font cannot print a word."""
    words = _words(runs)
    for word, style in words:
        fonts.require_glyphs(style.font, word)
    measured = []
    for word, style in words:
        font = canvas.font(style)
        measured.append(
            (word, style, font.getlength(word, features=fonts.features(style.font)),
             font.getlength(" "))
        )
    lines: list[list[tuple[str, Style, float, float]]] = []
    current: list[tuple[str, Style, float, float]] = []
    used = 0.0
    for item in measured:
        avail = width_px - right_indent_px - (indent_px if not lines else 0)
        extra = item[2] + (current[-1][3] if current else 0.0)
        if current and used + extra > avail:
            lines.append(current)
            current, used = [], 0.0
            extra = item[2]
        current.append(item)
        used += extra
    if current:
        lines.append(current)
    rows = []
    for number, line in enumerate(lines):
        left = indent_px if number == 0 else 0
        avail = width_px - right_indent_px - left
        natural = sum(m[2] for m in line) + sum(m[3] for m in line[:-1])
        gaps = [m[3] for m in line[:-1]]
        if align == "justify" and number < len(lines) - 1 and gaps:
            stretch = (avail - natural) / len(gaps)
            gaps = [g + stretch for g in gaps]
            start = float(left)
        elif align == "center":
            start = left + (avail - natural) / 2
        elif align == "right":
            start = left + avail - natural
        else:
            start = float(left)
        placed = []
        x = start
        for i, (word, style, width, _) in enumerate(line):
            placed.append((word, style, x))
            x += width + (gaps[i] if i < len(gaps) else 0.0)
        rows.append(_line_row(canvas, placed))
    return rows


def _line_row(canvas: Canvas, placed: list[tuple[str, Style, float]]) -> Row:
    big = max(placed, key=lambda p: p[1].size_pt)[1]

    def paint(canvas: Canvas, x: int, y: int) -> None:
        size_px = canvas.px(big.size_pt)
        height = round(size_px * big.leading)
        baseline = y + round((height - size_px) / 2 + 0.80 * size_px)
        for word, style, dx in placed:
            canvas.draw.text(
                (x + dx, baseline), word, font=canvas.font(style), fill=255, anchor="ls",
                features=fonts.features(style.font),
            )

    text = " ".join(p[0] for p in placed)
    return Row(height_px=round(canvas.px(big.size_pt) * big.leading), texts=(text,), paint=paint)


# ---------------------------------------------------------------- items and flow


@dataclass
class Item:
    """Something to flow: builds its rows for a given width. ``keep_together``
    items move whole to the next frame when they do not fit."""

    build: Callable[[Canvas, int], list[Row]]
    keep_together: bool = False

    def rows(self, canvas: Canvas, width_px: int) -> list[Row]:
        return self.build(canvas, width_px)


def paragraph(text: str, style: Style, *, indent_em: float = 1.5, align: str = "justify",
              space_after_pt: float = 0.0, styled: Callable[[str], list[Run]] | None = None) -> Item:
    """A body paragraph with a first-line indent; ``styled`` may split it into
    runs of other styles (bold and italic words)."""

    def build(canvas: Canvas, width_px: int) -> list[Row]:
        runs = styled(text) if styled else [(text, style)]
        rows = text_rows(canvas, runs, width_px, align=align,
                         indent_px=round(indent_em * canvas.px(style.size_pt)))
        if space_after_pt:
            rows.append(space(canvas.px(space_after_pt)))
        return rows

    return Item(build)


def heading(text: str, style: Style, *, align: str = "center", space_before_pt: float = 0.0,
            space_after_pt: float = 0.0) -> Item:
    """A heading kept in one piece, with white space around it."""

    def build(canvas: Canvas, width_px: int) -> list[Row]:
        rows = []
        if space_before_pt:
            rows.append(space(canvas.px(space_before_pt)))
        rows += text_rows(canvas, [(text, style)], width_px, align=align)
        if space_after_pt:
            rows.append(space(canvas.px(space_after_pt)))
        return rows

    return Item(build, keep_together=True)


def block(rows_builder: Callable[[Canvas, int], list[Row]]) -> Item:
    """Any unsplittable block (picture, box, rule)."""
    return Item(rows_builder, keep_together=True)


@dataclass(frozen=True)
class Frame:
    """A rectangle text flows into, top to bottom; ``column`` is recorded with
    each line placed in it (None for single-column pages, -1 for spanning)."""

    x_px: int
    y_px: int
    width_px: int
    height_px: int
    column: int | None = None


@dataclass(frozen=True)
class PrintedLine:
    text: str
    column: int | None


@dataclass
class FlowResult:
    lines: list[PrintedLine]
    bottoms_px: list[int]  # where each frame's content ended
    exhausted: bool  # True if the items ran out before the frames filled


def flow(canvas: Canvas, frames: list[Frame], items: Iterator[Item], *,
         max_items: int = 10_000) -> FlowResult:
    """Place rows from ``items`` into ``frames`` in order until the frames are
    full (an item that does not fit is cut at a row boundary, or moved whole to
    the next frame when it must be kept together). Draws on ``canvas``."""
    lines: list[PrintedLine] = []
    bottoms = [f.y_px for f in frames]
    index, y = 0, frames[0].y_px if frames else 0
    pending: list[Row] = []
    exhausted = False
    for _ in range(max_items):
        if index >= len(frames):
            break
        frame = frames[index]
        if not pending:
            item = next(items, None)
            if item is None:
                exhausted = True
                break
            pending = item.rows(canvas, frame.width_px)
            if item.keep_together:
                total = sum(r.height_px for r in pending)
                if y + total > frame.y_px + frame.height_px and y > frame.y_px:
                    index += 1
                    if index >= len(frames):
                        break
                    frame = frames[index]
                    y = frame.y_px
                    pending = item.rows(canvas, frame.width_px)
                pending = [_group(pending)]
        while pending and index < len(frames):
            frame = frames[index]
            row = pending[0]
            if row.is_space and y == frame.y_px:
                pending.pop(0)
                continue
            if y + row.height_px > frame.y_px + frame.height_px:
                index += 1
                if index < len(frames):
                    y = frames[index].y_px
                continue
            row.draw(canvas, frame.x_px, y)
            lines.extend(PrintedLine(t, frame.column) for t in row.texts)
            y += row.height_px
            bottoms[index] = y
            pending.pop(0)
    return FlowResult(lines=lines, bottoms_px=bottoms, exhausted=exhausted)


def _group(rows: list[Row]) -> Row:
    """Rows drawn one under the other as a single unsplittable row."""
    leading_space = 0
    while rows and rows[0].is_space:
        leading_space += rows[0].height_px
        rows = rows[1:]

    def paint(canvas: Canvas, x: int, y: int) -> None:
        for row in rows:
            row.draw(canvas, x, y)
            y += row.height_px

    texts = tuple(t for r in rows for t in r.texts)
    group = Row(height_px=sum(r.height_px for r in rows), texts=texts, paint=paint)
    if leading_space:
        # keep the white space before a heading, except at a frame's top
        return _Spaced(group, leading_space)
    return group


class _Spaced(Row):
    def __init__(self, inner: Row, before_px: int):
        super().__init__(height_px=inner.height_px + before_px, texts=inner.texts)
        self._inner, self._before = inner, before_px

    def draw(self, canvas: Canvas, x: int, y: int) -> None:
        self._inner.draw(canvas, x, y + self._before)
