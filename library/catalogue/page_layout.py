"""A page's words, lines and blocks as one compact value (``pages.layout``, ``transcriptions.layout_blob``).

A page of 1,500 words used to be 1,500 ``words`` rows and a few hundred ``text_regions`` rows (about
75 bytes a word on SQLite, 190 on PostgreSQL, indexes included); here it is one blob of about 5 KB
(3.3–3.7 bytes a word on real vendor ALTO, ``bench/catalogue_bytes.py``):

- byte 0: the format version (:data:`VERSION`); the rest is raw LZMA2 (:data:`_LZMA`) of the payload;
- payload: a header ``<IIII`` (words, lines, blocks, word texts stored) and the CRC-32 of the page
  text (a blob read with another text is refused), then integer columns, each a typecode byte and an
  ``array`` in byte planes (low bytes of every value, then the high ones, which squeeze to nothing):
  lowercase ``b h i q`` signed as they are, uppercase zigzagged (0, -1, 1 … → 0, 1, 2 …), whichever
  squeezes more;
- reading order is kept (no sorting), and every number is stored as its difference from a guess both
  sides make alike: a word's start from the end of the word before, its end from the end of the
  non-space run in the text, its x from the right edge of the word before, its width from the word
  before's width a character, its y, block, paragraph and line from the word before; a line's box and
  span from the union of its words, a block's from the union of its lines (so mostly zeros);
- word text is not stored when it is the page text at the word's offsets (almost always); the words
  whose text differs (a hyphenated ALTO word, say) keep theirs: indexes, UTF-8 lengths and bytes last;
- confidence is one byte: ``floor`` of 0–100 (so ``confidence < threshold`` keeps its answer for a
  whole-number threshold), 254 for a negative confidence (an engine's "none", read back as -1.0),
  255 for ``None``;
- format 2 adds two block columns last: the block's role in the page's layout (a byte: 0 none, then
  :data:`ROLES` from 1: text, headline, caption …) and its newspaper article (0 none, article + 1), so
  the regions a layout analysis found survive in the catalogue (ALTO ``TYPE``/``TAGREFS``, the item's
  table of contents); format 1 blobs are still read (every block without a role).

``encode(layout, text)`` takes the layout dict of :func:`library.reading.ocr_jobs.layout_of`;
``decode(blob, text)`` gives a :class:`PageLayout` whose words and regions carry the attribute names
the old rows had (``sequence``, ``char_start``, ``x`` …), and ``PageLayout.as_dict()`` gives the dict
back. :func:`stored` and :func:`stored_many` read pages' layouts from the catalogue. Nothing happens at
import time.
"""
from __future__ import annotations

import lzma
import math
import re
import struct
import sys
import zlib
from array import array
from typing import NamedTuple

VERSION = 2
_READABLE = (1, 2)
# a block's role in the page's layout (digitize.layout's region kinds); 0 in the blob is "none"
ROLES = ("text", "headline", "caption", "furniture", "image", "rule")
_ROLE_CODE = {r: i for i, r in enumerate(ROLES, start=1)}
_HEADER = struct.Struct("<IIII")
_NONE_CONFIDENCE, _NEGATIVE_CONFIDENCE = 255, 254
# raw LZMA2 (no container: 1 byte of header, not 60) without literal context: numbers, not prose
_LZMA = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": 1 << 20, "lc": 0, "lp": 0, "pb": 0}]
_WIDTHS = (("b", -(1 << 7), (1 << 7) - 1), ("h", -(1 << 15), (1 << 15) - 1), ("i", -(1 << 31), (1 << 31) - 1),
           ("q", -(1 << 63), (1 << 63) - 1))


class LayoutWord(NamedTuple):
    """One word: its text, offsets into the page text, box in pixels, confidence 0–100 (whole numbers)."""

    sequence: int
    text: str
    char_start: int
    char_end: int
    x: int
    y: int
    w: int
    h: int
    confidence: float | None
    block: int
    paragraph: int
    line: int


class LayoutRegion(NamedTuple):
    """A block (``paragraph`` and ``line`` None) or a line of a page, with its box and character span;
    a block may have a ``role`` (one of :data:`ROLES`) and an ``article`` (0-based, on its page) from the
    page's layout analysis."""

    kind: str  # "block" | "line"
    block: int
    paragraph: int | None
    line: int | None
    x: int
    y: int
    w: int
    h: int
    char_start: int
    char_end: int
    role: str | None = None
    article: int | None = None


