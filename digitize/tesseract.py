"""The one wrapper around tesseract.

Everything the engine asks of tesseract goes through here, in the manner of
OCRmyPDF's ``_exec/tesseract.py``: probe the version and the installed
languages, read with a time limit, and turn tesseract's failures into
:mod:`digitize.errors`.

Two ways to run it, one interface:

- **in process** (the default, when :mod:`tesserocr` imports): libtesseract
  inside this process reads the page straight from the PIL image, with no
  PNG written and no model loaded per page. One ``PyTessBaseAPI`` per
  language set is kept per thread (a thread never shares one), at most
  :data:`MAX_CACHED_APIS` of them, each emptied after every page. The
  wheel's libtesseract is built without OpenMP, so it is single-threaded
  like the program children below.
- **the program** (``PROGRAM``, when tesserocr is missing or
  :data:`IN_PROCESS` is False): one ``tesseract`` child per reading, with
  ``OMP_THREAD_LIMIT=1`` (its OpenMP threads make it several times slower per
  page on a busy machine; the platform gets its parallelism from one page per
  worker process instead), killed with its process group at the time limit.

Time limits: a child is killed. In process, the limit is tesseract's own
deadline, checked between words while it recognises; its layout analysis
(seconds at most, even on a broadsheet) runs to its end first, and the page
is then abandoned with :class:`OcrTimeout`. Orientation detection in process
has no deadline (it runs on a page shrunk to a few megapixels, in well under
a second).

Both ways give tesseract's TSV (``level page_num block_num par_num line_num
word_num left top width height conf text``); in process, on request, each
word's symbols with their alternatives (:data:`WordChoices`).

:data:`PROGRAM` and :data:`IN_PROCESS` are the seams tests turn to see what
happens when the program or the library is absent.
"""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from PIL import Image

from digitize.errors import EngineMissing, LanguageMissing, OcrFailed, OcrTimeout, TesseractMissing

PROGRAM = "tesseract"
IN_PROCESS = True  # read with tesserocr when it imports; False: always run PROGRAM
PROBE_TIMEOUT_S = 30.0
STDERR_TAIL_CHARS = 600
MAX_CACHED_APIS = 3  # per thread: each holds its models (a few MB to 100 MB)
# where models are looked for when TESSDATA_PREFIX is not set (Debian, then others)
TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

#: tessdata's larger LSTM models (the ``tessdata`` repository's integerised "best" networks, as npm's
#: ``@tesseract.js-data/<lang>`` packages ship them in ``4.0.0_best_int/``), unpacked by
#: ``scripts/models.sh`` beside links to the system's models of the other languages. Debian's
#: ``tesseract-ocr-<lang>`` packages are ``tessdata_fast``: smaller networks, ~20 % less CPU, less accurate
#: on hard pages. The pipeline reads with the fast ones and reads a doubtful page again with these.
BEST_MODELS_DIR = Path(__file__).resolve().parent / "models" / "tessdata_best"
FAST, BEST = "fast", "best"


def model_label(model: str) -> str:
    """What the engine's name says about its networks: the larger ones are
    named ("… best models", in hOCR/ALTO and the catalogue's ``ocr_engine``)."""
    return " best models" if model == BEST else ""

# psm values in which tesseract finds the layout itself and ignores a .uzn file
AUTOMATIC_PSMS = frozenset({0, 1, 2, 3})
OSD_PSM = 0
TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"

_LANGUAGE_NAME = re.compile(r"^[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?$")

_probe_lock = threading.Lock()
_versions: dict[str, str] = {}
_languages: dict[str, tuple[str, ...]] = {}
_tessdata: dict[str, Path] = {}
_generation = 0  # bumped by clear_probe_cache: threads then rebuild their APIs
_local = threading.local()

# Tesseract's alternatives for one symbol of a word: (text NFC, cost) pairs,
# the symbol tesseract chose first, the others by cost. The cost is its LSTM
# rating, the summed -log(probability) of the symbol's time steps: lower is
# better, and exp(cost_0 - cost_k) is roughly how much less likely the k-th
# alternative is than the chosen one (the convention of digitize.postcorrect).
SymbolChoices = tuple[tuple[str, float], ...]
WordChoices = tuple[SymbolChoices, ...]  # one per symbol; their first texts joined give the word


@dataclass(frozen=True)
class Region:
    """A rectangle of a page to read as one unit, in pixels of the image it
    belongs to, with the page segmentation mode to read it with: 6 = one
    uniform block of text, 4 = a column of lines of varying sizes, 7 = one
    line, 3 = find the layout inside it. ``kind`` names what the layout saw
    there (``"text"``, ``"heading"``, ``"caption"``, ``"table"``...)."""

    x: int
    y: int
    w: int
    h: int
    psm: int = 6
    kind: str = "text"
    article: int | None = None  # the newspaper article the layout grouped it into
    # the text lines the layout found in it, (x0, y0, x1, y1) pixels of the image, top to bottom:
    # lines a block reading (psm 6) left out are read one by one (in process only)
    lines: tuple[tuple[int, int, int, int], ...] = ()


WordFilter = Callable[[str, float], bool]
"""Which words of a reading need their symbols' alternatives: ``wanted(text, confidence)``."""


@dataclass(frozen=True)
class OcrOutput:
    """What one reading gave, as text (unparsed); formats that were not asked
    for are None.

    ``choices`` (only when asked for, and only in process) holds one entry per
    word row (level 5) of ``tsv``, in order: that word's symbols, each with
    its alternatives (:data:`WordChoices`), or None for a word whose
    alternatives cannot be lined up with its text.
    """

    tsv: str
    hocr: str | None = None
    alto: str | None = None
    txt: str | None = None
    stderr: str = ""
    choices: tuple[WordChoices | None, ...] | None = None


