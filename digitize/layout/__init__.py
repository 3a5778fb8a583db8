"""Automatic layout analysis for newspapers and magazines (no zone file).

Finds the columns, headlines, text blocks, rules, captions and pictures of
a page, orders them for reading (columns top to bottom, left to right; a
headline before the columns under it) and says how to read each (tesseract
page segmentation mode). A classical method on a small copy of the page:
connected components, whitespace between columns, lines stacked into
blocks, Breuel's reading-order rules. See :mod:`digitize.layout.analyse`.

    from digitize.layout import analyse_layout
    layout = analyse_layout(page_image, dpi=300)
    if layout.multi_column:
        for region in layout.reading_regions():
            ...  # read region.x, .y, .w, .h with tesseract --psm region.psm
"""

from digitize.layout.analyse import analyse_layout, group_articles
from digitize.layout.regions import (
    CAPTION,
    FURNITURE,
    HEADLINE,
    IMAGE,
    KINDS,
    RULE,
    TEXT,
    PageLayout,
    Region,
)

__all__ = [
    "CAPTION",
    "FURNITURE",
    "HEADLINE",
    "IMAGE",
    "KINDS",
    "RULE",
    "TEXT",
    "PageLayout",
    "Region",
    "analyse_layout",
    "group_articles",
]