class PageLayout(NamedTuple):
    words: list[LayoutWord]
    lines: list[LayoutRegion]
    blocks: list[LayoutRegion]

    def as_dict(self) -> dict:
        """The layout dict of :func:`library.reading.ocr_jobs.layout_of` (lists of lists)."""
        return {
            "words": [[w.text, w.char_start, w.char_end, w.x, w.y, w.w, w.h, w.confidence, w.block, w.paragraph,
                       w.line] for w in self.words],
            "lines": [[r.block, r.paragraph, r.line, r.x, r.y, r.w, r.h, r.char_start, r.char_end] for r in self.lines],
            "blocks": [_block_row(r) for r in self.blocks],
        }

    def articles(self) -> dict[int, list[LayoutRegion]]:
        """``{article: its blocks in reading order}`` of the blocks a layout analysis grouped."""
        out: dict[int, list[LayoutRegion]] = {}
        for b in self.blocks:
            if b.article is not None:
                out.setdefault(b.article, []).append(b)
        return out


def _block_row(r: LayoutRegion) -> list:
    row = [r.block, r.x, r.y, r.w, r.h, r.char_start, r.char_end]
    return row + [r.role, r.article] if r.role is not None or r.article is not None else row


EMPTY = PageLayout([], [], [])


# ------------------------------------------------------------------ columns
# numpy packs and unpacks the columns (a page's ~30 columns of 1,500 values: a Python loop per value was
# most of encode's and of words_under's time); the bytes are the format's, as the ``array`` module
# writes them. numpy is imported on first use (nothing happens at import time).
_INT64 = (-(1 << 63), (1 << 63) - 1)


def _np():
    import numpy

    return numpy


def _ints(values):
    """``values`` as an int64 numpy column; OverflowError when one does not fit 64 bits (the format has
    no wider type)."""
    np = _np()
    if isinstance(values, np.ndarray):
        return values.astype(np.int64, copy=False)
    try:
        return np.fromiter(values, dtype=np.int64, count=len(values))
    except OverflowError:
        big = next(v for v in values if not _INT64[0] <= v <= _INT64[1])
        raise OverflowError(f"a layout number does not fit 64 bits: {big}") from None


def _code(lo: int, hi: int, zigzagged: bool) -> str | None:
    if zigzagged:
        return next((c.upper() for c, _, b in _WIDTHS if hi <= 2 * b + 1), None) if hi < (1 << 63) else None
    return next(c for c, a, b in _WIDTHS if a <= lo and hi <= b)


_DTYPES = {"b": "<i1", "h": "<i2", "i": "<i4", "q": "<i8", "B": "<u1", "H": "<u2", "I": "<u4", "Q": "<u8"}


def _planes(code: str, column) -> bytes:
    """``column`` (numpy) as ``array(code)`` would hold it, in byte planes: the low bytes of every value,
    then the next ones (the high ones squeeze to nothing)."""
    np = _np()
    k = np.dtype(_DTYPES[code]).itemsize
    raw = column.astype(_DTYPES[code]).view(np.uint8).reshape(-1, k)
    return code.encode() + raw.T.tobytes()


def _pack(values) -> bytes:
    """A column: plain (the narrowest signed type that holds it) or zigzagged (0, -1, 1, -2 … → 0, 1, 2,
    3 …, the narrowest unsigned type), whichever zlib squeezes more (a typecode byte says which)."""
    np = _np()
    column = _ints(values)
    if not len(column):
        return b"b"
    plain = _planes(_code(int(column.min()), int(column.max()), False), column)
    if len(column) < 8:
        return plain
    u = (column.astype(np.uint64) << np.uint64(1)) ^ (column >> np.int64(63)).astype(np.uint64)
    code = _code(0, int(u.max()), True)
    if code is None:
        return plain
    zz = _planes(code, u)
    return zz if len(zlib.compress(zz, 1)) < len(zlib.compress(plain, 1)) else plain


