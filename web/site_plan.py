"""A plan of the site for the monuments page when no map tiles are configured: the monuments placed by
their coordinates on a plain drawing, with a north arrow and a scale bar, drawn by the server as SVG
(web/templates/site_plan.html), so it needs no script, no tile server and no network.

The geometry is here and pure (no Flask, no catalogue): a local equirectangular projection around the
middle of the points, fitted into a fixed viewBox with margins and the aspect ratio kept; a round scale
bar; the names placed beside their markers without leaving the drawing or covering one another. The
names are plain strings: the template escapes them."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Sequence

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG), as in the haversine formula
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180  # along a meridian, and along the equator

WIDTH, HEIGHT = 400.0, 300.0  # the viewBox; CSS scales it to the page's width
# where markers may go: inside the margins, above the bottom strip that holds the scale bar and the arrow
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 24.0, WIDTH - 24.0, 30.0, HEIGHT - 58.0
MIN_SPAN_M = 600.0  # the plan never shows less ground across than this: one monument sits in ~600 m
FONT_SIZE = 14.0  # the labels', in viewBox units (site.css keeps the drawing narrow enough to read them)
# the advance of each character in Noto Sans Regular (the page's font), in em, rounded up by group (read from
# the font's hmtx table); a letter with diacritics counts as its base letter plus DIACRITIC (ơ, ư are wider)
_ADVANCES = ((".,:;!'ijlJ ", 0.27), ("()[]-fIt/", 0.37), ('r"?_', 0.44), ("zcs–", 0.5), ("vyFLkx", 0.53),
             ("S*|aeETYZ0123456789<>+X=", 0.59), ("oPVbdgpqhnuKRđCAB#$~^", 0.65), ("DGU&ĐHN", 0.76),
             ("OQw", 0.79), ("%", 0.83), ("@MWm—…", 1.0))
EM = {ch: em for chars, em in _ADVANCES for ch in chars}
DIACRITIC, OTHER, WIDE = 0.06, 0.7, 1.0  # WIDE: Hán and Nôm characters, full width
PAD = 4.0  # labels keep this far from the drawing's edges
MARKER_R = 6.0
LABEL_GAP = MARKER_R + 4.0
SCALE_STEPS_M = (10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
SCALE_TARGET = 0.29  # of the width: the bar is chosen near the middle of ¼–⅓
SCALE_X, SCALE_Y = 16.0, HEIGHT - 14.0  # the scale bar's left end and line
NORTH_X, NORTH_Y = WIDTH - 26.0, HEIGHT - 48.0  # the arrow's "N" (its tip just below it)


@dataclass(frozen=True)
class Place:
    """What the caller wants drawn: a name, where it links, and where it is (WGS 84 degrees)."""

    name: str
    href: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class ScaleBar:
    metres: int
    length: float  # in viewBox units
    label: str  # "200 m", "1 km"


@dataclass(frozen=True)
class Label:
    text: str  # shortened with "…" when the whole name could not fit in the drawing
    x: float
    y: float  # the baseline
    anchor: str  # SVG text-anchor: start, middle or end
    crowded: bool  # no free place was found: shown only while its link is pointed at or focused


@dataclass(frozen=True)
class Mark:
    name: str
    href: str
    x: float
    y: float
    label: Label


@dataclass(frozen=True)
class Plan:
    marks: list[Mark]
    scale: ScaleBar
    width: float = WIDTH
    height: float = HEIGHT
    north: tuple[float, float] = (NORTH_X, NORTH_Y)
    scale_at: tuple[float, float] = (SCALE_X, SCALE_Y)
    font_size: float = FONT_SIZE
    marker_r: float = MARKER_R
    unplaced: int = field(default=0)  # places without coordinates, left off the drawing


def _wrap(delta_lon: float) -> float:
    """A difference of longitudes in [−180, 180), so a site across the antimeridian stays together."""
    return (delta_lon + 180.0) % 360.0 - 180.0


def project(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    """Metres east and metres south (SVG's y grows downwards) of (lat0, lon0): a local equirectangular
    projection, x = (lon − lon0)·cos(lat0), y = −(lat − lat0), in metres of arc."""
    return (_wrap(lon - lon0) * math.cos(math.radians(lat0)) * METRES_PER_DEGREE,
            -(lat - lat0) * METRES_PER_DEGREE)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance in metres, to check the projection's scale against."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def scale_bar(units_per_metre: float, width: float = WIDTH) -> ScaleBar:
    """The round length (10 m, 20 m, 50 m … 1 km, 2 km, 5 km …) whose bar is nearest to ~0.29 of the
    width, i.e. about a quarter to a third of it."""
    target = SCALE_TARGET * width
    metres = min(SCALE_STEPS_M, key=lambda m: abs(math.log(m * units_per_metre / target)))
    label = f"{metres // 1000} km" if metres >= 1000 else f"{metres} m"
    return ScaleBar(metres, round(metres * units_per_metre, 1), label)


def fit(points_m: Sequence[tuple[float, float]]) -> tuple[float, list[tuple[float, float]]]:
    """Viewbox units per metre, and the points (metres east, metres south) in viewBox units: as large
    as the plot area allows with the same scale on both axes, centred, never more than MIN_SPAN_M
    across (a single point lands in the middle)."""
    xs, ys = [p[0] for p in points_m], [p[1] for p in points_m]
    inner_w, inner_h = PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    scale = inner_w / MIN_SPAN_M
    if span_x > 0:
        scale = min(scale, inner_w / span_x)
    if span_y > 0:
        scale = min(scale, inner_h / span_y)
    mid_x, mid_y = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    cx, cy = (PLOT_LEFT + PLOT_RIGHT) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2
    return scale, [(cx + (x - mid_x) * scale, cy + (y - mid_y) * scale) for x, y in points_m]


def char_em(ch: str) -> float:
    """The advance of one (NFC) character in em, a little more than Noto Sans's."""
    if ch in EM:
        return EM[ch]
    base = unicodedata.normalize("NFD", ch)[0]
    if base != ch and base in EM:
        return EM[base] + DIACRITIC
    return WIDE if unicodedata.east_asian_width(ch) in ("W", "F") else OTHER


def text_width(text: str) -> float:
    """The width of a label in viewBox units, estimated from the font's advances (never much less than it is)."""
    return sum(char_em(ch) for ch in unicodedata.normalize("NFC", text)) * FONT_SIZE


def shorten(text: str, max_width: float) -> str:
    """The text (spaces collapsed), or as much of it as fits in ``max_width`` followed by "…"."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if text_width(text) <= max_width:
        return text
    room, used, end = max_width - text_width("…"), 0.0, 0
    while end < len(text) and used + char_em(text[end]) * FONT_SIZE <= room:
        used += char_em(text[end]) * FONT_SIZE
        end += 1
    return text[:max(end, 1)].rstrip() + "…"


Box = tuple[float, float, float, float]  # left, top, right, bottom


def _label_box(x: float, baseline: float, anchor: str, width: float) -> Box:
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return left, baseline - FONT_SIZE, left + width, baseline + 0.3 * FONT_SIZE  # room for stacked diacritics


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(box: Box) -> bool:
    return box[0] >= PAD and box[1] >= PAD and box[2] <= WIDTH - PAD and box[3] <= HEIGHT - PAD


def _candidates(x: float, y: float) -> list[tuple[float, float, str]]:
    """Where a label may go around its marker, the likeliest first: beside it, towards the middle of the
    drawing (a point in the right third gets its label on its left, anchored at its end), else above or
    below it."""
    right = (x + LABEL_GAP, y + 0.35 * FONT_SIZE, "start")
    left = (x - LABEL_GAP, y + 0.35 * FONT_SIZE, "end")
    above = (x, y - LABEL_GAP, "middle")
    below = (x, y + LABEL_GAP + 0.75 * FONT_SIZE, "middle")
    if x > WIDTH * 2 / 3:
        return [left, above, below, right]
    if x < WIDTH / 3:
        return [right, above, below, left]
    return [above, below, right, left]


def _shifted_inside(x: float, baseline: float, anchor: str, width: float) -> tuple[float, float]:
    """The label moved sideways (and up or down) just enough to lie inside the drawing."""
    left, top, right, bottom = _label_box(x, baseline, anchor, width)
    dx = max(0.0, PAD - left) - max(0.0, right - (WIDTH - PAD))
    dy = max(0.0, PAD - top) - max(0.0, bottom - (HEIGHT - PAD))
    return x + dx, baseline + dy


def place_labels(points: Sequence[tuple[float, float, str]], obstacles: Sequence[Box] = ()) -> list[Label]:
    """A label for each (x, y, name): the first of its candidate places (as they are, then moved just
    inside the drawing) that lies inside the drawing and covers no marker, no decoration and no label
    placed before it; failing that, the first candidate moved inside the drawing and marked crowded.
    Names too long for the drawing are shortened."""
    markers = [(x - MARKER_R - 1, y - MARKER_R - 1, x + MARKER_R + 1, y + MARKER_R + 1) for x, y, _ in points]
    taken: list[Box] = list(obstacles)
    labels = []
    for i, (x, y, name) in enumerate(points):
        text = shorten(name, WIDTH - 2 * PAD)
        width = text_width(text)
        chosen = None
        tries = _candidates(x, y)
        # as they are, then moved just inside the drawing (a long name above a point near an edge)
        tries += [(*_shifted_inside(lx, ly, anchor, width), anchor) for lx, ly, anchor in tries]
        for lx, ly, anchor in tries:
            box = _label_box(lx, ly, anchor, width)
            if (_inside(box) and not any(_overlaps(box, other) for other in taken)
                    and not any(_overlaps(box, m) for j, m in enumerate(markers) if j != i)
                    and (anchor == "middle" or not _overlaps(box, markers[i]))):
                chosen = Label(text, round(lx, 1), round(ly, 1), anchor, False)
                taken.append(box)
                break
        if chosen is None:
            lx, ly, anchor = _candidates(x, y)[0]
            lx, ly = _shifted_inside(lx, ly, anchor, width)
            chosen = Label(text, round(lx, 1), round(ly, 1), anchor, True)
        labels.append(chosen)
    return labels


def decorations(scale: ScaleBar) -> list[Box]:
    """The boxes of the scale bar (with its label) and of the north arrow, which labels keep clear of."""
    return [(SCALE_X - 2, SCALE_Y - FONT_SIZE - 8, SCALE_X + scale.length + 2, SCALE_Y + 6),
            (NORTH_X - 12, NORTH_Y - FONT_SIZE, NORTH_X + 12, NORTH_Y + 36)]


def site_plan(places: Sequence[Place]) -> Plan | None:
    """The plan of the places that have coordinates (None when none has): markers, labels, scale bar."""
    located = [p for p in places if p.lat is not None and p.lon is not None
               and math.isfinite(p.lat) and math.isfinite(p.lon)]
    if not located:
        return None
    lon_ref = located[0].lon
    lons = [lon_ref + _wrap(p.lon - lon_ref) for p in located]  # unwrapped across the antimeridian
    lats = [p.lat for p in located]
    lat0, lon0 = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    scale, xy = fit([project(p.lat, p.lon, lat0, lon0) for p in located])
    bar = scale_bar(scale)
    labels = place_labels([(x, y, p.name) for (x, y), p in zip(xy, located)], decorations(bar))
    marks = [Mark(p.name, p.href, round(x, 1), round(y, 1), label)
             for (x, y), p, label in zip(xy, located, labels)]
    return Plan(marks, bar, unplaced=len(places) - len(located))