# tesseract's config name for each output and the suffix of the file it writes
OUTPUT_SUFFIXES = {"tsv": "tsv", "hocr": "hocr", "alto": "xml", "txt": "txt"}


@dataclass(frozen=True)
class Orientation:
    """Tesseract OSD's answer for a page.

    ``rotate_deg`` is how far to turn the image clockwise (0, 90, 180 or 270)
    to make it upright; ``confidence`` is OSD's orientation confidence
    (above about 2 is usually trustworthy).
    """

    rotate_deg: int
    confidence: float
    script: str


# ------------------------------------------------------------------ in process
def _tesserocr():
    """The tesserocr module, or None when it cannot be used here."""
    if not IN_PROCESS:
        return None
    # the wheel's libtesseract has no OpenMP; should one be built with it,
    # its threads must not fight the worker processes for the cores
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import tesserocr
    except (ImportError, OSError):
        return None
    return tesserocr


def in_process() -> bool:
    """True when readings run inside this process (tesserocr), False when
    they run the ``tesseract`` program."""
    return _tesserocr() is not None


def tessdata_dir() -> Path:
    """The folder of the language models (``*.traineddata``): the
    ``TESSDATA_PREFIX`` tesseract itself honours, else the first of
    :data:`TESSDATA_DIRS` that holds models; probed once."""
    with _probe_lock:
        if "dir" not in _tessdata:
            candidates = []
            prefix = os.environ.get("TESSDATA_PREFIX")
            if prefix:
                candidates += [Path(prefix), Path(prefix) / "tessdata"]
            candidates += [Path(d) for d in TESSDATA_DIRS]
            for folder in candidates:
                if folder.is_dir() and any(folder.glob("*.traineddata")):
                    _tessdata["dir"] = folder
                    break
            else:
                raise EngineMissing(
                    "no tesseract language models were found (looked in "
                    f"{', '.join(str(c) for c in candidates)}); install some (Debian: apt-get install "
                    "tesseract-ocr-vie) or set TESSDATA_PREFIX"
                )
        return _tessdata["dir"]


def best_models(languages: str) -> Path | None:
    """The folder of the larger models when it has one of its own (not a link to a system model) for
    at least one of ``languages`` and a model for each of them; else None."""
    folder = BEST_MODELS_DIR
    try:
        names = split_languages(languages)
    except LanguageMissing:
        return None
    files = [folder / f"{name}.traineddata" for name in names]
    if not all(f.is_file() for f in files) or all(f.is_symlink() for f in files):
        return None
    return folder


def _models_dir(model: str, languages: str) -> Path:
    if model == FAST:
        return tessdata_dir()
    if model == BEST:
        folder = best_models(languages)
        if folder is None:
            raise EngineMissing(f"no larger tesseract model for {languages!r} in {BEST_MODELS_DIR} "
                                "(scripts/models.sh installs them for vie and fra)")
        return folder
    raise ValueError(f"model must be {FAST!r} or {BEST!r}, not {model!r}")


def _api(languages: str, model: str = FAST):
    """This thread's ``PyTessBaseAPI`` for ``languages`` with ``model``'s networks, made on first use."""
    tesserocr = _tesserocr()
    cache: OrderedDict | None = getattr(_local, "apis", None)
    if cache is None or getattr(_local, "generation", -1) != _generation:
        if cache:
            for old in cache.values():
                old.End()
        cache = _local.apis = OrderedDict()
        _local.generation = _generation
    key = (languages, model)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    try:
        api = tesserocr.PyTessBaseAPI(path=str(_models_dir(model, languages)) + os.sep, lang=languages,
                                      psm=tesserocr.PSM.AUTO)
    except RuntimeError as exc:
        raise OcrFailed(f"tesseract could not load the language models {languages!r}", str(exc)) from None
    api.SetVariable("debug_file", os.devnull)  # its chatter ("Estimating resolution...") is not ours to print
    if hasattr(tesserocr, "set_leptonica_log_level"):  # nor are leptonica's complaints about empty boxes
        tesserocr.set_leptonica_log_level(tesserocr.LeptLogLevel.NONE)
    cache[key] = api
    while len(cache) > MAX_CACHED_APIS:
        _, old = cache.popitem(last=False)
        old.End()
    return api


