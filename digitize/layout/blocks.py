"""Text blocks: lines stacked into rectangles that can be read whole, then
named (body text, headline, caption, running head or folio).

A line joins the block above it when it sits close under it, overlaps it
sideways, has type of the same size, no rule lies between them, and the
grown rectangle would not take in a wall (picture, column rule, frame) or a
line of another block: so text flowing round a picture is cut into
rectangles that each read cleanly. Then a block lying inside another, or a
sliver of a few letters beside one (line starts cut off by worn type), is
made one with it, so nothing is read twice or in pieces. Working pixels
throughout (see :mod:`digitize.layout.ink`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from digitize.layout.ink import Coverage
from digitize.layout.lines import Lines
from digitize.layout.regions import CAPTION, FURNITURE, HEADLINE, TEXT

LINE_GAP_CHARS = 1.6  # a line this far under a block (in char heights) still joins it
LINE_OVERLAP = 0.5  # ... when it overlaps the block sideways by this share of the narrower
SIZE_RATIO = 1.35  # ... and its type is within this ratio of the block's
FEW_CHARS_FOR_SIZE = 8  # (a line piece of fewer characters tells its size poorly: ...
LOOSE_SIZE_RATIO = 2.0  # ... it needs only be within this ratio)
HEADLINE_SIZE = 1.35  # type this much bigger than the body text makes a headline ...
HEADLINE_WEIGHT = 1.3  # ... and so does type this much heavier (bold capitals, display faces)
HEAVY_HEADLINE_LINES = 2  # ... when it is no longer than this many lines
FURNITURE_BAND = 0.15  # running heads and folios lie within this share of the page from the top or bottom
CAPTION_GAP_CHARS = 4.0  # a caption sits this close under its picture ...
CAPTION_MAX_LINES = 8  # ... and is short
FURNITURE_MAX_LINES = 2
MARGIN_TOLERANCE_CHARS = 1.0
FRAGMENT_WIDTH_CHARS = 5.0  # a block this narrow (in its char heights) ...
FRAGMENT_ROWS_SHARE = 0.6  # ... sharing this share of its rows with a wider block ...
FRAGMENT_GAP_CHARS = 5.0  # ... this close beside it, joins it
OVERLAP_SHARE = 0.5  # a block this much inside another is one with it
ACCENT_HEIGHT_SHARE = 0.6  # a block this low (in the char heights of the block under it) ...
ACCENT_WIDTH_CHARS = 1.5  # ... and this narrow, within its width ...
ACCENT_GAP_SHARE = 0.3  # ... and at most this far above it is a mark split off its letters
WALL_MARGIN_CHARS = 0.5  # walls touching a block's edge within this margin do not count
WALL_CORE_CHARS = 1.5  # a rule this far inside a block's edges, down half its height, is a wall
WALL_PIXELS_CHARS2 = 1.0  # a block may take in this many char_px² of picture or column rule, no more
TIGHT_GAP_CHARS = 0.5  # a one-line headline this close to the text above and below it ...
TIGHT_SIZE = 1.6  # ... in type at most this much bigger than the body's is a line of the text
ROW_SHARE = 0.7  # blocks of body text side by side on this share of the shorter one's rows ...
ROW_GAP_CHARS = 8.0  # ... at most this many char heights apart ...
ROW_COLUMN_SLACK = 1.1  # ... together no wider than this many times the usual body block are one paragraph
ROW_MIN_HEIGHT_CHARS = 2.2  # ... when each is at least two lines tall (pieces of one row are not a paragraph)
RUN_GAP_CHARS = 2.0  # blocks of body text this close one under the other (in body char heights) ...
RUN_OVERLAP = 0.8  # ... overlapping sideways by this share of the narrower ...
RUN_EDGE_CHARS = 3.0  # ... with a left or right edge within this many body char heights (or the
# narrower within the wider give or take this) are one run


@dataclass(eq=False)
class Block:
    """A rectangle of lines: ``box`` ``[x0, y0, x1, y1]`` end exclusive,
    working pixels; ``lines`` indices into the page's :class:`Lines`."""

    box: list[int]
    lines: list[int] = field(default_factory=list)
    char_px: float = 0.0
    weight_px: float = 0.0
    kind: str = TEXT

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


