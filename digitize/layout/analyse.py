"""The recipe of layout analysis, stage by stage.

    working copy (reduced so body text is ~8 px high) → rules (straight
    runs of ink; faint column rules) → components (characters, pictures,
    frames, the scanner's border) → gutters (whitespace between columns) →
    text lines → blocks → kinds (headline, caption, running head or folio)
    → columns → reading order → regions in page pixels, and the verdict:
    read by regions, or leave the page to tesseract's own layout

Every stage works on the small copy, so a 300-dpi magazine page costs about
a tenth of a second and a 33-megapixel broadsheet about half a second.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from digitize import preprocess
from digitize.layout import order as ordering
from digitize.layout.blocks import Block, body_type, join_column_runs, name_blocks, stack_lines
from digitize.layout.ink import (
    BORDER,
    CHAR,
    FRAME,
    PICTURE,
    RULE_H,
    RULE_V,
    Coverage,
    PageInk,
    page_ink,
    picture_area,
    reduction_factor,
)
from digitize.layout.lines import Lines, find_lines
from digitize.layout.regions import (
    CAPTION,
    FURNITURE,
    HEADLINE,
    IMAGE,
    PSM_BLOCK,
    PSM_LINE,
    PSM_NONE,
    RULE,
    TEXT,
    PageLayout,
    Region,
)
from digitize.layout.whitespace import gutters

MAX_SKEW_DEG = 2.0  # skew measured within this; the pipeline straightens pages skewed more than 1°
PAD_CHARS = 0.35  # read regions are padded by this many character heights (the body's or their own)
LINE_MODE_CHARS = 2.5  # a one-line block at most this many char heights high is read as a line (psm 7)
MIN_COLUMN_LINES = 3  # a column needs at least this many lines of body text to count
MIN_STACKED_SHARE = 0.9  # below this share of body lines in real blocks, the layout is not trusted
STRADDLE_REACH = 1.0  # a caption straddles columns whose text comes this many of its heights near
STACK_GAP_LINES = 1.0  # headlines this close (in lines of the lower one) are read as one stack ...
STACK_SLACK_LINES = 0.5  # ... the narrower within the wider give or take this
SECTION_RULE_SHARE = 0.6  # a horizontal rule this share of the text's width long ends a section
RULE_JOIN_SHARE = 0.03  # pieces of a rule this share of the text's width apart are one rule
SPLIT_MARGIN_CHARS = 2.0  # a block reaching this far past a column's left edge on both sides of it ...
SPLIT_REACH_LINES = 3.0  # ... with a narrower block of text this many lines above or below it ...
SPLIT_BAND_CHARS = 2.0  # ... is cut in a gutter found this near the column's left edge ...
SPLIT_INK_SHARE = 0.1  # ... a column of pixels with ink on at most this share of the block's rows
NEIGHBOUR_SHARE = 0.5  # a block along this share of a region's side (or of its own) keeps the padding off it ...
NEIGHBOUR_MIN_SHARE = 0.25  # ... if it is at least this share of the side long


def analyse_layout(
    image: Image.Image,
    *,
    text_height_px: float | None = None,
    dpi: float | None = None,
    skew_deg: float | None = None,
) -> PageLayout:
    """Find the regions of an upright page ("L" or "1") and the order to
    read them in.

    ``text_height_px`` (a body text line, ascenders to descenders, in pixels
    of ``image``) or ``dpi`` set the working resolution; without them the
    text is measured. A residual skew (``skew_deg``, counter-clockwise
    positive; measured when None) is straightened on the working copy only.
    Boxes come back in pixels of ``image``, upright rectangles holding the
    (possibly slightly tilted) regions.
    """
    if skew_deg is None or not (text_height_px or dpi):
        small, x_scale, y_scale = preprocess.analysis_copy(image if image.mode == "L" else image.convert("L"))
        if skew_deg is None:
            skew_deg = preprocess.estimate_skew_deg(small, x_scale=x_scale, y_scale=y_scale, max_deg=MAX_SKEW_DEG)
        if not (text_height_px or dpi):
            text_height_px = preprocess.estimate_text_height_px(
                small, x_scale=x_scale, y_scale=y_scale, skew_deg=skew_deg
            )
    factor = reduction_factor(image.size, text_height_px=text_height_px, dpi=dpi)
    page = page_ink(image, factor, skew_deg)
    if page.blank:
        return PageLayout((), 0, False, ("blank page",))
    text = page.mask(CHAR).view(np.uint8)
    obstacles = page.mask(RULE_H, RULE_V, PICTURE, FRAME, BORDER) | page.rules
    pictures = merge_boxes(page.boxes(PICTURE))
    rules_h = merge_boxes(np.concatenate([page.rules_h, page.boxes(RULE_H)]))
    rules_v = merge_boxes(np.concatenate([page.rules_v, page.boxes(RULE_V)]))
    gutter_mask, _ = gutters(page, text, obstacles & ~page.rules)  # a gutter may hold a column rule
    picture_mask = picture_area(page)
    lines = find_lines(page, text, gutter_mask | obstacles | picture_mask, Coverage(picture_mask))
    walls = picture_mask | page.mask(RULE_V, FRAME) | page.column_rules
    blocks = stack_lines(lines, rules_h, Coverage(walls))
    body = body_type(lines, page.char_px)
    name_blocks(blocks, pictures, body, page.shape[0])
    blocks = join_column_runs(blocks, lines, rules_h, Coverage(walls), body)
    starts = body_columns(blocks, body.char_px)
    split = split_across_gutters(blocks, starts, body.char_px, text)
    if len(split) != len(blocks):
        blocks = join_column_runs(split, lines, rules_h, Coverage(walls), body)
        starts = body_columns(blocks, body.char_px)
    sequence = read_sequence(blocks, page.shape[0], rules_h)
    return assemble(page, image.size, blocks, sequence, starts, pictures, np.concatenate([rules_h, rules_v]), body.char_px,
                    lines)


def group_articles(layout: PageLayout) -> PageLayout:
    """The same layout with ``article`` set on text, headlines and captions
    where a headline makes the grouping clear (see :func:`order.articles`)."""
    regions = list(layout.regions)
    boxes = np.array([r.box for r in regions], dtype=np.int64).reshape(-1, 4)
    heads = np.array([r.kind == HEADLINE for r in regions], bool)
    texts = np.array([r.kind in (TEXT, CAPTION) for r in regions], bool)
    heights = [r.h for r in regions if r.kind == HEADLINE and r.psm == PSM_LINE]
    gap_px = float(np.median(heights)) if heights else 0.0  # a deck sits within a headline's height
    found = ordering.articles(boxes, heads, texts, gap_px)
    found = _with_body_text(found, regions)
    updated = tuple(
        Region(r.kind, r.x, r.y, r.w, r.h, r.order, r.column, r.psm, int(a) if a >= 0 else None, r.lines)
        for r, a in zip(regions, found)
    )
    return PageLayout(updated, layout.columns, layout.multi_column, layout.reasons)


def _with_body_text(found: np.ndarray, regions: list[Region]) -> np.ndarray:
    """``found`` with only the articles that have body text (a text region read as a block, not a
    single line), numbered 0, 1 … in reading order: a masthead over its dateline, or a headline
    whose story is elsewhere, is no article."""
    bodies = {int(a) for a, r in zip(found, regions) if a >= 0 and r.kind == TEXT and r.psm != PSM_LINE}
    first: dict[int, int] = {}
    for a, r in zip(found, regions):
        if a in bodies and r.order >= 0:
            first[int(a)] = min(first.get(int(a), r.order), r.order)
    numbers = {a: n for n, a in enumerate(sorted(bodies, key=lambda a: (first.get(a, 1 << 30), a)))}
    return np.array([numbers.get(int(a), -1) for a in found], dtype=np.int64)


# ---------------------------------------------------------------------- stages
def merge_boxes(boxes: np.ndarray) -> np.ndarray:
    """Overlapping boxes merged into their unions, ``(k, 4)``."""
    merged = [list(b) for b in boxes]
    changed = True
    while changed and len(merged) > 1:
        changed = False
        out: list[list[int]] = []
        for box in merged:
            for other in out:
                if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                    other[:] = [min(box[0], other[0]), min(box[1], other[1]), max(box[2], other[2]), max(box[3], other[3])]
                    changed = True
                    break
            else:
                out.append(box)
        merged = out
    return np.array(merged, dtype=np.int64).reshape(-1, 4)


def body_columns(blocks: list[Block], char_px: float) -> np.ndarray:
    """The usual left edge of each column of body text, working pixels,
    left to right (``(k,)``; empty when the page has no body text)."""
    body = [b for b in blocks if b.kind == TEXT and len(b.lines) >= MIN_COLUMN_LINES]
    if not body:
        return np.zeros(0)
    boxes = np.array([b.box for b in body], dtype=np.int64)
    columns, column = ordering.columns_by_rows(boxes, max(1, int(char_px)))
    starts = [np.median(boxes[column == k, 0]) for k in range(columns) if (column == k).any()]
    return np.array(sorted(starts))


def split_across_gutters(blocks: list[Block], starts: np.ndarray, char_px: float, text: np.ndarray) -> list[Block]:
    """Blocks of body text run across a gutter the whitespace analysis
    missed (a gutter a character wide, lines almost touching across it) cut
    in that gutter, next to a column's left edge (``starts``, working
    pixels): a column of pixels there, within ``SPLIT_BAND_CHARS``, with ink
    (``text``, the working mask of letters) on at most ``SPLIT_INK_SHARE`` of
    the block's rows. Only when the block stands among narrower blocks of
    those columns (one of them within ``SPLIT_REACH_LINES`` lines above or
    below, its edge at the cut): read whole, its lines ran on from one column
    into the next and the page's reading order was lost there. A line of
    body type across the page above the columns (an issue line) has no such
    neighbours; a magazine's text running on round a picture has no gutter
    there."""
    if len(starts) < 2:
        return blocks
    out = list(blocks)
    band = max(1, int(round(SPLIT_BAND_CHARS * char_px)))
    for block in blocks:
        if block.kind != TEXT:
            continue
        x0, y0, x1, y1 = block.box
        inner = []
        for start in starts[1:]:
            lo, hi = max(x0 + 1, int(start) - band), min(x1 - 1, int(start) + band // 2)
            if not (x0 + SPLIT_MARGIN_CHARS * char_px < start < x1 - SPLIT_MARGIN_CHARS * char_px) or hi <= lo:
                continue
            ink = text[y0:y1, lo:hi].astype(bool).sum(axis=0)
            best = int(np.argmin(ink))
            if ink[best] <= SPLIT_INK_SHARE * (y1 - y0):
                inner.append(lo + best)
        if not inner:
            continue
        reach = SPLIT_REACH_LINES * 2 * char_px
        near = [o for o in blocks if o is not block and o.kind == TEXT and o.width < 0.7 * block.width
                and (0 <= block.box[1] - o.box[3] <= reach or 0 <= o.box[1] - block.box[3] <= reach)
                and min(o.box[2], block.box[2]) - max(o.box[0], block.box[0]) > 0]
        edge = SPLIT_BAND_CHARS * char_px
        inner = [x for x in inner if any(abs(o.box[2] - x) <= edge or abs(o.box[0] - x) <= edge for o in near)]
        if not inner:
            continue
        cuts = [x0] + inner + [x1]
        out.remove(block)
        for left, right in zip(cuts[:-1], cuts[1:]):
            out.append(Block([left, block.box[1], right, block.box[3]], list(block.lines), block.char_px,
                             block.weight_px, block.kind))
    return out


def read_sequence(blocks: list[Block], page_height_px: int, rules_h: np.ndarray | None = None) -> list[int]:
    """Block indices in reading order: running heads; then the text,
    headlines and captions by Breuel's rules (a stack of headlines, as a
    headline with its deck, ordered as one), section by section where
    horizontal rules run across most of the text (``rules_h``, working
    boxes: a headline narrower than the columns under the rule would let
    the first column run on into the next section); then captions that
    straddle columns (they would cut a column's text in two); then
    folios."""
    def group(kind: str) -> list[int]:
        return [i for i, b in enumerate(blocks) if b.kind == kind]

    heads = [i for i in group(FURNITURE) if blocks[i].box[3] <= page_height_px / 2]
    feet = [i for i in group(FURNITURE) if i not in heads]
    texts = np.array([blocks[i].box for i in group(TEXT)], dtype=np.int64).reshape(-1, 4)
    aside = [i for i in group(CAPTION) if _straddles(blocks[i].box, texts)]
    stacks = headline_stacks(blocks, group(HEADLINE))
    units = [[i] for i in group(TEXT) + group(CAPTION) if i not in aside] + stacks
    unit_boxes = np.array([_union([blocks[i].box for i in unit]) for unit in units], dtype=np.int64).reshape(-1, 4)
    for k in range(len(units) - len(stacks), len(units)):
        unit_boxes[k] = _over_columns(unit_boxes[k], texts)
    band = np.zeros(len(units), int)
    if rules_h is not None and len(texts):
        width = texts[:, 2].max() - texts[:, 0].min()
        band = ordering.sections(unit_boxes, rules_h, SECTION_RULE_SHARE * width, RULE_JOIN_SHARE * width)
    flow = []
    for b in np.unique(band):
        members = np.flatnonzero(band == b)
        for k in ordering.reading_order(unit_boxes[members]):
            flow.extend(sorted(units[members[k]], key=lambda i: blocks[i].box[1]))
    return _ordered(blocks, heads) + flow + _ordered(blocks, aside) + _ordered(blocks, feet)


def _over_columns(box: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """A headline's box widened to the columns of text starting right under
    it (within its own height): it governs those columns whole, so a line
    in one of them cannot slip before the columns above the headline."""
    x0, y0, x1, y1 = (int(v) for v in box)
    if len(texts) == 0:
        return box
    under = (texts[:, 1] >= y1 - 1) & (texts[:, 1] <= y1 + (y1 - y0))
    shared = np.minimum(x1, texts[:, 2]) - np.maximum(x0, texts[:, 0])
    width = np.minimum(x1 - x0, texts[:, 2] - texts[:, 0])
    under &= shared >= ordering.OVERLAP_SHARE * width
    if not under.any():
        return box
    return np.array([min(x0, texts[under, 0].min()), y0, max(x1, texts[under, 2].max()), y1])


def _straddles(box, texts: np.ndarray) -> bool:
    """Does the box overlap sideways two text blocks that stand side by side
    near it (within ``STRADDLE_REACH`` of its height above or below)?"""
    if len(texts) < 2:
        return False
    reach = STRADDLE_REACH * (box[3] - box[1])
    near = (texts[:, 3] >= box[1] - reach) & (texts[:, 1] <= box[3] + reach)
    touching = texts[near & ((np.minimum(box[2], texts[:, 2]) - np.maximum(box[0], texts[:, 0])) > 0)]
    return bool((touching[:, 2][:, None] <= touching[:, 0][None, :]).any())


def headline_stacks(blocks: list[Block], heads: list[int]) -> list[list[int]]:
    """Headlines stacked one under the other (within a line of the lower
    one's type, the narrower within the other's width): lists of indices."""
    stacks: list[list[int]] = []
    for i in sorted(heads, key=lambda i: blocks[i].box[1]):
        x0, y0, x1, _ = blocks[i].box
        for stack in stacks:
            bx0, _, bx1, by1 = blocks[stack[-1]].box
            line_px = blocks[i].height / max(1, len(blocks[i].lines))
            close = -1 <= y0 - by1 <= STACK_GAP_LINES * line_px
            slack = STACK_SLACK_LINES * line_px
            nested = (bx0 - slack <= x0 and x1 <= bx1 + slack) or (x0 - slack <= bx0 and bx1 <= x1 + slack)
            if close and nested:
                stack.append(i)
                break
        else:
            stacks.append([i])
    return stacks


def _union(boxes) -> list[int]:
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _ordered(blocks: list[Block], indices: list[int]) -> list[int]:
    boxes = np.array([blocks[i].box for i in indices], dtype=np.int64).reshape(-1, 4)
    return [indices[k] for k in ordering.reading_order(boxes)]


def assemble(
    page: PageInk,
    size: tuple[int, int],
    blocks: list[Block],
    sequence: list[int],
    starts: np.ndarray,
    pictures: np.ndarray,
    rules: np.ndarray,
    body_px: float,
    lines: Lines | None = None,
) -> PageLayout:
    """Regions in pixels of the page, the reading ones first, and the verdict
    (each read region with its ``lines``' boxes when they are given)."""
    width, height = size
    regions: list[Region] = []
    tight = [_page_box(page, blocks[index].box) for index in sequence]
    for rank, index in enumerate(sequence):
        block = blocks[index]
        column = ordering.column_of(block.box, starts) if block.kind != FURNITURE else None
        psm = reading_mode(block, body_px)
        pad = PAD_CHARS * max(body_px, block.char_px) * page.factor  # big type wants a wider margin
        box = padded_short_of_neighbours(tight[rank], pad, tight[:rank] + tight[rank + 1:])
        region = _region(block.kind, *box, width, height, rank, column, psm)
        if lines is not None and block.lines:
            region = replace(region, lines=region_lines(page, lines, block.lines, region))
        regions.append(region)
    for box in pictures:
        regions.append(_region(IMAGE, *_page_box(page, box), width, height, -1, None, PSM_NONE))
    for box in rules:
        regions.append(_region(RULE, *_page_box(page, box), width, height, -1, None, PSM_NONE))
    columns = len(starts)
    reasons = [f"{columns} column{'s' if columns != 1 else ''} of body text", f"{len(sequence)} text regions"]
    if page.frame.turned:
        reasons.append(f"analysed straightened by {page.frame.skew_deg:+.2f}°")
    if len(pictures):
        reasons.append(f"{len(pictures)} picture{'s' if len(pictures) != 1 else ''}")
    stacked = stacked_share(blocks)
    multi = columns >= 2 and stacked >= MIN_STACKED_SHARE
    if columns < 2:
        reasons.append("one column: tesseract's own layout is enough")
    elif not multi:
        reasons.append(f"fragmented: only {stacked:.0%} of the body lines stack into blocks; tesseract's own layout is safer")
    else:
        reasons.append("read by regions")
    return PageLayout(tuple(regions), columns, multi, tuple(reasons))


def region_lines(page: PageInk, lines: Lines, indices, region: Region) -> tuple[tuple[int, int, int, int], ...]:
    """The boxes of a block's ``lines`` (indices into ``lines``) in page
    pixels, ``(x0, y0, x1, y1)`` clipped to ``region``, top to bottom."""
    x0, y0, x1, y1 = region.box
    found = []
    for index in indices:
        lx0, ly0, lx1, ly1 = _page_box(page, lines.boxes[index])
        box = (max(x0, int(np.floor(lx0))), max(y0, int(np.floor(ly0))),
               min(x1, int(np.ceil(lx1))), min(y1, int(np.ceil(ly1))))
        if box[2] > box[0] and box[3] > box[1]:
            found.append(box)
    return tuple(sorted(found, key=lambda b: (b[1], b[0])))


def padded_short_of_neighbours(box, pad: float, others) -> tuple[float, float, float, float]:
    """A block's page box ``(x0, y0, x1, y1)`` grown by ``pad`` on every
    side, but never past the midpoint of the gap to a neighbouring block
    (``others``, their page boxes) above, below or beside it (see
    :func:`_alongside`): in close-set newspaper columns a block's padding
    reached the tops of the next block's first line, and tesseract read that
    half line as a line of garbage."""
    x0, y0, x1, y1 = box
    top, bottom, left, right = y0 - pad, y1 + pad, x0 - pad, x1 + pad
    for ox0, oy0, ox1, oy1 in others:
        beside_rows = _alongside(x0, x1, ox0, ox1)
        beside_cols = _alongside(y0, y1, oy0, oy1)
        if beside_rows and oy0 >= y1 - pad and oy0 < bottom:
            bottom = min(bottom, max(y1, (y1 + oy0) / 2))
        if beside_rows and oy1 <= y0 + pad and oy1 > top:
            top = max(top, min(y0, (y0 + oy1) / 2))
        if beside_cols and ox0 >= x1 - pad and ox0 < right:
            right = min(right, max(x1, (x1 + ox0) / 2))
        if beside_cols and ox1 <= x0 + pad and ox1 > left:
            left = max(left, min(x0, (x0 + ox1) / 2))
    return left, top, right, bottom


def _alongside(a0: float, a1: float, b0: float, b1: float) -> bool:
    """Does the side ``[b0, b1)`` of a neighbour run along the side
    ``[a0, a1)`` of a block: over ``NEIGHBOUR_SHARE`` of the shorter of the
    two, and not a small piece beside a long side (the accents of a
    masthead's capitals, split off, do not count; a column under a headline
    spanning three does)."""
    shared = min(a1, b1) - max(a0, b0)
    return shared >= NEIGHBOUR_SHARE * min(a1 - a0, b1 - b0) and (b1 - b0) >= NEIGHBOUR_MIN_SHARE * (a1 - a0)


def reading_mode(block: Block, body_px: float) -> int:
    """The tesseract page segmentation mode to read a block with: one line
    (7), unless that "line" is as tall as two (the lines of a headline run
    together: psm 7 would read neither); else one block (6)."""
    if len(block.lines) == 1 and block.height <= LINE_MODE_CHARS * max(block.char_px, body_px):
        return PSM_LINE
    return PSM_BLOCK


def stacked_share(blocks: list[Block]) -> float:
    """The share of body text lines that stack into blocks of at least
    ``MIN_COLUMN_LINES`` lines: near 1 on a page the analysis understood,
    lower where curved or broken lines left it in pieces."""
    lines = [len(b.lines) for b in blocks if b.kind == TEXT]
    total = sum(lines)
    return sum(n for n in lines if n >= MIN_COLUMN_LINES) / total if total else 0.0


def _page_box(page: PageInk, box) -> tuple[float, float, float, float]:
    """A working-copy box in page pixels: the upright box holding it once
    turned back (when the working copy was straightened)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    xs, ys = page.frame.to_page(np.array([x0, x1, x0, x1]), np.array([y0, y0, y1, y1]))
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _region(kind, x0, y0, x1, y1, width, height, order, column, psm) -> Region:
    x0, y0 = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    return Region(kind, x0, y0, max(1, x1 - x0), max(1, y1 - y0), order, column, psm)