def _set_image(api, image: Image.Image) -> None:
    """Hand the page to tesseract by its raw pixels (no encoding, no file)."""
    if image.mode == "1":
        # packed rows, first pixel in the high bit, 1 = white: what both PIL and tesseract use
        api.SetImageBytes(image.tobytes(), image.width, image.height, 0, (image.width + 7) // 8)
    elif image.mode in ("L", "RGB"):
        depth = 1 if image.mode == "L" else 3
        api.SetImageBytes(image.tobytes(), image.width, image.height, depth, depth * image.width)
    else:
        _set_image(api, image.convert("L"))


def _open(image: Image.Image | Path) -> Image.Image:
    """The page as a PIL image (a file is decoded)."""
    if isinstance(image, Image.Image):
        return image
    try:
        with Image.open(image) as opened:
            opened.load()
            return opened.copy() if opened.mode in ("1", "L", "RGB") else opened.convert("L")
    except (OSError, SyntaxError, ValueError) as exc:
        raise OcrFailed(f"tesseract could not read {image.name}", str(exc) or type(exc).__name__) from None


def _recognise_in_process(
    image: Image.Image | Path,
    *,
    languages: str,
    psm: int,
    timeout_s: float,
    dpi: int | None,
    regions: Sequence[Region],
    choices: bool | WordFilter,
    config: dict[str, str] | None,
    model: str = FAST,
) -> OcrOutput:
    api = _api(languages, model)
    deadline = time.monotonic() + timeout_s
    settings = dict(config or {})
    settings["lstm_choice_mode"] = "2" if choices is True else "0"
    some = callable(choices)
    saved = {name: api.GetVariableAsString(name) for name in settings}
    parts: list[tuple[str, tuple[WordChoices | None, ...] | None]] = []
    try:
        for name, value in settings.items():
            if not api.SetVariable(name, str(value)):
                raise ValueError(f"tesseract has no setting {name!r}")
        image = _open(image)
        width, height = image.size
        _set_image(api, image)
        if dpi:
            api.SetSourceResolution(int(dpi))
        wanted = clip_regions(regions, width, height) if regions else (Region(0, 0, width, height, psm),)
        for region in wanted:
            remaining_ms = math.floor((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                raise OcrTimeout(timeout_s)
            api.SetPageSegMode(int(region.psm))
            if regions:
                api.SetRectangle(region.x, region.y, region.w, region.h)
            if not api.Recognize(timeout=remaining_ms):
                if time.monotonic() >= deadline - 0.05:
                    raise OcrTimeout(timeout_s)
                raise OcrFailed(f"tesseract could not read {_name(image)}")
            tsv = api.GetTSVText(0)
            word_choices = _word_choices(api, tsv) if choices is True else None
            if region.lines and int(region.psm) == PSM_BLOCK:
                tsv, word_choices = _reread_missed_lines(api, region, tsv, word_choices, deadline=deadline,
                                                         choices=choices is True, timeout_s=timeout_s)
            if some:
                word_choices = _choices_on_demand(api, tsv, choices, width, height, deadline=deadline,
                                                  timeout_s=timeout_s)
            parts.append((tsv, word_choices))
    finally:
        for name, value in saved.items():
            if value is not None:
                api.SetVariable(name, value)
        api.Clear()  # the page's pixels and results: a broadsheet holds hundreds of MB
    return OcrOutput(
        tsv=merge_tsv([tsv for tsv, _ in parts], width, height),
        choices=tuple(c for _, word_choices in parts for c in word_choices) if choices else None,
    )


def _reread_missed_lines(
    api, region: Region, tsv: str, word_choices, *, deadline: float, choices: bool, timeout_s: float
) -> tuple[str, tuple[WordChoices | None, ...] | None]:
    """The reading ``tsv`` (and its ``word_choices``) of a block region with
    the layout's lines it left out read one by one (psm 13, same engine) and
    spliced in: libtesseract 5.5 sometimes takes two lines of a column for
    one and returns the words of only one of them, in boxes two lines tall.
    Lines with no word of their own, and the lines under such a merged
    line (which is dropped), are read alone; a line reading is kept when
    it has words. ``api`` still holds the page image."""
    rows = _tsv_rows(tsv, word_choices)
    missed, dropped = missed_lines(region.lines, _line_boxes(rows))
    if not missed:
        return tsv, word_choices
    readings = []
    for line in missed:
        remaining_ms = math.floor((deadline - time.monotonic()) * 1000)
        if remaining_ms <= 0:
            raise OcrTimeout(timeout_s)
        x0, y0, x1, y1 = _line_rectangle(line, region)
        api.SetPageSegMode(PSM_RAW_LINE)
        api.SetRectangle(x0, y0, x1 - x0, y1 - y0)
        if not api.Recognize(timeout=remaining_ms):
            if time.monotonic() >= deadline - 0.05:
                raise OcrTimeout(timeout_s)
            continue
        line_tsv = api.GetTSVText(0)
        line_rows = _trim_line(_tsv_rows(line_tsv, _word_choices(api, line_tsv) if choices else None))
        if any(r[0][0] == "5" and r[0][11].strip() for r in line_rows):
            readings.append((line, line_rows))
    dropped, unused = merges_read_whole(dropped, _line_boxes(rows), missed, [line for line, _ in readings])
    readings = [(line, line_rows) for line, line_rows in readings if line not in unused]
    if not readings:
        return tsv, word_choices  # a merged line is kept when its lines read alone give nothing
    spliced = splice_lines(rows, dropped, readings)
    out_tsv = "\n".join("\t".join(fields) for fields, _ in spliced) + "\n"
    out_choices = tuple(c for fields, c in spliced if fields[0] == "5") if choices else None
    return out_tsv, out_choices


PSM_BLOCK = 6
PSM_SINGLE_WORD = 8
# one line read raw: psm 7 (one line, found by tesseract) gave nothing for about half the
# rectangles around a line the block reading had left out, psm 13 read them all
PSM_RAW_LINE = 13
LINE_PAD_SHARE = 0.1  # a line read alone is padded by this share of its height above and below
LINE_X_PAD_SHARE = 0.2  # ... and this share of its height left and right (within its region)
OWN_LINE_SHARE = 0.5  # a returned line reads a layout line overlapping this share of the lower of the two
MERGED_SHARE = 0.6  # a returned line over this share of two layout lines' heights is two run together
PIECE_SHARE = 0.8  # a layout line this share inside a longer one is a piece of it
LOW_LINE_SHARE = 0.6  # a layout line lower than this share of the region's usual is marks or specks


def _tsv_rows(tsv: str, word_choices) -> list[tuple[list[str], WordChoices | None]]:
    """The rows of a TSV as fields, each word row (level 5) with its choices."""
    rows = []
    queue = list(word_choices) if word_choices is not None else None
    for row in tsv.splitlines():
        fields = row.split("\t", 11)
        if len(fields) < 12 or not fields[0].isdigit():
            continue
        choice = None
        if fields[0] == "5" and queue:
            choice = queue.pop(0)
        rows.append((fields, choice))
    return rows


def _trim_line(rows):
    """The level 4-5 rows of a line read alone, without the words at its
    ends that hold no letter or digit (a rule beside it, a speck, the tail
    of the line above: ``|``, ``_``)."""
    rows = [r for r in rows if r[0][0] in ("4", "5")]
    words = [i for i, (fields, _) in enumerate(rows) if fields[0] == "5" and fields[11].strip()]
    keep = set(words)
    for order in (words, words[::-1]):
        for i in order:
            if any(ch.isalnum() for ch in rows[i][0][11]):
                break
            keep.discard(i)
    return [r for i, r in enumerate(rows) if r[0][0] != "5" or i in keep]


def _line_boxes(rows) -> list[tuple[tuple[str, str, str], tuple[int, int, int, int]]]:
    """``(line key, (x0, y0, x1, y1))`` of each line (level 4 row) of a
    reading that holds a word."""
    worded = {(f[2], f[3], f[4]) for f, _ in rows if f[0] == "5" and f[11].strip()}
    found = []
    for fields, _ in rows:
        key = (fields[2], fields[3], fields[4])
        if fields[0] != "4" or key not in worded:
            continue
        try:
            left, top, width, height = (int(v) for v in fields[6:10])
        except ValueError:
            continue
        found.append((key, (left, top, left + width, top + height)))
    return found


def missed_lines(
    lines: Sequence[tuple[int, int, int, int]], read: Sequence[tuple[tuple, tuple[int, int, int, int]]]
) -> tuple[list[tuple[int, int, int, int]], set]:
    """Which of the layout's ``lines`` ``(x0, y0, x1, y1)`` a block reading
    left out, given the lines it returned, ``read`` ``(line key, box)``
    (none: nothing is read again; a region read as empty is a picture, not
    text tesseract lost). A returned line covering two layout lines (each
    by :data:`MERGED_SHARE` of its height) was two lines run together: it
    is dropped, unless every line it covers is also another's. Returns
    ``(layout lines to read alone, top to bottom; keys of returned lines to
    drop)``. Pieces of a layout line inside another, and lines lower than
    :data:`LOW_LINE_SHARE` of the usual (marks, specks), are left out."""
    if not lines or not read:
        return [], set()
    lines = _whole_lines(lines)
    heights = sorted(y1 - y0 for _, y0, _, y1 in lines)
    lines = [line for line in lines if line[3] - line[1] >= LOW_LINE_SHARE * heights[len(heights) // 2]]

    def overlap(a, b) -> int:
        return min(a[3], b[3]) - max(a[1], b[1]) if min(a[2], b[2]) > max(a[0], b[0]) else 0

    def covers(box, line) -> bool:  # a returned line reads a layout line
        return overlap(box, line) >= OWN_LINE_SHARE * min(box[3] - box[1], line[3] - line[1])

    def stacked(mine) -> bool:  # two of the lines one above the other, not pieces of one row
        return any(min(a[3], b[3]) - max(a[1], b[1]) < OWN_LINE_SHARE * min(a[3] - a[1], b[3] - b[1])
                   for i, a in enumerate(mine) for b in mine[i + 1:])

    merged = {key for key, box in read
              if stacked([line for line in lines if overlap(box, line) >= MERGED_SHARE * (line[3] - line[1])])}
    dropped = set()
    for key in merged:
        box = dict(read)[key]
        mine = [line for line in lines if overlap(box, line) >= MERGED_SHARE * (line[3] - line[1])]
        if any(not any(covers(other, line) for k, other in read if k != key and k not in merged) for line in mine):
            dropped.add(key)
    kept = [box for key, box in read if key not in dropped]
    again = [line for line in lines if not any(covers(box, line) for box in kept)]
    return _rows_of(again), dropped


def merges_read_whole(
    dropped: set, read: Sequence[tuple[tuple, tuple[int, int, int, int]]],
    missed: Sequence[tuple[int, int, int, int]], came_back: Sequence[tuple[int, int, int, int]],
) -> tuple[set, set]:
    """Which merged lines (``dropped``, keys of ``read`` as from
    :func:`missed_lines`) to drop once the ``missed`` layout lines were read
    alone and those in ``came_back`` gave words: only a merged line whose
    every line (each under it by :data:`MERGED_SHARE` of its height) came
    back. One that came back only in part is kept, and the readings of its
    lines are not used: its words are those of the line that did not come
    back (or of both), and dropping it lost them. Returns ``(keys to drop,
    missed lines whose readings go unused)``."""
    boxes = dict(read)
    back = set(came_back)
    keep, unused = set(dropped), set()
    for key in dropped:
        x0, y0, x1, y1 = boxes[key]
        mine = [line for line in missed if min(x1, line[2]) > max(x0, line[0])
                and min(y1, line[3]) - max(y0, line[1]) >= MERGED_SHARE * (line[3] - line[1])]
        if any(line not in back for line in mine):
            keep.discard(key)
            unused.update(mine)
    return keep, unused


def _rows_of(lines) -> list[tuple[int, int, int, int]]:
    """Layout lines side by side on one row (pieces of a line broken at a
    gap) joined into one box each, top to bottom."""
    rows: list[list[int]] = []
    for x0, y0, x1, y1 in sorted(lines, key=lambda b: (b[1], b[0])):
        for row in rows:
            if min(row[3], y1) - max(row[1], y0) >= OWN_LINE_SHARE * min(row[3] - row[1], y1 - y0):
                row[:] = [min(row[0], x0), min(row[1], y0), max(row[2], x1), max(row[3], y1)]
                break
        else:
            rows.append([x0, y0, x1, y1])
    return sorted((tuple(row) for row in rows), key=lambda b: (b[1], b[0]))


def _whole_lines(lines):
    """The layout's lines without those lying mostly (:data:`PIECE_SHARE` of
    their area) inside a longer one: pieces the layout also kept whole."""
    def area(b) -> int:
        return max(0, b[2] - b[0]) * max(0, b[3] - b[1])

    def inside(a, b) -> int:
        return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))

    return [a for a in lines
            if not any(b is not a and area(b) > area(a) and inside(a, b) >= PIECE_SHARE * area(a) for b in lines)]


def _line_rectangle(line, region: Region) -> tuple[int, int, int, int]:
    """A layout line's box, padded, within its region: ``(x0, y0, x1, y1)``."""
    x0, y0, x1, y1 = line
    pad_y = LINE_PAD_SHARE * (y1 - y0)
    pad_x = LINE_X_PAD_SHARE * (y1 - y0)
    return (max(region.x, int(x0 - pad_x)), max(region.y, int(y0 - pad_y)),
            min(region.x + region.w, int(math.ceil(x1 + pad_x))), min(region.y + region.h, int(math.ceil(y1 + pad_y))))


def splice_lines(rows, dropped: set, readings) -> list:
    """A region's rows with the lines keyed in ``dropped`` taken out and each
    line reading ``(layout line box, its level 4-5 rows)`` put in among the
    lines by height on the page, in the block and paragraph of the line
    before it (after it, at the top); line numbers renumbered per paragraph."""
    head: list = []  # levels 1-3
    units: list[list] = []  # one per line: its level 4 row and word rows
    for fields, choice in rows:
        level = fields[0]
        if level in ("1", "2", "3"):
            head.append((fields, choice))
            continue
        key = (fields[2], fields[3], fields[4])
        if key in dropped:
            continue
        if level == "4" or not units or (units[-1][0][0][2], units[-1][0][0][3], units[-1][0][0][4]) != key:
            units.append([])
        units[-1].append((list(fields), choice))

    def middle(unit) -> float:
        tops = [int(f[7]) + int(f[9]) / 2 for f, _ in unit if f[0] == "5" and f[11].strip()]
        return sum(tops) / len(tops) if tops else float(int(unit[0][0][7]) + int(unit[0][0][9]) / 2)

    for line, line_rows in readings:
        centre = (line[1] + line[3]) / 2
        at = len(units)
        for i, unit in enumerate(units):
            if middle(unit) > centre:
                at = i
                break
        neighbour = units[at - 1] if at > 0 else (units[at] if units else None)
        block, par = (neighbour[0][0][2], neighbour[0][0][3]) if neighbour else ("1", "1")
        unit = []
        for fields, choice in line_rows:
            fields = list(fields)
            fields[2], fields[3] = block, par
            unit.append((fields, choice))
        units.insert(at, unit)
    numbers: dict = {}
    out = list(head)
    for unit in units:
        block, par = unit[0][0][2], unit[0][0][3]
        numbers[(block, par)] = numbers.get((block, par), 0) + 1
        for fields, choice in unit:
            fields[4] = str(numbers[(block, par)])
            out.append((fields, choice))
    return out


def _choices_on_demand(api, tsv: str, wanted: WordFilter, width: int, height: int, *, deadline: float,
                       timeout_s: float) -> tuple[WordChoices | None, ...]:
    """Each word row of ``tsv`` with its symbols' alternatives when ``wanted(text, confidence)`` says
    they are needed (most words of a clean page are not): that word's box alone is read again as one
    word with the alternatives on; None for the others, and for a word that reads differently alone
    (its alternatives would not line up with the page's reading). Asking for every word's alternatives
    during the page's reading costs 15–30 % more of tesseract's time; a clean page has a few doubtful
    words, read again here for 2–3 %."""
    import tesserocr

    out: list[WordChoices | None] = []
    asked = False
    try:
        for row in tsv.splitlines():
            fields = row.split("\t", 11)
            if len(fields) < 12 or fields[0] != "5":
                continue
            text = unicodedata.normalize("NFC", fields[11].strip())
            try:
                confidence = float(fields[10])
                x, y, w, h = (int(v) for v in fields[6:10])
            except ValueError:
                out.append(None)
                continue
            if not text or not wanted(text, confidence):
                out.append(None)
                continue
            if not asked:
                api.SetVariable("lstm_choice_mode", "2")
                api.SetPageSegMode(PSM_SINGLE_WORD)
                asked = True
            remaining_ms = math.floor((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                raise OcrTimeout(timeout_s)
            pad = max(2, round(h * 0.1))  # a tenth of the word's height: read alone it reads most like the page
            x0, y0 = max(0, x - pad), max(0, y - pad)
            api.SetRectangle(x0, y0, min(width, x + w + pad) - x0, min(height, y + h + pad) - y0)
            found = None
            if api.Recognize(timeout=remaining_ms):
                iterator = api.GetIterator()
                level = tesserocr.RIL.WORD
                read = [] if iterator is None else [
                    (unicodedata.normalize("NFC", word.GetUTF8Text(level) or ""), word.GetBestLSTMSymbolChoices() or ())
                    for word in tesserocr.iterate_level(iterator, level) if not word.Empty(level)]
                if len(read) == 1 and read[0][0] == text:
                    found = word_choices(text, read[0][1])
            out.append(found)
    finally:
        if asked:
            api.SetVariable("lstm_choice_mode", "0")
    return tuple(out)


def _word_choices(api, tsv: str) -> tuple[WordChoices | None, ...]:
    """Each word row of ``tsv`` (level 5) with its symbols' alternatives,
    found by walking tesseract's result iterator and matching word boxes."""
    import tesserocr

    found: dict[tuple[int, int, int, int], list[WordChoices | None]] = {}
    iterator = api.GetIterator()
    if iterator is not None:
        level = tesserocr.RIL.WORD
        for word in tesserocr.iterate_level(iterator, level):
            if word.Empty(level):
                continue
            box = word.BoundingBox(level)
            if box is None:
                continue
            left, top, right, bottom = box
            text = unicodedata.normalize("NFC", word.GetUTF8Text(level) or "")
            choices = word_choices(text, word.GetBestLSTMSymbolChoices() or ())
            found.setdefault((left, top, right - left, bottom - top), []).append(choices)
    out: list[WordChoices | None] = []
    for row in tsv.splitlines():
        fields = row.split("\t", 11)
        if len(fields) < 12 or fields[0] != "5":
            continue
        try:
            key = tuple(int(v) for v in fields[6:10])
        except ValueError:
            key = None
        queue = found.get(key) if key else None
        out.append(queue.pop(0) if queue else None)
    return tuple(out)


def word_choices(word: str, steps) -> WordChoices | None:
    """A word's alternatives from tesseract's ``GetBestLSTMSymbolChoices()``
    (one list of ``(text, rating)`` per symbol, after a blank step when the
    word follows a space): one :data:`SymbolChoices` per symbol, the symbol
    tesseract chose first, the others by rating; None when they cannot be
    lined up with ``word`` (NFC) as tesseract reported it."""
    symbols: list[dict[str, float]] = []
    for step in steps:
        options: dict[str, float] = {}
        for text, rating in step:
            text = unicodedata.normalize("NFC", text or "")
            if text and (text not in options or rating < options[text]):
                options[text] = float(rating)
        if not options:
            return None
        symbols.append(options)
    if symbols and not min(symbols[0], key=symbols[0].get).strip():
        symbols = symbols[1:]  # the space before the word
    if not symbols:
        return None
    bests = [min(options, key=options.get) for options in symbols]
    if "".join(bests) == word:
        chosen = bests
    elif len(word) == len(symbols):
        # the final decoding (helped by the dictionary) overruled a step's raw best
        chosen = list(word)
    else:
        return None
    if any(text not in options for text, options in zip(chosen, symbols)):
        return None
    return tuple(
        ((text, options[text]),) + tuple(sorted(((t, r) for t, r in options.items() if t != text), key=lambda tr: tr[1]))
        for text, options in zip(chosen, symbols)
    )


def _name(image: Image.Image | Path) -> str:
    return image.name if isinstance(image, Path) else "the page image"


# --------------------------------------------------------------------- the TSV
def merge_tsv(tsvs: Sequence[str], width: int, height: int) -> str:
    """One TSV (header, one page row of ``width`` × ``height``) from the
    readings of several regions of the same image, in order: each region's
    blocks are renumbered after the previous region's, so block numbers
    follow the region order. Boxes are left as they are (tesseract gives
    them in full-image pixels even when it read a rectangle)."""
    rows = [TSV_HEADER, f"1\t1\t0\t0\t0\t0\t0\t0\t{width}\t{height}\t-1\t"]
    offset = 0
    for tsv in tsvs:
        last = 0
        for row in tsv.splitlines():
            fields = row.split("\t", 11)
            if len(fields) < 12 or not fields[0].isdigit() or fields[0] == "1":
                continue  # the header, the page row, or a malformed row
            try:
                block = int(fields[2])
            except ValueError:
                continue
            last = max(last, block)
            fields[2] = str(offset + block)
            rows.append("\t".join(fields))
        offset += last
    return "\n".join(rows) + "\n"


def clip_regions(regions: Sequence[Region], width: int, height: int) -> tuple[Region, ...]:
    """Regions cut to a ``width`` × ``height`` image; those left empty are dropped."""
    clipped = []
    for region in regions:
        x0, y0 = max(0, int(region.x)), max(0, int(region.y))
        x1, y1 = min(width, int(region.x + region.w)), min(height, int(region.y + region.h))
        if x1 > x0 and y1 > y0:
            clipped.append(replace(region, x=x0, y=y0, w=x1 - x0, h=y1 - y0))
    return tuple(clipped)


# ------------------------------------------------------------- the program
def child_env() -> dict[str, str]:
    """The environment for a tesseract child: ours, single-threaded."""
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def run_tesseract(args: list[str], *, timeout_s: float) -> subprocess.CompletedProcess:
    """Run ``PROGRAM *args``; kill it (and anything it started) after ``timeout_s``.

    Raises :class:`TesseractMissing` when the program cannot be started and
    :class:`OcrTimeout` when it runs too long. The exit status is left to the
    caller.
    """
    program = PROGRAM
    try:
        proc = subprocess.Popen(
            [program, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            start_new_session=True,  # its own process group, so a kill takes all of it
        )
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise TesseractMissing(program) from exc
    except PermissionError as exc:
        raise TesseractMissing(program, "permission denied") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise OcrTimeout(timeout_s) from None
    except BaseException:  # e.g. KeyboardInterrupt: never leave an orphan
        _kill_group(proc)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stderr_tail(stderr: str, max_chars: int = STDERR_TAIL_CHARS) -> str:
    """The last lines of tesseract's stderr, without its routine chatter."""
    lines = [
        line
        for line in stderr.splitlines()
        if line.strip()
        and not line.startswith("Estimating resolution")
        and not line.startswith("Warning. Invalid resolution")
    ]
    return " | ".join(lines)[-max_chars:]


# --------------------------------------------------------------------- probing
def tesseract_version() -> str:
    """The version of the tesseract that reads the pages, e.g. ``"5.5.4"``
    (the library's in process, the program's otherwise); probed once."""
    tesserocr = _tesserocr()
    if tesserocr is not None:
        with _probe_lock:
            if "tesserocr" not in _versions:
                match = re.search(r"tesseract\s+v?(\S+)", tesserocr.tesseract_version())
                _versions["tesserocr"] = match.group(1) if match else "unknown"
            return _versions["tesserocr"]
    program = PROGRAM
    with _probe_lock:
        if program not in _versions:
            result = run_tesseract(["--version"], timeout_s=PROBE_TIMEOUT_S)
            match = re.search(r"tesseract\s+v?(\S+)", result.stdout + result.stderr)
            if result.returncode != 0 or not match:
                raise TesseractMissing(
                    program, f"'--version' answered {stderr_tail(result.stdout + result.stderr)!r}"
                )
            _versions[program] = match.group(1)
        return _versions[program]


def available_languages() -> tuple[str, ...]:
    """The installed language models, sorted (``osd`` included), probed once:
    the models in :func:`tessdata_dir` in process, else what the program lists."""
    key = "tesserocr" if in_process() else PROGRAM
    if key == "tesserocr":
        folder = tessdata_dir()
        with _probe_lock:
            if key not in _languages:
                _languages[key] = tuple(sorted(
                    p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob("*.traineddata")
                ))
            return _languages[key]
    with _probe_lock:
        if key not in _languages:
            result = run_tesseract(["--list-langs"], timeout_s=PROBE_TIMEOUT_S)
            if result.returncode != 0:
                raise TesseractMissing(key, stderr_tail(result.stderr))
            lines = result.stdout.splitlines()
            # first line: 'List of available languages in "/usr/share/...tessdata/" (5):'
            names = [line.strip() for line in lines[1:] if line.strip()]
            _languages[key] = tuple(sorted(names))
        return _languages[key]


def split_languages(languages: str) -> tuple[str, ...]:
    """``"vie+fra"`` -> ``("vie", "fra")``; rejects malformed names."""
    names = tuple(part.strip() for part in languages.split("+"))
    for name in names:
        if not _LANGUAGE_NAME.match(name):
            raise LanguageMissing(name or languages)
    return names


def check_languages(languages: str) -> None:
    """Raise :class:`LanguageMissing` naming the first requested model that is
    not installed, with the Debian package that provides it."""
    names = split_languages(languages)
    installed = available_languages()
    for name in names:
        if name not in installed:
            raise LanguageMissing(name, installed)


def clear_probe_cache() -> None:
    """Forget the probed version, languages and model folder (after
    installing a model); every thread loads its models afresh."""
    global _generation
    with _probe_lock:
        _versions.clear()
        _languages.clear()
        _tessdata.clear()
        _generation += 1


# ----------------------------------------------------------------------- pages
def detect_orientation(image: Image.Image | Path, *, timeout_s: float) -> Orientation:
    """Ask tesseract's OSD which way up the page is (best on a page shrunk
    to a few megapixels).

    A page with too little text for OSD to judge is reported upright with
    confidence 0.
    """
    check_languages("osd")
    if in_process():
        api = _api("osd")
        try:
            api.SetPageSegMode(OSD_PSM)
            _set_image(api, _open(image))
            found = api.DetectOrientationScript()
        finally:
            api.Clear()
        if not found:
            return Orientation(0, 0.0, "")
        # tesseract reports how the page is turned; undoing it is the opposite turn
        return Orientation((360 - int(found["orient_deg"])) % 360, float(found["orient_conf"]),
                           str(found.get("script_name") or ""))
    with _file_for_program(image, "osd") as (path, _):
        result = run_tesseract([str(path), "-", "--psm", "0"], timeout_s=timeout_s)
    if result.returncode != 0:
        tail = stderr_tail(result.stderr)
        if "Too few characters" in result.stderr or "too few" in tail.lower():
            return Orientation(0, 0.0, "")
        raise OcrFailed(f"tesseract could not judge the orientation of {_name(image)}", tail)
    rotate = re.search(r"^Rotate:\s*(\d+)", result.stdout, re.MULTILINE)
    confidence = re.search(r"^Orientation confidence:\s*([\d.]+)", result.stdout, re.MULTILINE)
    script = re.search(r"^Script:\s*(\S+)", result.stdout, re.MULTILINE)
    if not rotate:
        return Orientation(0, 0.0, "")
    return Orientation(
        int(rotate.group(1)) % 360,
        float(confidence.group(1)) if confidence else 0.0,
        script.group(1) if script else "",
    )


def recognise(
    image: Image.Image | Path,
    *,
    languages: str,
    psm: int = 3,
    timeout_s: float,
    dpi: int | None = None,
    regions: Sequence[Region] = (),
    choices: bool | WordFilter = False,
    config: dict[str, str] | None = None,
    model: str = FAST,
) -> OcrOutput:
    """Read a page (a PIL image, "L", "1" or "RGB", or an image file) and
    return tesseract's TSV.

    Without ``regions`` the whole page is read with ``psm``. With them, each
    region is read in turn with its own psm on the same image (in process:
    ``SetRectangle`` + ``SetPageSegMode``, nothing copied) and the TSV is one
    merged page: block numbers follow the region order, boxes are pixels of
    the whole image. A psm 6 region with ``lines`` (the layout's line boxes)
    has the lines its reading left out read alone and spliced in, in order
    (in process only: :func:`_reread_missed_lines`). ``dpi`` tells tesseract the resolution (it guesses from
    the text size otherwise). ``choices=True`` adds each word's symbol
    alternatives (in process only: the program's run gives None); it costs
    15–30 % more CPU. ``choices=wanted`` (a :data:`WordFilter`) gives them only
    for the words ``wanted(text, confidence)`` picks, each read again alone
    (:func:`_choices_on_demand`); None for the others. ``config`` sets tesseract variables for this
    reading only. ``timeout_s`` bounds the whole reading, every region
    included. ``model``: :data:`FAST` (the system's models) or :data:`BEST` (the larger ones of
    :data:`BEST_MODELS_DIR`, where :func:`best_models` finds them).

    Raises LanguageMissing, TesseractMissing, OcrTimeout, OcrFailed.
    """
    check_languages(languages)
    _models_dir(model, languages)  # a model asked for and not installed is refused before any work
    if in_process():
        return _recognise_in_process(image, languages=languages, psm=psm, timeout_s=timeout_s, dpi=dpi,
                                     regions=regions, choices=choices, config=config, model=model)
    return _recognise_with_program(image, languages=languages, psm=psm, timeout_s=timeout_s, dpi=dpi,
                                   regions=regions, config=config, model=model)


# --------------------------------------------------- the program, page by page
class _file_for_program:
    """A context giving ``(path, size)`` of the page as a file the program can
    read: the file itself, or a PNG of a PIL image in a temporary folder."""

    def __init__(self, image: Image.Image | Path, stem: str, dpi: int | None = None):
        self.image, self.stem, self.dpi = image, stem, dpi
        self.folder: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> tuple[Path, tuple[int, int]]:
        if isinstance(self.image, Path):
            try:
                with Image.open(self.image) as opened:
                    size = opened.size
            except OSError:
                size = (0, 0)  # let tesseract say what is wrong with it
            return self.image, size
        from digitize.images import save_png

        self.folder = tempfile.TemporaryDirectory(prefix="tesseract-")
        path = save_png(self.image, Path(self.folder.name) / f"{self.stem}.png", dpi=self.dpi)
        return path, self.image.size

    def __exit__(self, *exc) -> None:
        if self.folder is not None:
            self.folder.cleanup()


def _recognise_with_program(
    image: Image.Image | Path,
    *,
    languages: str,
    psm: int,
    timeout_s: float,
    dpi: int | None,
    regions: Sequence[Region],
    config: dict[str, str] | None,
    model: str = FAST,
) -> OcrOutput:
    """The program over the page: one run, with the regions as a UNLV zone
    file (``.uzn``) when they share one non-automatic psm; otherwise one run
    per region, on a copy cut out of the page."""
    deadline = time.monotonic() + timeout_s
    if regions:
        image = _open(image)  # the zone file goes beside a copy we own
    with _file_for_program(image, "page", dpi) as (path, (width, height)):
        wanted = clip_regions(regions, width, height) if regions else ()
        psms = {r.psm for r in wanted}
        if not wanted or (len(psms) == 1 and not psms & AUTOMATIC_PSMS):
            if wanted:
                path.with_suffix(".uzn").write_text(
                    "".join(f"{r.x} {r.y} {r.w} {r.h} Text\n" for r in wanted), encoding="utf-8")
            out = recognise_file(path, path.with_name("out"), languages=languages,
                                 psm=wanted[0].psm if wanted else psm, timeout_s=timeout_s, dpi=dpi, config=config,
                                 model=model)
            return replace(out, tsv=merge_tsv([out.tsv], width, height) if width else out.tsv)
        tsvs = []
        for number, region in enumerate(wanted):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise OcrTimeout(timeout_s)
            crop = image.crop((region.x, region.y, region.x + region.w, region.y + region.h))
            with _file_for_program(crop, f"region-{number}", dpi) as (crop_path, _):
                out = recognise_file(crop_path, crop_path.with_name(f"region-{number}"), languages=languages,
                                     psm=region.psm, timeout_s=remaining, dpi=dpi, config=config, model=model)
            tsvs.append(_shift_tsv(out.tsv, region.x, region.y))
        return OcrOutput(tsv=merge_tsv(tsvs, width, height))


def _shift_tsv(tsv: str, dx: int, dy: int) -> str:
    rows = []
    for row in tsv.splitlines():
        fields = row.split("\t", 11)
        if len(fields) == 12 and fields[0].isdigit():
            try:
                fields[6] = str(int(fields[6]) + dx)
                fields[7] = str(int(fields[7]) + dy)
            except ValueError:
                pass
        rows.append("\t".join(fields))
    return "\n".join(rows)


def recognise_file(
    image_path: Path,
    output_base: Path,
    *,
    languages: str,
    psm: int,
    timeout_s: float,
    dpi: int | None = None,
    config: dict[str, str] | None = None,
    outputs: tuple[str, ...] = ("tsv",),
    model: str = FAST,
) -> OcrOutput:
    """Read one image file with ONE run of the program, writing every format
    in ``outputs`` (``tsv`` always; ``hocr``, ``alto``, ``txt`` on request)
    to ``output_base`` + ``.tsv``, ``.hocr``, ``.xml``, ``.txt``.

    Each extra format costs tesseract CPU (up to 5 % each on a dense page),
    which is why the pipeline asks for TSV alone and writes hOCR and ALTO
    itself.

    With a non-automatic ``psm`` (4 and above) tesseract reads zones from
    ``image_path`` with its suffix replaced by ``.uzn`` when that file exists.
    ``dpi`` tells tesseract the resolution when the image file does not.
    """
    check_languages(languages)
    wanted = ("tsv",) + tuple(o for o in outputs if o != "tsv")
    unknown = [o for o in wanted if o not in OUTPUT_SUFFIXES]
    if unknown:
        raise ValueError(f"unknown tesseract outputs: {unknown}")
    args = [str(image_path), str(output_base), "-l", languages, "--psm", str(int(psm))]
    if model != FAST:
        args += ["--tessdata-dir", str(_models_dir(model, languages))]
    if dpi:
        args += ["--dpi", str(int(dpi))]
    for key, value in (config or {}).items():
        args += ["-c", f"{key}={value}"]
    args += list(wanted)
    result = run_tesseract(args, timeout_s=timeout_s)
    if result.returncode != 0:
        raise OcrFailed(
            f"tesseract failed on {image_path.name} (exit status {result.returncode})",
            stderr_tail(result.stderr),
        )
    texts: dict[str, str] = {}
    for output in wanted:
        path = output_base.with_name(output_base.name + "." + OUTPUT_SUFFIXES[output])
        try:
            texts[output] = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise OcrFailed(
                f"tesseract wrote no {output} output for {image_path.name}",
                stderr_tail(result.stderr),
            ) from None
    return OcrOutput(stderr=result.stderr, **texts)