def stack_lines(lines: Lines, rule_boxes: np.ndarray, walls: Coverage) -> list[Block]:
    """Group lines (sorted top to bottom) into blocks; ``walls`` (pictures,
    column rules, frames) are not to be taken in."""
    owner = np.full(len(lines), -1)
    blocks: list[Block] = []
    active: list[int] = []  # blocks a later line may still join
    boxes = lines.boxes
    for i in range(len(lines)):
        x0, y0, x1, y1 = (int(v) for v in boxes[i])
        size = float(lines.char_px[i])
        active = [b for b in active if y0 - blocks[b].box[3] <= LINE_GAP_CHARS * SIZE_RATIO * blocks[b].char_px]
        best, best_overlap = -1, 0
        for b in active:
            block = blocks[b]
            bx0, by0, bx1, by1 = block.box
            gap = y0 - by1
            if gap > LINE_GAP_CHARS * max(size, block.char_px) or y0 < by0:
                continue
            overlap = min(x1, bx1) - max(x0, bx0)
            if overlap < LINE_OVERLAP * min(x1 - x0, bx1 - bx0) or overlap <= best_overlap:
                continue
            ratio = SIZE_RATIO if lines.chars[i] >= FEW_CHARS_FOR_SIZE else LOOSE_SIZE_RATIO
            if max(size, block.char_px) > ratio * min(size, block.char_px):
                continue
            union = (min(x0, bx0), by0, max(x1, bx1), max(y1, by1))
            if _rule_between(rule_boxes, block.box, boxes[i]):
                continue
            if _walled(walls, union, size):
                continue
            if _takes_in(union, boxes[(owner >= 0) & (owner != b)]):
                continue
            best, best_overlap = b, overlap
        if best < 0:
            blocks.append(Block([x0, y0, x1, y1], [i], size, float(lines.weight_px[i])))
            owner[i] = len(blocks) - 1
            active.append(owner[i])
            continue
        block = blocks[best]
        block.box = [min(x0, block.box[0]), block.box[1], max(x1, block.box[2]), max(y1, block.box[3])]
        block.lines.append(i)
        owner[i] = best
        widths = boxes[block.lines, 2] - boxes[block.lines, 0]
        block.char_px = float(np.average(lines.char_px[block.lines], weights=widths))
        block.weight_px = float(np.average(lines.weight_px[block.lines], weights=widths))
    blocks = merge_overlapping(blocks, lines, walls)
    return absorb_accents(absorb_fragments(blocks, lines, walls), lines)


def absorb_accents(blocks: list[Block], lines: Lines) -> list[Block]:
    """Marks of big type split off above their letters (the grave of a
    masthead's "Ỳ", the hook of its "Ự") made one with the block below: left
    alone they were read as a line of their own (psm 7, a stray quote) and
    the masthead without them (``KỶ`` for ``KỲ``). A mark is a block no
    taller than ``ACCENT_HEIGHT_SHARE`` and no wider than
    ``ACCENT_WIDTH_CHARS`` of the lower block's character height, standing
    within its width and touching its top (at most ``ACCENT_GAP_SHARE`` of
    that height above it)."""
    blocks = list(blocks)
    k = 0
    while k < len(blocks):
        mark = blocks[k]
        home = None
        for j, other in enumerate(blocks):
            size = other.char_px
            if j == k or size <= 0:
                continue
            if (mark.height <= ACCENT_HEIGHT_SHARE * size and mark.width <= ACCENT_WIDTH_CHARS * size
                    and other.box[0] <= mark.box[0] and mark.box[2] <= other.box[2]
                    and other.box[1] - ACCENT_GAP_SHARE * size <= mark.box[3] <= other.box[1] + mark.height):
                home = j
                break
        if home is None:
            k += 1
            continue
        blocks[home] = _joined(blocks[home], mark, lines)
        del blocks[k]
        k = 0
    return blocks


def absorb_fragments(blocks: list[Block], lines: Lines, walls: Coverage) -> list[Block]:
    """A narrow block of a few letters beside a block on the same rows (the
    start or end of lines cut off by a gap in worn type) joins that block,
    when no wall stands between them."""
    blocks = list(blocks)
    k = 0
    while k < len(blocks):
        piece = blocks[k]
        size = max(1.0, piece.char_px)
        if piece.width > FRAGMENT_WIDTH_CHARS * size:
            k += 1
            continue
        best = None
        for j, other in enumerate(blocks):
            if j == k or other.width <= piece.width:
                continue
            rows = min(piece.box[3], other.box[3]) - max(piece.box[1], other.box[1])
            gap = max(other.box[0] - piece.box[2], piece.box[0] - other.box[2])
            if rows >= FRAGMENT_ROWS_SHARE * piece.height and gap <= FRAGMENT_GAP_CHARS * size:
                union = _union_box(piece.box, other.box)
                if not _walled(walls, union, size):
                    best = j
                    break
        if best is None:
            k += 1
            continue
        blocks[best] = _joined(blocks[best], piece, lines)
        del blocks[k]
        k = 0
    return blocks