class _Reader:
    def __init__(self, payload: bytes):
        self.payload, self.at = payload, 0

    def array(self, n: int):
        """The next column of ``n`` values, as an int64 numpy array."""
        np = _np()
        code = chr(self.payload[self.at])
        dtype = np.dtype(_DTYPES[code])
        k = dtype.itemsize
        start = self.at + 1
        self.at = start + n * k
        planes = np.frombuffer(self.payload, dtype=np.uint8, count=n * k, offset=start).reshape(k, n)
        column = np.ascontiguousarray(planes.T).view(dtype).reshape(n)
        if code.isupper():
            u = column.astype(np.uint64)
            return (u >> np.uint64(1)).astype(np.int64) ^ -(u & np.uint64(1)).astype(np.int64)
        return column.astype(np.int64)

    def column(self, n: int) -> list[int]:
        return self.array(n).tolist()

    def sums(self, n: int) -> list[int]:
        """The next column's running sums (a column of differences)."""
        return self.array(n).cumsum().tolist()

    def skip(self, n: int, columns: int) -> None:
        """Step over ``columns`` columns of ``n`` values each, unpacking none."""
        for _ in range(columns):
            k = array(chr(self.payload[self.at])).itemsize
            self.at += 1 + n * k

    def raw(self, n: int) -> bytes:
        out = self.payload[self.at:self.at + n]
        self.at += n
        return out


def _deltas(values):
    """Each value less the one before (the first less 0), as an int64 numpy column."""
    np = _np()
    column = _ints(values)
    return np.diff(column, prepend=np.int64(0)) if len(column) else column


def _confidence_byte(c) -> int:
    if c is None:
        return _NONE_CONFIDENCE
    if c < 0:
        return _NEGATIVE_CONFIDENCE
    return min(100, math.floor(c))


def _confidence(b: int) -> float | None:
    return None if b == _NONE_CONFIDENCE else -1.0 if b == _NEGATIVE_CONFIDENCE else float(b)


def _whole(v) -> int:
    return 0 if v is None else int(v)


# ------------------------------------------------------------------ predictions (the same on both sides)
_NOT_SPACE = re.compile(r"\S*")


