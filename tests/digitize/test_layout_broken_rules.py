"""Column rules that binarise broken (issue #9), found on dev pages of
``bench/hardpages`` (kind ``newspaper3``, dev split; never the test split):

- dev page 34: the faint rule between columns 0 and 1 was drawn on past its
  end only while body text stood on both sides of it, row by row; a
  paragraph's short last line and the space after it left column 0 bare
  beside it for a line or two, so it stopped there, and the last lines of
  the section ran on across the gutter into column 1 (two "headlines" a
  line high, three columns wide). The page read at 17.7 % CER against plain
  tesseract's 9.6 %. A bare stretch of at most ``FLANK_HOLE_CHARS`` between
  flanked rows no longer stops it;
- dev page 35: the rule between columns 1 and 2 binarised as stretches
  shorter than a rule must be (each shorter than ``RULE_MIN_CHARS``, some
  taken for letters) and, the page having a photograph, the stretches that
  were known as rule pieces were dropped with the picture's strokes (their
  boxes were never recorded). The lines of columns 1 and 2, a hairline
  apart, ran into each other and the section was read in slivers (10.5 %
  CER against plain's 7.0 %). Rule pieces keep their boxes, and pieces of a
  broken rule one above the other are joined before the rule is drawn on.
"""

from __future__ import annotations

import os

import pytest
from PIL import Image

from bench.hardpages import generate_page
from digitize import tesseract
from digitize.layout import HEADLINE, TEXT, analyse_layout
from digitize.quality import cer
from digitize.reading import tsv_words

FLANK_PAGE_INDEX = 34  # dev split: column 0's rule ends a few lines above the section's foot
BROKEN_RULE_PAGE_INDEX = 35  # dev split: the rule between columns 1 and 2 binarised in pieces


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _read_by_regions(image: Image.Image, layout, dpi: float) -> str:
    regions = tuple(tesseract.Region(r.x, r.y, r.w, r.h, r.psm) for r in layout.reading_regions())
    output = tesseract.recognise(image, languages="vie", psm=3, regions=regions, timeout_s=300, dpi=dpi)
    lines: dict[tuple[int, int, int], list[str]] = {}
    for word in tsv_words(output.tsv):
        lines.setdefault((word.block_num, word.par_num, word.line_num), []).append(word.text)
    return "\n".join(" ".join(words) for words in lines.values())


def test_the_last_lines_of_a_section_stay_in_their_columns(tmp_path):
    page = generate_page(tmp_path, split="dev", kind="newspaper3", index=FLANK_PAGE_INDEX)
    image = Image.open(page.image_path).convert("L")
    layout = analyse_layout(image, dpi=page.dpi)
    third = image.width / 3
    body_line_px = 0.03 * image.height  # less than two lines of the spanning headline's type
    foot = [r for r in layout.reading_regions() if r.kind in (TEXT, HEADLINE)
            and 0.5 * image.height < r.y < 0.61 * image.height]
    across = [r.box for r in foot if r.w > 1.2 * third and r.h < body_line_px]
    assert not across, f"lines of body type read across columns: {across}"
    text = _read_by_regions(image, layout, page.dpi)
    # the last lines of columns 0 and 1 before the section's foot
    for truth in ("Buổi khai trương có ông Đốc học và đại",
                  "với nó: một lần hẹn hò, một buổi chiều ngồi"):
        assert min(cer(line, truth) for line in text.splitlines()) < 0.1, truth
    assert cer(text, page.text) < 0.11


def test_a_rule_broken_in_pieces_keeps_two_columns_apart(tmp_path):
    page = generate_page(tmp_path, split="dev", kind="newspaper3", index=BROKEN_RULE_PAGE_INDEX)
    image = Image.open(page.image_path).convert("L")
    layout = analyse_layout(image, dpi=page.dpi)
    rule_x = 1565  # the hairline between columns 1 and 2, page pixels
    section = [r for r in layout.reading_regions() if r.kind == TEXT
               and r.y + r.h > 0.4 * image.height and r.y < 0.6 * image.height]
    across = [r.box for r in section if r.x < rule_x - 30 and r.x + r.w > rule_x + 30]
    assert not across, f"text regions across the rule: {across}"
    # column 2 of the section is read whole, top to bottom, not in slivers
    right = [r for r in section if r.x > rule_x - 30]
    assert max(r.h for r in right) > 0.2 * image.height, [r.box for r in right]
    assert cer(_read_by_regions(image, layout, page.dpi), page.text) < 0.09


FADED_LINE_PAGE_INDEX = 23  # dev split: the first line of an article in column 2 broken by faded words
PIPELINE_TEXT_HEIGHT_PX = 27  # what the pipeline measures on that page and hands the layout


def test_a_line_end_cut_off_by_faded_words_joins_its_column(tmp_path):
    """On dev page 23 faded words ("tay, ít") broke the first line of the
    article under "Nghề in và sách báo quốc ngữ buổi đầu" (column 2): its
    start and its last word ("ai") were blocks of their own, and the start
    could not join the column under it, for the union took in the last word.
    Both were read apart (psm 7) and the words between lost. A few letters
    of a line's end now go with the blocks joined round them."""
    page = generate_page(tmp_path, split="dev", kind="newspaper3", index=FADED_LINE_PAGE_INDEX)
    image = Image.open(page.image_path).convert("L")
    layout = analyse_layout(image, text_height_px=PIPELINE_TEXT_HEIGHT_PX, dpi=page.dpi)
    body = [r for r in layout.reading_regions() if r.kind == TEXT]
    pieces = [r.box for r in body if r.w < 0.1 * image.width and r.y < 0.6 * image.height]
    assert not pieces, f"a piece of a line is read alone: {pieces}"
    column = [r for r in body if r.x > 0.6 * image.width and r.y < 0.36 * image.height < r.y + r.h]
    assert len(column) == 1 and column[0].y < 0.352 * image.height, [r.box for r in column]


SPLIT_PARAGRAPH_PAGE_INDEX = 48  # dev split: a paragraph of column 1 whose lines lost the same faded words


def test_a_paragraph_cut_down_a_faded_gap_is_one_block(tmp_path):
    """On dev page 48 the three lines under the salutation of "Thư gửi người
    bạn ở Huế" (column 1) all lost words to faded ink at the same place:
    the paragraph was two blocks side by side, read left half then right
    half, and the headline over them, taken for a caption straddling two
    columns, was read at the end of the page (9.5 % CER, plain 8.1 %)."""
    page = generate_page(tmp_path, split="dev", kind="newspaper3", index=SPLIT_PARAGRAPH_PAGE_INDEX)
    image = Image.open(page.image_path).convert("L")
    layout = analyse_layout(image, text_height_px=PIPELINE_TEXT_HEIGHT_PX, dpi=page.dpi)
    reading = layout.reading_regions()
    rows = [r for r in reading if r.kind == TEXT and r.x > 0.33 * image.width and r.x + r.w < 0.67 * image.width
            and r.y < 0.37 * image.height < r.y + r.h]
    assert len(rows) == 1 and rows[0].w > 0.25 * image.width, [r.box for r in rows]
    # everything over that column is read before it
    column = rows[0]
    above = [r for r in reading if r.y + r.h <= column.y + 10 and r.x < column.x + column.w and r.x + r.w > column.x]
    assert all(r.order < column.order for r in above), [(r.kind, r.box, r.order) for r in above]