def _union_box(a, b) -> list[int]:
    return [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]


def _joined(a: Block, b: Block, lines: Lines) -> Block:
    members = a.lines + b.lines
    widths = lines.boxes[members, 2] - lines.boxes[members, 0]
    return Block(
        _union_box(a.box, b.box),
        members,
        float(np.average(lines.char_px[members], weights=widths)),
        float(np.average(lines.weight_px[members], weights=widths)),
    )


def merge_overlapping(blocks: list[Block], lines: Lines, walls: Coverage) -> list[Block]:
    """A block lying mostly inside another (a line that could not join the
    block around it, a piece of a line) made one with it, so no text is read
    twice; unless the union would take in a wall."""
    blocks = list(blocks)
    merged = True
    while merged:
        merged = False
        for i in range(len(blocks)):
            for j in range(i + 1, len(blocks)):
                a, b = blocks[i], blocks[j]
                iw = min(a.box[2], b.box[2]) - max(a.box[0], b.box[0])
                ih = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
                if iw <= 1 or ih <= 1 or iw * ih < OVERLAP_SHARE * min(a.width * a.height, b.width * b.height):
                    continue
                union = [min(a.box[0], b.box[0]), min(a.box[1], b.box[1]), max(a.box[2], b.box[2]), max(a.box[3], b.box[3])]
                size = min(a.char_px, b.char_px)
                if _walled(walls, union, size):
                    continue
                blocks[i] = _joined(a, b, lines)
                del blocks[j]
                merged = True
                break
            if merged:
                break
    return blocks