class _WordGuess:
    """What a word's end, x and width probably are, from the text and the word before: the blob keeps
    only the differences (mostly 0 or small)."""

    def __init__(self, text: str):
        self.text, self.end, self.right, self.width, self.length = text, 0, 0, 0, 0

    def char_end(self, start: int) -> int:
        return _NOT_SPACE.match(self.text, min(max(start, 0), len(self.text))).end()

    def w(self, length: int) -> int:
        return (self.width * length + self.length // 2) // self.length if self.length else 0

    def seen(self, start: int, end: int, x: int, w: int) -> None:
        self.end, self.right, self.width, self.length = end, x + w, w, max(end - start, 1)


def _union(boxes) -> tuple[int, int, int, int, int, int]:
    """``(x, y, w, h, start, end)`` around ``[(x, y, w, h, start, end)]`` (zeros when empty)."""
    if not boxes:
        return 0, 0, 0, 0, 0, 0
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0, boxes[0][4], boxes[-1][5]


def _groups(rows, key) -> dict:
    out: dict = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return out


_SMALL = 1 << 40  # below this, sums and differences of boxes cannot leave int64


def _residues(member_keys, member_boxes, keys, boxes) -> list:
    """Six columns: each of ``boxes`` (x, y, w, h, start, end) less the union of the members whose key is
    its key (:func:`_union`: zeros when none). numpy for boxes of ordinary size; Python's integers
    (which never overflow) for larger ones."""
    np = _np()
    n = len(keys)
    if not n:
        return [[]] * 6
    members = _ints([v for b in member_boxes for v in b])
    targets = _ints([v for b in boxes for v in b])
    if (len(members) and np.abs(members).max() >= _SMALL) or np.abs(targets).max() >= _SMALL:
        by_key = _groups(range(len(member_keys)), lambda i: member_keys[i])
        rows = [[v - g for v, g in zip(box, _union([member_boxes[i] for i in by_key.get(key, [])]))]
                for key, box in zip(keys, boxes)]
        return [list(c) for c in zip(*rows)]
    members, targets = members.reshape(-1, 6), targets.reshape(n, 6)
    ids: dict = {}
    gid = np.fromiter((ids.setdefault(k, len(ids)) for k in member_keys), dtype=np.int64, count=len(member_keys))
    g = len(ids)
    order = np.arange(len(gid))
    x0, y0 = np.full(g, _SMALL), np.full(g, _SMALL)
    x1, y1 = np.full(g, -_SMALL), np.full(g, -_SMALL)
    first, last = np.full(g, len(gid)), np.full(g, -1)
    np.minimum.at(x0, gid, members[:, 0])
    np.minimum.at(y0, gid, members[:, 1])
    np.maximum.at(x1, gid, members[:, 0] + members[:, 2])
    np.maximum.at(y1, gid, members[:, 1] + members[:, 3])
    np.minimum.at(first, gid, order)
    np.maximum.at(last, gid, order)
    union = np.zeros((g + 1, 6), dtype=np.int64)  # the last row: a key without members
    if g:
        union[:g] = np.stack([x0, y0, x1 - x0, y1 - y0, members[first, 4], members[last, 5]], axis=1)
    at = np.fromiter((ids.get(k, g) for k in keys), dtype=np.int64, count=n)
    return list((targets - union[at]).T)


# ------------------------------------------------------------------ codec
def encode(layout: dict, text: str | None) -> bytes:
    """``layout`` ({"words": [[text, start, end, x, y, w, h, conf, block, par, line]…], "lines": [[block,
    par, line, x, y, w, h, start, end]…], "blocks": [[block, x, y, w, h, start, end(, role, article)]…]})
    as a blob: the version byte then LZMA. ``text`` is the page text the offsets point into (None: every
    word keeps its text); :func:`decode` needs the same text. A region's paragraph or line None is 0; a
    block's role is one of :data:`ROLES` or None (anything else: ValueError), its article a whole
    number ≥ 0 or None."""
    text = text or ""
    words = [[w[0]] + [0 if v is None else int(v) for v in w[1:7]] + [w[7]]
             + [0 if v is None else int(v) for v in w[8:11]] for w in layout.get("words", [])]
    lines = [[0 if v is None else int(v) for v in r] for r in layout.get("lines", [])]
    block_rows = layout.get("blocks", [])
    blocks = [[_whole(v) for v in r[:7]] for r in block_rows]
    roles, articles = [], []
    for r in block_rows:
        role, article = (r[7], r[8]) if len(r) > 7 else (None, None)
        if role is not None and role not in _ROLE_CODE:
            raise ValueError(f"a block's role must be one of {', '.join(ROLES)} or None, not {role!r}")
        if article is not None and (_whole(article) < 0):
            raise ValueError(f"a block's article must be a whole number ≥ 0 or None, not {article!r}")
        roles.append(_ROLE_CODE.get(role, 0))
        articles.append(0 if article is None else _whole(article) + 1)
    own = [i for i, w in enumerate(words) if text[w[1]:w[2]] != w[0] or not 0 <= w[1] <= w[2]]
    own_bytes = [words[i][0].encode("utf-8") for i in own]

    # _WordGuess, inlined: this loop runs for every word
    gap, end, xgap, w_res = [], [], [], []
    g_end = g_right = g_width = g_length = 0
    match, n_text = _NOT_SPACE.match, len(text)
    for _, cs, ce, x, y, w, h, *_rest in words:
        gap.append(cs - g_end)
        end.append(ce - match(text, cs if 0 <= cs <= n_text else min(max(cs, 0), n_text)).end())
        xgap.append(x - g_right)
        length = ce - cs
        w_res.append(w - ((g_width * length + g_length // 2) // g_length if g_length else 0))
        g_end, g_right, g_width, g_length = ce, x + w, w, length if length > 1 else 1
    col = list(zip(*words)) if words else [()] * 11
    parts = [_HEADER.pack(len(words), len(lines), len(blocks), len(own)), struct.pack("<I", zlib.crc32(text.encode()))]
    parts += [_pack(gap), _pack(end), _pack(xgap), _pack(_deltas(list(col[4]))), _pack(w_res), _pack(list(col[6])),
              bytes(_confidence_byte(c) for c in col[7]), _pack(_deltas(list(col[8]))), _pack(_deltas(list(col[9]))),
              _pack(_deltas(list(col[10])))]

    word_boxes = [(w[3], w[4], w[5], w[6], w[1], w[2]) for w in words]
    rc = _residues(list(zip(col[8], col[9], col[10])) if words else [], word_boxes,
                   [tuple(r[:3]) for r in lines], [r[3:9] for r in lines])
    lc = list(zip(*lines)) if lines else [()] * 3
    parts += [_pack(_deltas(list(lc[i]))) for i in range(3)] + [_pack(rc[i]) for i in range(6)]

    rc = _residues([r[0] for r in lines], [tuple(r[3:9]) for r in lines], [r[0] for r in blocks],
                   [r[1:7] for r in blocks])
    parts += [_pack(_deltas([r[0] for r in blocks]))] + [_pack(rc[i]) for i in range(6)]
    parts += [_pack(_deltas(own)), _pack([len(b) for b in own_bytes]), b"".join(own_bytes)]
    parts += [bytes(roles), _pack(articles)]
    return bytes([VERSION]) + lzma.compress(b"".join(parts), format=lzma.FORMAT_RAW, filters=_LZMA)


def _word_columns(blob: bytes, text: str):
    """The reader past the words' columns, the header's counts and those columns (checked against
    ``text``): what :func:`decode` and :func:`words_under` both start with."""
    r = _Reader(_payload(blob))
    n_words, n_lines, n_blocks, n_own = _HEADER.unpack(r.raw(_HEADER.size))
    (crc,) = struct.unpack("<I", r.raw(4))
    if crc != zlib.crc32(text.encode()):
        raise ValueError("this page layout was made with another text than the one given")
    gap, end, xgap, y, w_res, h = (r.column(n_words), r.column(n_words), r.column(n_words),
                                   r.sums(n_words), r.column(n_words), r.column(n_words))
    conf = r.raw(n_words)
    blk, par, ln = r.sums(n_words), r.sums(n_words), r.sums(n_words)
    return r, (n_words, n_lines, n_blocks, n_own), (gap, end, xgap, y, w_res, h, conf, blk, par, ln)


def decode(blob: bytes | None, text: str | None) -> PageLayout:
    """The layout in ``blob`` (:func:`encode`), word texts cut from ``text`` where they were not
    stored. ``text`` must be the one the blob was made with (checked: ValueError otherwise). ``None``
    or empty gives :data:`EMPTY`."""
    if not blob:
        return EMPTY
    text = text or ""
    r, counts, columns = _word_columns(blob, text)
    n_words, n_lines, n_blocks, n_own = counts
    gap, end, xgap, y, w_res, h, conf, blk, par, ln = columns
    l_keys = [r.sums(n_lines) for _ in range(3)]
    l_res = [r.column(n_lines) for _ in range(6)]
    b_keys = r.sums(n_blocks)
    b_res = [r.column(n_blocks) for _ in range(6)]
    own_at, own_len = r.sums(n_own), r.column(n_own)
    own = {i: r.raw(n).decode("utf-8") for i, n in zip(own_at, own_len)}
    if blob[0] >= 2:
        roles = [ROLES[c - 1] if c else None for c in r.raw(n_blocks)]
        articles = [a - 1 if a else None for a in r.column(n_blocks)]
    else:
        roles = articles = [None] * n_blocks

    guess, words = _WordGuess(text), []
    for i in range(n_words):
        cs = guess.end + gap[i]
        ce = guess.char_end(cs) + end[i]
        x = guess.right + xgap[i]
        w = guess.w(ce - cs) + w_res[i]
        guess.seen(cs, ce, x, w)
        words.append(LayoutWord(i, own[i] if i in own else text[cs:ce], cs, ce, x, y[i], w, h[i],
                                _confidence(conf[i]), blk[i], par[i], ln[i]))
    by_line = _groups(words, lambda w: (w.block, w.paragraph, w.line))
    lines = []
    for i in range(n_lines):
        key = (l_keys[0][i], l_keys[1][i], l_keys[2][i])
        g = _union([(w.x, w.y, w.w, w.h, w.char_start, w.char_end) for w in by_line.get(key, [])])
        lines.append(LayoutRegion("line", *key, *(g[k] + l_res[k][i] for k in range(6))))
    by_block = _groups(lines, lambda r: r.block)
    blocks = []
    for i in range(n_blocks):
        g = _union([(r.x, r.y, r.w, r.h, r.char_start, r.char_end) for r in by_block.get(b_keys[i], [])])
        blocks.append(LayoutRegion("block", b_keys[i], None, None, *(g[k] + b_res[k][i] for k in range(6)),
                                   roles[i], articles[i]))
    return PageLayout(words, lines, blocks)


def words_under(blob: bytes | None, text: str | None, spans) -> list[list[LayoutWord]]:
    """For each character span ``(start, end)`` of ``spans`` (sorted by start), the words of ``blob``
    (:func:`decode`) that overlap it, in reading order — what search boxes its highlights with. Lines
    and blocks are not rebuilt, only the words under a span become objects, and with words in text order
    (as read) the walk stops after the last span: a fifth of :func:`decode`'s time on a 1,500-word page."""
    spans = list(spans)
    out: list[list[LayoutWord]] = [[] for _ in spans]
    if not blob or not spans:
        return out
    text = text or ""
    r, counts, columns = _word_columns(blob, text)
    n_words, n_lines, n_blocks, n_own = counts
    gap, end, xgap, y, w_res, h, conf, blk, par, ln = columns
    r.skip(n_lines, 9)
    r.skip(n_blocks, 7)
    own_at, own_len = r.sums(n_own), r.column(n_own)
    own = {i: r.raw(n).decode("utf-8") for i, n in zip(own_at, own_len)}

    starts = [a for a, _ in spans]
    last_end = max(b for _, b in spans)
    in_order = not gap or min(gap) >= 0  # words in text order: none after the last span can overlap
    g_end = g_right = g_width = g_length = 0  # _WordGuess, inlined: this loop runs for every word
    match, n_text, first = _NOT_SPACE.match, len(text), 0
    for i in range(n_words):
        cs = g_end + gap[i]
        if in_order and cs >= last_end:
            break
        ce = match(text, cs if 0 <= cs <= n_text else min(max(cs, 0), n_text)).end() + end[i]
        x = g_right + xgap[i]
        length = ce - cs
        w = ((g_width * length + g_length // 2) // g_length if g_length else 0) + w_res[i]
        g_end, g_right, g_width, g_length = ce, x + w, w, length if length > 1 else 1
        if in_order:
            while first < len(spans) and spans[first][1] <= cs:
                first += 1  # spans wholly before this word (and every later one)
        k = first if in_order else 0
        word = None
        while k < len(spans) and starts[k] < ce:
            if spans[k][1] > cs:
                if word is None:
                    word = LayoutWord(i, own[i] if i in own else text[cs:ce], cs, ce, x, y[i], w, h[i],
                                      _confidence(conf[i]), blk[i], par[i], ln[i])
                out[k].append(word)
            k += 1
    return out


def _payload(blob: bytes, limit: int = 0) -> bytes:
    blob = bytes(blob)
    if blob[0] not in _READABLE:
        raise ValueError(f"page layout format {blob[0]} is not known (this code reads formats "
                         f"{', '.join(map(str, _READABLE))})")
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_LZMA).decompress(blob[1:], max_length=limit or -1)


def count_words(blob: bytes | None) -> int:
    """How many words ``blob`` holds, from its header alone (nothing else is unpacked)."""
    if not blob:
        return 0
    return _HEADER.unpack(_payload(blob, _HEADER.size))[0]


def quantised(layout: dict) -> dict:
    """``layout`` as :func:`decode` gives it back (confidences to whole numbers, lists of lists): what
    a layout is once stored."""
    out = {k: [list(row) for row in layout.get(k, [])] for k in ("words", "lines", "blocks")}
    for row in out["words"]:
        row[7] = _confidence(_confidence_byte(row[7]))
    out["blocks"] = [row[:7] if len(row) > 7 and row[7] is None and row[8] is None else row for row in out["blocks"]]
    return out


# ------------------------------------------------------------------ in the catalogue
def stored(s, page_id: int) -> PageLayout:
    """The layout of page ``page_id`` as the catalogue holds it now (:data:`EMPTY` when it has none)."""
    return stored_many(s, [page_id]).get(page_id, EMPTY)


def stored_many(s, page_ids) -> dict[int, PageLayout]:
    """``{page id: layout}`` of the pages ``page_ids`` that exist, read in one query."""
    from sqlalchemy import select

    from library.catalogue.models import Page

    ids = list(set(page_ids))
    if not ids:
        return {}
    rows = s.execute(select(Page.id, Page.text, Page.layout).where(Page.id.in_(ids))).all()
    return {pid: decode(blob, text) for pid, text, blob in rows}
