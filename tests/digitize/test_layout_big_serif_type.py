"""A masthead set in a big serif face (issue #9), found on dev page 36 of
``bench/hardpages`` (kind ``newspaper3``, dev split; never the test split).

The hairline stems of its capitals (the thin uprights of N, the thin side
of A) were as long as a short rule: taken for vertical rules, they cut the
masthead into six overlapping pieces, each read alone as garbage
(``JCTH THẬN H TT A F/8Bà IIBMWE`` for ``TIN TỨC HÀ THÀNH``). With the stems
given back, the broken serifs measured small and the line was cut into four
slices as if four lines had run together; the slices, read one by one, gave
garbage too. A stem has letters as tall as itself on both sides; a line of
big letters has no thin row to cut at.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from bench.hardpages import generate_page
from digitize.layout import HEADLINE, TEXT, analyse_layout
from digitize.layout.ink import letter_stems
from digitize.layout.lines import _cut

MASTHEAD_PAGE_INDEX = 36  # dev split
PIPELINE_TEXT_HEIGHT_PX = 27  # what the pipeline measures on that page and hands the layout


def test_a_stem_between_letters_as_tall_is_no_rule():
    # components of the ink without rules: (x, y, w, h, area), label 0 the paper
    stats = np.array([[0, 0, 400, 200, 0],
                      [100, 50, 30, 41, 500],  # a letter left of the stem
                      [136, 50, 28, 40, 480],  # a letter right of it
                      [300, 20, 8, 7, 30],  # body type beside the column rule below
                      [312, 21, 8, 7, 30]])
    rules = np.array([[132, 49, 134, 90],  # a stem 41 high between two letters
                      [309, 0, 310, 200]])  # a column rule between small letters
    assert letter_stems(rules, stats).tolist() == [True, False]
    # a letter on one side only: the end of a rule beside a headline
    assert letter_stems(rules[:1], stats[:2]).tolist() == [False]


def test_a_line_of_big_letters_is_not_cut_where_every_row_is_inked():
    text = np.zeros((60, 200), np.uint8)
    text[5:55, 10:14] = 1  # stems of big capitals, 50 rows high
    text[5:55, 40:43] = 1
    text[5:8, 10:43] = 1  # a serif bar
    assert _cut(text, [10, 5, 43, 55], 20.0) == [[10, 5, 43, 55]]
    two = np.zeros((60, 200), np.uint8)
    two[5:25, 10:190] = 1  # two lines of text ...
    two[31:51, 10:190] = 1
    two[25:31, 50:52] = 1  # ... a descender touching the line under it
    parts = _cut(two, [10, 5, 190, 51], 20.0)
    assert len(parts) == 2 and parts[0][3] <= 26 and parts[1][1] >= 25


@pytest.fixture(scope="module")
def masthead_page(tmp_path_factory):
    return generate_page(tmp_path_factory.mktemp("newspaper3"), split="dev", kind="newspaper3",
                         index=MASTHEAD_PAGE_INDEX)


def test_a_serif_masthead_is_one_row_of_whole_pieces(masthead_page):
    image = Image.open(masthead_page.image_path).convert("L")
    layout = analyse_layout(image, text_height_px=PIPELINE_TEXT_HEIGHT_PX, dpi=masthead_page.dpi)
    masthead = [r for r in layout.reading_regions() if r.kind in (TEXT, HEADLINE) and r.y + r.h < 0.1 * image.height]
    assert 1 <= len(masthead) <= 2, [r.box for r in masthead]
    # whole words in each, one line each (not slices read one by one)
    assert all(r.w > 0.25 * image.width and len(r.lines) <= 1 for r in masthead), [(r.box, r.lines) for r in masthead]