def _walled(walls: Coverage, box, size_px: float) -> bool:
    """Would a block with this box take in a wall (picture, column rule,
    frame)? More than ``WALL_PIXELS_CHARS2`` of them inside it away from its
    edges, or a rule running down half its height well inside it."""
    inner = _inner(box, WALL_MARGIN_CHARS * size_px)
    if walls.pixels(inner)[0] > WALL_PIXELS_CHARS2 * size_px * size_px:
        return True
    x0, y0, x1, y1 = box
    margin = min(int(WALL_CORE_CHARS * size_px), (x1 - x0) // 2)
    core = np.array([x0 + margin, y0, x1 - margin, y1])
    return walls.pixels(core)[0] >= 0.5 * max(1, y1 - y0)


def _inner(box, margin: float) -> np.ndarray:
    """The box shrunk by ``margin`` on every side (never inside out)."""
    x0, y0, x1, y1 = box
    m = int(margin)
    mx, my = min(m, (x1 - x0) // 2), min(m, (y1 - y0) // 2)
    return np.array([x0 + mx, y0 + my, x1 - mx, y1 - my])


def _takes_in(box, others: np.ndarray) -> bool:
    """Does ``box`` take in any of ``others`` (lines of other blocks): more
    than a pixel of it sideways and over half its height? (Lines of close
    set type overlap their neighbours by a few rows; that does not count.)"""
    return bool(_taken_in(box, others).any())


def _taken_in(box, others: np.ndarray) -> np.ndarray:
    """``(k,) bool``: which of ``others`` ``(k, 4)`` ``box`` takes in (see
    :func:`_takes_in`)."""
    if len(others) == 0:
        return np.zeros(0, bool)
    x0, y0, x1, y1 = box
    iw = np.minimum(x1, others[:, 2]) - np.maximum(x0, others[:, 0])
    ih = np.minimum(y1, others[:, 3]) - np.maximum(y0, others[:, 1])
    return (iw > 1) & (ih > 0.5 * (others[:, 3] - others[:, 1]))


def _is_fragment(block: Block, body_px: float) -> bool:
    """A piece of a line of body text a few letters wide (``FRAGMENT_WIDTH_CHARS``):
    the end of a line that faded words cut off."""
    size = max(block.char_px, body_px)
    return block.kind == TEXT and len(block.lines) == 1 and block.width <= FRAGMENT_WIDTH_CHARS * size


def _rule_between(rule_boxes: np.ndarray, upper, lower) -> bool:
    """A horizontal rule between a block and the line below it, under both."""
    if len(rule_boxes) == 0:
        return False
    left, right = max(upper[0], lower[0]), min(upper[2], lower[2])
    top, bottom = upper[3] - 1, lower[1] + 1
    rx0, ry0, rx1, ry1 = rule_boxes.T
    return bool(((ry0 >= top) & (ry1 <= bottom) & (rx0 < right) & (rx1 > left)).any())


@dataclass(frozen=True)
class BodyType:
    """The type of the body text: character height and weight (square root
    of a character's ink area), working pixels."""

    char_px: float
    weight_px: float

    def is_display(self, block: Block) -> bool:
        """Is the block set in bigger type than the body, or is it a line or
        two of heavier type (a headline, a subhead)? Longer heavy blocks are
        body text rich in bold."""
        if block.char_px >= HEADLINE_SIZE * self.char_px:
            return True
        return len(block.lines) <= HEAVY_HEADLINE_LINES and block.weight_px >= HEADLINE_WEIGHT * self.weight_px


def body_type(lines: Lines, default_px: float) -> BodyType:
    """Medians over the lines, each weighted by its width."""
    if len(lines) == 0:
        return BodyType(default_px, default_px)
    widths = (lines.boxes[:, 2] - lines.boxes[:, 0]).astype(float)
    return BodyType(_weighted_median(lines.char_px, widths), _weighted_median(lines.weight_px, widths))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def name_blocks(blocks: list[Block], picture_boxes: np.ndarray, body: BodyType, page_height_px: int) -> None:
    """Set each block's kind: caption under a picture, headline for bigger
    or heavier type, running head or folio (a line or two in the top or
    bottom ``FURNITURE_BAND`` of the page, above or below everything else),
    else text."""
    for block in blocks:
        block.kind = TEXT
        if _is_caption(block, picture_boxes, body.char_px):
            block.kind = CAPTION
        elif body.is_display(block):
            block.kind = HEADLINE
    tolerance = MARGIN_TOLERANCE_CHARS * body.char_px
    band = FURNITURE_BAND * page_height_px
    small = [i for i, b in enumerate(blocks) if b.kind == TEXT and len(b.lines) <= FURNITURE_MAX_LINES]
    if len(small) == len(blocks):
        return  # nothing but a line or two: no margin to speak of
    heads = {i for i in small if blocks[i].box[3] <= band}
    feet = {i for i in small if blocks[i].box[1] >= page_height_px - band}
    for i in heads:
        if all(other.box[1] >= blocks[i].box[3] - tolerance for k, other in enumerate(blocks) if k not in heads):
            blocks[i].kind = FURNITURE
    for i in feet:
        if all(other.box[3] <= blocks[i].box[1] + tolerance for k, other in enumerate(blocks) if k not in feet):
            blocks[i].kind = FURNITURE


def join_column_runs(blocks: list[Block], lines: Lines, rule_boxes: np.ndarray, walls: Coverage,
                     body: BodyType) -> list[Block]:
    """Blocks of body text stacked one right under the other in a column
    (a line of bold words named a headline, a line whose type measured a
    little small, the paragraphs either side of a lost short line) made one
    block, when no rule lies between them and the union takes in no wall
    and no other block (but a few letters of the end of a line, cut off by
    faded words, which go with them). Read apart, each would be a small rectangle cut
    through its neighbours' ascenders and descenders, and tesseract reads
    such slivers poorly or not at all. Headlines in bigger type, captions
    and running heads stay apart."""
    def body_like(block: Block) -> bool:
        if block.kind == TEXT:
            return True
        return block.kind == HEADLINE and block.char_px < HEADLINE_SIZE * body.char_px and \
            len(block.lines) <= HEAVY_HEADLINE_LINES

    blocks = list(blocks)
    char = body.char_px
    set_in_text(blocks, body)
    blocks = join_row_pieces(blocks, lines, walls, body)
    merged = True
    while merged:
        merged = False
        order = sorted(range(len(blocks)), key=lambda k: blocks[k].box[1])
        for a in order:
            upper = blocks[a]
            if not body_like(upper):
                continue
            for b in order:
                lower = blocks[b]
                if b == a or not body_like(lower):
                    continue
                gap = lower.box[1] - upper.box[3]
                if not -0.5 * char <= gap <= RUN_GAP_CHARS * char:
                    continue
                overlap = min(upper.box[2], lower.box[2]) - max(upper.box[0], lower.box[0])
                if overlap < RUN_OVERLAP * min(upper.width, lower.width):
                    continue
                edge = RUN_EDGE_CHARS * char
                aligned = min(abs(upper.box[0] - lower.box[0]), abs(upper.box[2] - lower.box[2])) <= edge
                narrow, wide = (upper, lower) if upper.width <= lower.width else (lower, upper)
                inside = narrow.box[0] >= wide.box[0] - edge and narrow.box[2] <= wide.box[2] + edge
                if not (aligned or inside):
                    continue
                if _rule_between(rule_boxes, upper.box, lower.box):
                    continue
                union = _union_box(upper.box, lower.box)
                if _walled(walls, union, char):
                    continue
                rest = [k for k in range(len(blocks)) if k not in (a, b)]
                others = np.array([blocks[k].box for k in rest], dtype=np.int64).reshape(-1, 4)
                taken = [rest[k] for k in np.flatnonzero(_taken_in(union, others))]
                if not all(_is_fragment(blocks[k], char) for k in taken):
                    continue
                joined = _joined(upper, lower, lines)
                for k in taken:  # the end of a line cut off by faded words goes with it
                    joined = _joined(joined, blocks[k], lines)
                joined.kind = TEXT
                blocks[a] = joined
                for k in sorted([b, *taken], reverse=True):
                    del blocks[k]
                merged = True
                break
            if merged:
                break
    return blocks


def join_row_pieces(blocks: list[Block], lines: Lines, walls: Coverage, body: BodyType) -> list[Block]:
    """Blocks of body text side by side on the same rows (``ROW_SHARE`` of
    the shorter one's height), a few words apart (``ROW_GAP_CHARS``), together no
    wider than a column (``ROW_COLUMN_SLACK`` times the usual width of the
    page's blocks of body text) made one block, when the union takes in no
    wall and no other block: a paragraph whose lines all lost the same faded
    words, cut in two down the gap. Read apart, the left half's lines came
    before the right half's and a headline over both was taken for a
    caption straddling two columns, read at the end of the page. Two
    columns side by side are twice as wide as one."""
    body_widths = [b.width for b in blocks if b.kind == TEXT and len(b.lines) >= 3]
    if not body_widths:
        return blocks
    column_px = float(np.median(body_widths))
    char = body.char_px
    blocks = list(blocks)
    merged = True
    while merged:
        merged = False
        for a, left in enumerate(blocks):
            for b, right in enumerate(blocks):
                if a == b or left.kind != TEXT or right.kind != TEXT:
                    continue
                gap = right.box[0] - left.box[2]
                rows = min(left.box[3], right.box[3]) - max(left.box[1], right.box[1])
                if not 0 <= gap <= ROW_GAP_CHARS * char or rows < ROW_SHARE * min(left.height, right.height):
                    continue
                if min(left.height, right.height) < ROW_MIN_HEIGHT_CHARS * char:
                    continue  # one row's pieces (e.g. across a spread's gutter): not a paragraph cut in two
                union = _union_box(left.box, right.box)
                if union[2] - union[0] > ROW_COLUMN_SLACK * column_px or _walled(walls, union, char):
                    continue
                others = np.array([o.box for k, o in enumerate(blocks) if k not in (a, b)], dtype=np.int64)
                if _takes_in(union, others.reshape(-1, 4)):
                    continue
                blocks[a] = _joined(left, right, lines)
                del blocks[b]
                merged = True
                break
            if merged:
                break
    return blocks


def set_in_text(blocks: list[Block], body: BodyType) -> None:
    """A one-line "headline" set tight between two blocks of body text of
    its column (at most ``TIGHT_GAP_CHARS`` body char heights above and
    below) and in type at most ``TIGHT_SIZE`` times the body's is a line of
    the text with bold words in it ("**đã làm nên cuộc** đổi thay..."): it is
    named text, so the column runs on through it. (Read apart with psm 7, the
    line was lost on the page.) A subhead has space round it."""
    gap_px = TIGHT_GAP_CHARS * body.char_px
    for block in blocks:
        if block.kind != HEADLINE or len(block.lines) != 1 or block.char_px >= TIGHT_SIZE * body.char_px:
            continue
        above = below = False
        for other in blocks:
            if other is block or other.kind != TEXT:
                continue
            overlap = min(block.box[2], other.box[2]) - max(block.box[0], other.box[0])
            if overlap < RUN_OVERLAP * min(block.width, other.width):
                continue
            above |= abs(block.box[1] - other.box[3]) <= gap_px
            below |= abs(other.box[1] - block.box[3]) <= gap_px
        if above and below:
            block.kind = TEXT


def _is_caption(block: Block, picture_boxes: np.ndarray, body_px: float) -> bool:
    if len(block.lines) > CAPTION_MAX_LINES or len(picture_boxes) == 0:
        return False
    x0, y0, x1, y1 = block.box
    slack = body_px
    px0, py0, px1, py1 = picture_boxes.T
    within = (x0 >= px0 - slack) & (x1 <= px1 + slack)
    below = (y0 >= py1 - slack) & (y0 - py1 <= CAPTION_GAP_CHARS * body_px)
    return bool((within & below).any())
