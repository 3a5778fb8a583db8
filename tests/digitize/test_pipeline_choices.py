"""Tesseract's symbol alternatives are asked for only where post-correction
needs them (issue #9, point 7): a page is read without them, then only the
lines holding doubtful words (not known syllables, or read with confidence
below 90) are read again with them; a hard page awaiting a second reading
is read with them at once. Readings are counted through
``digitize.tesseract.READING_HOOK``, never timed.

Pages are drawn with ``digitize.synthetic`` (FreeSerif) from the project's
held-out dev text (``bench/postcorrect_texts/dev.txt``) and short sentences
written here; see ``test_postcorrect.py`` for the blurred-scan recipe.
"""

from __future__ import annotations

import pytest

from digitize import OcrOptions, read_page, tesseract
from digitize.quality import cer
from digitize.synthetic import render_document
from tests.digitize.test_postcorrect import BLURRED_SCAN, find_font, first_page

COMMON_TEXT = "Tôi đi học ở trường làng.\nMẹ tôi bán hàng ở chợ.\nNhà tôi có một con mèo."


@pytest.fixture
def readings(monkeypatch) -> list[tesseract.ReadingRequest]:
    asked: list[tesseract.ReadingRequest] = []
    monkeypatch.setattr(tesseract, "READING_HOOK", asked.append)
    return asked


def test_a_page_without_doubtful_words_asks_for_no_alternatives(readings, tmp_path):
    page = render_document(COMMON_TEXT, pages=1, font_path=find_font("FreeSerif.ttf"), degradation=None, seed=3)[0]
    reading = read_page(page.image, options=OcrOptions(languages="vie"), work_dir=tmp_path)
    assert cer(reading.text, page.text) < 0.01, reading.text
    assert readings and not any(r.choices for r in readings), readings
    assert "postcorrect_choices" not in reading.cpu_s


def test_only_the_lines_with_doubtful_words_are_read_again(readings, tmp_path):
    page = first_page("FreeSerif.ttf", None)
    reading = read_page(page.image, options=OcrOptions(languages="vie"), work_dir=tmp_path)
    first, *again = readings
    assert not first.choices and not first.regions  # the page itself: one reading, no alternatives
    assert len(again) == 1 and again[0].choices, readings
    lines = again[0].regions
    assert 1 <= len(lines) <= len(reading.lines) // 3
    assert all(r.psm == 7 for r in lines)
    line_height = max(line.h for line in reading.lines)
    assert all(r.h <= 2 * line_height * reading.scale for r in lines), lines
    assert again[0].pixels < first.pixels / 4
    assert reading.text == reading.raw_text or reading.raw_text is None


def test_a_blurred_page_is_still_corrected_from_tesseracts_alternatives(readings, tmp_path):
    page = first_page("FreeSerif.ttf", BLURRED_SCAN)
    reading = read_page(page.image, options=OcrOptions(languages="vie"), work_dir=tmp_path)
    assert reading.raw_text is not None
    assert cer(reading.text, page.text) < cer(reading.raw_text, page.text) - 0.002
    changed = {(a, b) for a, b in zip(reading.raw_text.split(), reading.text.split()) if a != b}
    assert ("chí", "chỉ") in changed, changed
    assert any(r.choices for r in readings)


def test_line_choices_line_up_with_the_words_read(tmp_path):
    from digitize import pipeline

    page = first_page("FreeSerif.ttf", None)
    found = {}

    def spy(doubtful, context):
        result = pipeline.line_choices(doubtful, context)
        found["rows"], found["doubtful"], found["choices"] = context.rows, doubtful, result
        return result

    original = pipeline.fetch_choices
    pipeline.fetch_choices = spy
    try:
        read_page(page.image, options=OcrOptions(languages="vie"), work_dir=tmp_path)
    finally:
        pipeline.fetch_choices = original
    rows, doubtful, choices = found["rows"], found["doubtful"], found["choices"]
    assert len(choices) == len(rows)
    given = [(row, c) for row, c in zip(rows, choices) if c is not None]
    assert given, "no word of the lines read again got its alternatives"
    assert any(d for d, c in zip(doubtful, choices) if c is not None)
    for row, c in given:
        assert "".join(symbol[0][0] for symbol in c) == row.text
