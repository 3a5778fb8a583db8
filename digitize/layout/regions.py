"""What layout analysis hands back: the regions of a page in reading order.

Boxes are pixels of the image that was analysed (``x``, ``y`` top-left,
``w``, ``h`` size). Regions to read come first, in reading order (``order``
0, 1, 2...); pictures and rules follow with ``order`` -1.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT = "text"
HEADLINE = "headline"
CAPTION = "caption"
FURNITURE = "furniture"  # running heads, folios, page numbers
IMAGE = "image"
RULE = "rule"

READ_KINDS = frozenset({TEXT, HEADLINE, CAPTION, FURNITURE})
KINDS = (TEXT, HEADLINE, CAPTION, FURNITURE, IMAGE, RULE)

PSM_BLOCK = 6  # tesseract: one uniform block of text
PSM_LINE = 7  # tesseract: one line of text
PSM_NONE = 0  # not read


@dataclass(frozen=True)
class Region:
    """One region of the page.

    ``kind`` is one of :data:`KINDS`; ``order`` the reading order over the
    regions to read (0-based; -1 for pictures and rules); ``column`` the
    page column the region starts in (0-based, None when it has none, e.g.
    a picture or a running head); ``psm`` the tesseract page segmentation
    mode to read it with (6 block, 7 single line; 0 for regions not read);
    ``article`` groups the regions of one newspaper article (0-based, None
    when no headline makes it clear). ``lines``: the text lines the layout
    found in the region, ``(x0, y0, x1, y1)`` page pixels (end exclusive),
    top to bottom; the reading checks tesseract returned each of them.
    """

    kind: str
    x: int
    y: int
    w: int
    h: int
    order: int
    column: int | None
    psm: int
    article: int | None = None
    lines: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def box(self) -> tuple[int, int, int, int]:
        """``(x0, y0, x1, y1)``, the end exclusive."""
        return (self.x, self.y, self.x + self.w, self.y + self.h)

    @property
    def is_read(self) -> bool:
        return self.kind in READ_KINDS


@dataclass(frozen=True)
class PageLayout:
    """The layout of one page.

    ``regions``: the regions to read, in reading order, then pictures and
    rules. ``columns``: how many columns of body text the page has.
    ``multi_column``: True when reading region by region should beat
    tesseract's own page segmentation (psm 3); False for single-column
    pages, blank pages and pictures. ``reasons``: short notes on how the
    decision was made (for logs and reports).
    """

    regions: tuple[Region, ...]
    columns: int
    multi_column: bool
    reasons: tuple[str, ...] = ()

    def reading_regions(self) -> tuple[Region, ...]:
        """The regions to read, in reading order."""
        return tuple(sorted((r for r in self.regions if r.is_read), key=lambda r: r.order))

    @property
    def articles(self) -> int:
        """How many articles the regions were grouped into."""
        found = {r.article for r in self.regions if r.article is not None}
        return len(found)
