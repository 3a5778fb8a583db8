"""Lines a block reading (psm 6) left out are read one by one (issue #9).

libtesseract 5.5 (tesserocr's) sometimes takes two lines of a newspaper
column for one and returns the words of only one of them, or returns no
word of a line at all; on dev page 26 of ``bench/hardpages`` (kind
``newspaper3``, dev split; never the test split) the column under the
"phòng đọc sách" headline lost its first line, "Sáng chủ nhật vừa rồi, đúng
8 giờ 30, phòng đọc", and the page was read at 13.2 % CER against plain
tesseract's 8.8 %. The layout's line boxes now go with each region, and a
line no returned line covers is read alone (psm 13) and spliced in.
"""

from __future__ import annotations

import os
import pytest
from PIL import Image

from bench.hardpages import generate_page
from digitize import tesseract
from digitize.layout import TEXT, analyse_layout
from digitize.tesseract import merges_read_whole, missed_lines, splice_lines

PAGE_INDEX = 26  # dev split


def test_a_line_nothing_covers_is_read_again():
    layout_lines = [(100, 100, 700, 140), (100, 137, 700, 178), (100, 175, 700, 215)]
    read = [(("1", "1", "1"), (100, 140, 700, 176)), (("1", "1", "2"), (100, 177, 700, 214))]
    again, dropped = missed_lines(layout_lines, read)
    assert again == [(100, 100, 700, 140)] and dropped == set()


def test_a_returned_line_two_lines_tall_is_dropped_and_both_read_again():
    layout_lines = [(100, 100, 700, 140), (100, 137, 700, 178), (100, 175, 700, 215)]
    read = [(("1", "1", "1"), (100, 99, 700, 178)), (("1", "1", "2"), (100, 177, 700, 214))]
    again, dropped = missed_lines(layout_lines, read)
    assert again == [(100, 100, 700, 140), (100, 137, 700, 178)] and dropped == {("1", "1", "1")}


def test_pieces_of_one_row_are_neither_a_merge_nor_read_apart():
    # a faded word broke the layout's line in two; tesseract read the row whole
    pieces = [(100, 100, 300, 140), (380, 101, 700, 140), (100, 140, 700, 180)]
    read = [(("1", "1", "1"), (100, 100, 700, 140))]
    again, dropped = missed_lines(pieces, read)
    assert dropped == set() and again == [(100, 140, 700, 180)]
    # both pieces missed: read as one row
    again, _ = missed_lines(pieces, [(("1", "1", "1"), (100, 140, 700, 180))])
    assert again == [(100, 100, 700, 140)]


def test_a_merged_line_stays_when_only_one_of_its_lines_comes_back():
    """A returned line two lines tall is dropped only when both its lines,
    read alone, came back with words: dropped after one of them came back
    empty, its words (those of the other line, or of both) were lost."""
    layout_lines = [(100, 100, 700, 140), (100, 137, 700, 178), (100, 175, 700, 215)]
    read = [(("1", "1", "1"), (100, 99, 700, 178)), (("1", "1", "2"), (100, 177, 700, 214))]
    again, dropped = missed_lines(layout_lines, read)
    # both came back: the merged line goes, both readings are used
    assert merges_read_whole(dropped, read, again, again) == ({("1", "1", "1")}, set())
    # only the first came back: the merged line stays, neither reading is used
    kept, unused = merges_read_whole(dropped, read, again, again[:1])
    assert kept == set() and unused == set(again)
    # a line nobody read, beside the merge, is not held back with it
    lonely = (100, 300, 700, 340)
    kept, unused = merges_read_whole(dropped, read, again + [lonely], again[:1] + [lonely])
    assert kept == set() and lonely not in unused


def test_an_empty_reading_is_left_empty():
    assert missed_lines([(0, 0, 100, 20)], []) == ([], set())


def test_a_line_reading_is_spliced_in_by_height_and_renumbered():
    def row(level, line, top, text="", conf="90"):
        return ([str(level), "1", "1", "1", str(line), "1" if level == 5 else "0", "10", str(top), "50", "30",
                 conf if level == 5 else "-1", text], ("c", text) if level == 5 else None)

    rows = [row(2, 0, 100), row(3, 0, 100), row(4, 1, 140), row(5, 1, 140, "hai"), row(4, 2, 180),
            row(5, 2, 180, "ba")]
    line = [row(4, 1, 100), row(5, 1, 100, "một", "80")]
    spliced = splice_lines(rows, set(), [((10, 100, 60, 130), line)])
    words = [(fields[11], fields[4], choice) for fields, choice in spliced if fields[0] == "5"]
    assert words == [("một", "1", ("c", "một")), ("hai", "2", ("c", "hai")), ("ba", "3", ("c", "ba"))]
    # a dropped line goes, its words with it
    spliced = splice_lines(rows, {("1", "1", "1")}, [((10, 100, 60, 130), line)])
    assert [f[11] for f, _ in spliced if f[0] == "5"] == ["một", "ba"]


@pytest.fixture(scope="module")
def lost_line_region(tmp_path_factory):
    """Dev page 26 and its text region whose first line tesseract lost."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    page = generate_page(tmp_path_factory.mktemp("newspaper3"), split="dev", kind="newspaper3", index=PAGE_INDEX)
    image = Image.open(page.image_path).convert("L")
    layout = analyse_layout(image, dpi=page.dpi)
    regions = [r for r in layout.reading_regions()
               if r.kind == TEXT and r.x < image.width / 3 and r.y > image.height * 0.6]
    assert regions, "the layout no longer finds the lower left column of dev page 26"
    r = max(regions, key=lambda r: r.h)
    assert len(r.lines) >= 20  # the layout hands its line boxes over
    return image, page, tesseract.Region(r.x, r.y, r.w, r.h, r.psm, r.kind, r.article, r.lines)


def _words(output: tesseract.OcrOutput) -> list[str]:
    return [row.split("\t")[11] for row in output.tsv.splitlines() if row.startswith("5\t")]


def test_the_lost_first_line_is_read_and_comes_first(lost_line_region):
    image, page, region = lost_line_region
    out = tesseract.recognise(image, languages="vie", timeout_s=60, dpi=page.dpi, regions=[region], choices=True)
    words = _words(out)
    text = " ".join(words)
    assert text.startswith("Sáng chủ nhật vừa rồi"), text[:120]
    assert text.count("sách bình dân ở số 47") == 1  # the second line, not read twice
    assert text.index("Sáng chủ nhật") < text.index("sách bình dân")
    # the word alternatives still line up with the words
    assert out.choices is not None and len(out.choices) == len(words)
    for word, choices in zip(words, out.choices):
        if choices is not None:
            assert "".join(symbol[0][0] for symbol in choices) == word
